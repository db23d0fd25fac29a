import type { Channel, Contact, Conversation, DeliveryStatus, Message, Prisma, PrismaClient } from "../../generated/prisma/client.js";
import type { TransportConfig } from "../../config.js";
import { transactionWithEvents } from "../../realtime/events.js";
import { recordMessagesUpdated } from "../../services/message-events.js";

type Tx = Prisma.TransactionClient;

/** Automated (BOT) Messenger messages are allowed only within 24 hours of the customer's last message. */
export const MESSENGER_AUTOMATED_WINDOW_MS = 24 * 60 * 60 * 1000;

/** The snapshot of one Graph API send (OutboundDelivery.payload, kind GRAPH_API). */
export interface GraphPayload {
  platform: "MESSENGER" | "WHATSAPP";
  /** Messenger: the page id; WhatsApp: the phone number id. Null when unknown (the send fails and says why). */
  senderId: string | null;
  /** Messenger: the customer's PSID; WhatsApp: the customer's wa_id. */
  recipient: string | null;
  text: string;
  /** Automated message: refused once windowEndsAt has passed (Messenger's 24-hour rule). */
  automated?: boolean;
  windowEndsAt?: string;
  /** Messenger quick-reply buttons: [title, payload]. */
  quickReplies?: [string, string][];
  /** Set the page's Messenger greeting (Messenger Profile API) to `text` instead of sending a message. */
  profileGreeting?: boolean;
}

/**
 * Queues, in the caller's transaction, the Messenger greeting of a page: shown by Messenger before
 * a customer's first message. Sent by the outbound worker through the Messenger Profile API.
 */
export async function queueMessengerGreeting(tx: Tx, channel: Pick<Channel, "id" | "accountId" | "facebookPageId">, greeting: string): Promise<void> {
  const payload: GraphPayload = { platform: "MESSENGER", senderId: channel.facebookPageId, recipient: null, text: greeting, profileGreeting: true };
  await tx.outboundDelivery.create({ data: { accountId: channel.accountId, kind: "GRAPH_API", channelId: channel.id, payload: payload as unknown as Prisma.InputJsonValue } });
}

/** The text of a message as a Graph API text message: rich text flattened, attachment links appended. */
function flatText(message: Pick<Message, "text" | "richText">, attachments: { url?: string | null; name?: string | null }[] = []) {
  const body = message.text ?? (message.richText ?? "").replace(/<[^>]*>/g, "").trim();
  const links = attachments.filter((a) => a.url).map((a) => `${a.name ?? "Attachment"}: ${a.url}`);
  return [body, ...links].filter(Boolean).join("\n");
}

/** The phone number id Meta gave for a WhatsApp channel: from its settings, else from its latest inbound message. */
export async function whatsAppPhoneNumberId(tx: Tx | PrismaClient, channel: Pick<Channel, "id" | "accountId" | "settings" | "credentials">): Promise<string | null> {
  const own = (channel.settings as { phoneNumberId?: string } | null)?.phoneNumberId ?? (channel.credentials as { phoneNumberId?: string } | null)?.phoneNumberId;
  if (own) return own;
  const rows = await tx.$queryRaw<{ id: string | null }[]>`
    SELECT metadata->'whatsapp'->>'phoneNumberId' AS id FROM "Message"
     WHERE "accountId" = ${channel.accountId} AND "channelId" = ${channel.id} AND direction = 'INBOUND' AND metadata->'whatsapp' ? 'phoneNumberId'
     ORDER BY "createdAt" DESC LIMIT 1`;
  return rows[0]?.id ?? null;
}

/**
 * Builds the Graph API send of a reply through a Messenger or WhatsApp channel, in the reply
 * transaction: the recipient is the contact's handle on that channel (PSID / wa_id), else the
 * conversation's thread key on its own channel, else (WhatsApp) the contact's phone digits.
 */
export async function buildGraphPayload(
  tx: Tx,
  args: { message: Message; conversation: Conversation & { contact: Contact | null }; channel: Channel; attachments?: { url?: string | null; name?: string | null }[]; automated?: boolean; quickReplies?: [string, string][] },
): Promise<GraphPayload> {
  const { message, conversation, channel } = args;
  const handle = conversation.contactId
    ? await tx.contactHandle.findFirst({ where: { accountId: channel.accountId, channelId: channel.id, contactId: conversation.contactId }, orderBy: { id: "asc" } })
    : null;
  const own = conversation.channelId === channel.id ? conversation.threadKey : null;
  const whatsapp = channel.type === "WHATSAPP";
  const recipient = handle?.handle ?? own ?? (whatsapp && conversation.contact?.phone ? conversation.contact.phone.replace(/\D/g, "") : null);
  const last = conversation.lastInboundAt ?? conversation.createdAt;
  return {
    platform: whatsapp ? "WHATSAPP" : "MESSENGER",
    senderId: whatsapp ? await whatsAppPhoneNumberId(tx, channel) : channel.facebookPageId,
    recipient,
    text: flatText(message, args.attachments),
    ...(args.automated ? { automated: true, windowEndsAt: new Date(last.getTime() + MESSENGER_AUTOMATED_WINDOW_MS).toISOString() } : {}),
    ...(args.quickReplies ? { quickReplies: args.quickReplies } : {}),
  };
}

/** Graph API error answers carry { error: { message } }: keep it for deliveryError. */
async function graphError(res: Response): Promise<string> {
  const body = await res.text().catch(() => "");
  try {
    const message = (JSON.parse(body) as { error?: { message?: string } }).error?.message;
    if (message) return `HTTP ${res.status}: ${message}`;
  } catch {
    // not JSON
  }
  return `HTTP ${res.status}`;
}

/** A send that must not be retried (the worker marks it FAILED at once). */
export class PermanentSendError extends Error {}

/**
 * POSTs one message to {GRAPH_API_BASE_URL}/{page id | phone number id}/messages with the
 * channel's access token (credentials.accessToken) or META_ACCESS_TOKEN. Returns the id Meta gave
 * the message (message_id / messages[0].id), which becomes the message's externalId so receipts
 * find it. Throws on any failure (the worker retries), PermanentSendError when retrying is useless.
 */
export async function sendGraphMessage(config: TransportConfig, channel: Pick<Channel, "credentials"> | null, payload: GraphPayload, timeoutMs: number, now = new Date()): Promise<{ externalId: string | null }> {
  if (payload.automated && payload.windowEndsAt && now > new Date(payload.windowEndsAt)) {
    throw new PermanentSendError("Messenger allows automated messages only within 24 hours of the customer's last message");
  }
  if (!payload.senderId) throw new Error(payload.platform === "MESSENGER" ? "The channel has no Facebook page id" : "The WhatsApp phone number id is not known yet");
  const token = (channel?.credentials as { accessToken?: string } | null)?.accessToken ?? config.metaAccessToken;
  if (!token) throw new Error("No Graph API access token (channel credentials or META_ACCESS_TOKEN)");
  if (payload.profileGreeting) {
    const res = await fetch(`${config.graphApiBaseUrl}/${encodeURIComponent(payload.senderId)}/messenger_profile`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ greeting: [{ locale: "default", text: payload.text }] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw new Error(await graphError(res));
    await res.arrayBuffer().catch(() => undefined);
    return { externalId: null };
  }
  if (!payload.recipient) throw new PermanentSendError("The contact has no handle on this channel");
  const body =
    payload.platform === "MESSENGER"
      ? {
          recipient: { id: payload.recipient },
          messaging_type: "RESPONSE",
          message: { text: payload.text, ...(payload.quickReplies ? { quick_replies: payload.quickReplies.map(([title, p]) => ({ content_type: "text", title, payload: p })) } : {}) },
        }
      : { messaging_product: "whatsapp", recipient_type: "individual", to: payload.recipient, type: "text", text: { body: payload.text } };
  const res = await fetch(`${config.graphApiBaseUrl}/${encodeURIComponent(payload.senderId)}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(await graphError(res));
  const json = (await res.json().catch(() => ({}))) as { message_id?: string; messages?: { id?: string }[] };
  return { externalId: json.message_id ?? json.messages?.[0]?.id ?? null };
}

const RANK: Record<DeliveryStatus, number> = { PENDING: 0, SENT: 1, DELIVERED: 2, READ: 3, FAILED: 4 };

/**
 * Applies a delivery or read receipt to outbound messages of a channel, never moving a status
 * backwards (a late "delivered" after "read" changes nothing). Messages are picked by their
 * Meta ids, or, for Messenger watermarks, as every outbound message of the customer's thread sent
 * up to the watermark. Returns how many messages changed.
 */
export async function applyReceipt(
  prisma: PrismaClient,
  args: { accountId: string; channelId: string; status: Exclude<DeliveryStatus, "PENDING">; externalIds?: string[]; threadKey?: string; watermark?: Date; error?: string | null },
): Promise<number> {
  const lower = (Object.keys(RANK) as DeliveryStatus[]).filter((s) => RANK[s] < RANK[args.status] && s !== "FAILED");
  const where: Prisma.MessageWhereInput = { accountId: args.accountId, channelId: args.channelId, direction: "OUTBOUND", kind: "MESSAGE" };
  if (args.externalIds?.length) where.externalId = { in: args.externalIds };
  else if (args.threadKey && args.watermark) Object.assign(where, { createdAt: { lte: args.watermark }, conversation: { threadKey: args.threadKey } });
  else return 0;
  // A watermark covers what Meta has; a message still PENDING here was not sent yet.
  const from = args.externalIds?.length ? lower : lower.filter((s) => s !== "PENDING");
  return transactionWithEvents(prisma, async (tx) => {
    const changing = await tx.message.findMany({
      where: { ...where, deliveryStatus: { in: args.status === "FAILED" ? ["PENDING", "SENT"] : from } },
      select: { id: true },
    });
    const ids = changing.map((m) => m.id);
    if (ids.length === 0) return 0;
    // Row by row the status only moves forward: a concurrent receipt may have got there first.
    const { count } = await tx.message.updateMany({
      where: { accountId: args.accountId, id: { in: ids }, deliveryStatus: { in: args.status === "FAILED" ? ["PENDING", "SENT"] : from } },
      data: { deliveryStatus: args.status, deliveryError: args.status === "FAILED" ? (args.error ?? "Delivery failed") : null },
    });
    await recordMessagesUpdated(tx, args.accountId, ids);
    return count;
  });
}
