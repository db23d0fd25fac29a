import type { AttachmentKind, Channel, Contact, Conversation, DeliveryStatus, Message, Prisma, PrismaClient } from "../../generated/prisma/client.js";
import type { TransportConfig } from "../../config.js";
import { transactionWithEvents } from "../../realtime/events.js";
import { recordMessagesUpdated } from "../../services/message-events.js";

type Tx = Prisma.TransactionClient;

/** Automated (BOT) Messenger messages are allowed only within 24 hours of the customer's last message. */
export const MESSENGER_AUTOMATED_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Messenger's standard messaging window: a reply later than this needs the HUMAN_AGENT message tag. */
export const MESSENGER_STANDARD_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Human (agent) replies on Messenger, tagged HUMAN_AGENT, are allowed up to 7 days after the customer's last message. */
export const MESSENGER_HUMAN_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

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
  /**
   * An agent's Messenger reply: when the customer last wrote on the page. Sent as RESPONSE within
   * 24 hours of it, tagged HUMAN_AGENT up to 7 days, refused after (decided when sent, so a retry
   * that crosses the 24 hours is tagged). Absent: RESPONSE.
   */
  lastInboundAt?: string;
  /** Messenger quick-reply buttons: [title, payload]. */
  quickReplies?: [string, string][];
  /** Set the page's Messenger greeting (Messenger Profile API) to `text` instead of sending a message. */
  profileGreeting?: boolean;
  /** Sent as media messages after the text, one request each. */
  attachments?: GraphAttachment[];
  /** Written by the worker after each accepted request, so a retry sends only what is left. */
  progress?: GraphProgress;
}

/** An attachment of a Graph API send: a link, or a file kept by this server (`attachmentId`, linked when sent). */
export interface GraphAttachment {
  kind: AttachmentKind;
  url?: string | null;
  attachmentId?: string | null;
  name?: string | null;
}

/** The requests of a multi-request send that Meta accepted ("text", "attachment:<index>"), and the id of the first. */
export interface GraphProgress {
  done: string[];
  externalId: string | null;
}

/**
 * Queues, in the caller's transaction, the Messenger greeting of a page: shown by Messenger before
 * a customer's first message. Sent by the outbound worker through the Messenger Profile API.
 */
export async function queueMessengerGreeting(tx: Tx, channel: Pick<Channel, "id" | "accountId" | "facebookPageId">, greeting: string): Promise<void> {
  const payload: GraphPayload = { platform: "MESSENGER", senderId: channel.facebookPageId, recipient: null, text: greeting, profileGreeting: true };
  await tx.outboundDelivery.create({ data: { accountId: channel.accountId, kind: "GRAPH_API", channelId: channel.id, payload: payload as unknown as Prisma.InputJsonValue } });
}

/** The text of a message as a Graph API text message: rich text flattened (attachments go as media messages). */
function flatText(message: Pick<Message, "text" | "richText">) {
  return message.text ?? (message.richText ?? "").replace(/<[^>]*>/g, "").trim();
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
 * Attachments become media messages after the text: links as given, files kept by this server by
 * attachment id (their signed link is made when sent, so it is fresh on every retry).
 */
export async function buildGraphPayload(
  tx: Tx,
  args: {
    message: Message;
    conversation: Conversation & { contact: Contact | null };
    channel: Channel;
    attachments?: { id: string; kind: AttachmentKind; url: string | null; storageKey: string | null; name: string | null }[];
    automated?: boolean;
    quickReplies?: [string, string][];
    /** When the customer last wrote on this channel (default: the conversation's last inbound message). */
    lastInboundAt?: Date | null;
  },
): Promise<GraphPayload> {
  const { message, conversation, channel } = args;
  const handle = conversation.contactId
    ? await tx.contactHandle.findFirst({ where: { accountId: channel.accountId, channelId: channel.id, contactId: conversation.contactId }, orderBy: { id: "asc" } })
    : null;
  const own = conversation.channelId === channel.id ? conversation.threadKey : null;
  const whatsapp = channel.type === "WHATSAPP";
  const recipient = handle?.handle ?? own ?? (whatsapp && conversation.contact?.phone ? conversation.contact.phone.replace(/\D/g, "") : null);
  const last = args.lastInboundAt ?? conversation.lastInboundAt ?? conversation.createdAt;
  return {
    platform: whatsapp ? "WHATSAPP" : "MESSENGER",
    senderId: whatsapp ? await whatsAppPhoneNumberId(tx, channel) : channel.facebookPageId,
    recipient,
    text: flatText(message),
    ...(args.attachments?.length
      ? { attachments: args.attachments.map((a) => ({ kind: a.kind, url: a.url, attachmentId: a.storageKey ? a.id : null, name: a.name })) }
      : {}),
    ...(args.automated ? { automated: true, windowEndsAt: new Date(last.getTime() + MESSENGER_AUTOMATED_WINDOW_MS).toISOString() } : {}),
    ...(!args.automated && !whatsapp ? { lastInboundAt: last.toISOString() } : {}),
    ...(args.quickReplies ? { quickReplies: args.quickReplies } : {}),
  };
}

/** A send that must not be retried (the worker marks it FAILED at once). */
export class PermanentSendError extends Error {}

/** A send refused for now (HTTP 429): the worker retries it no earlier than `retryAfterMs` from now when given. */
export class RetryLaterError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null,
  ) {
    super(message);
  }
}

/**
 * Graph error codes that are throttling or a temporary failure although the HTTP status is 4xx
 * (Meta answers most rate limits with 400): 1/2 unknown/service, 4/17/32/613 rate limits,
 * 341/368 temporary limits, 80007 Messenger rate limit, 130429/131048/131056 WhatsApp throughput
 * and pair-rate limits.
 */
const TRANSIENT_GRAPH_CODES = new Set([1, 2, 4, 17, 32, 341, 368, 613, 80007, 130429, 131048, 131056]);

/** Retry-After as seconds or an HTTP date, in milliseconds from `now`; null when absent or unreadable. */
function retryAfterMs(header: string | null, now: number): number | null {
  if (!header) return null;
  const seconds = Number(header.trim());
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/**
 * The error of a refused Graph request, classified: a 4xx other than 408 and 429 is permanent
 * (PermanentSendError: a bad recipient, token or payload stays bad; Meta's reason is kept for
 * deliveryError), unless Meta marks it transient (`is_transient` or a throttling code); 429 is
 * RetryLaterError with its Retry-After hint; 5xx, 408 and the rest are plain errors (retried
 * with backoff).
 */
async function graphError(res: Response): Promise<Error> {
  const body = await res.text().catch(() => "");
  let error: { message?: string; code?: number; is_transient?: boolean } | undefined;
  try {
    error = (JSON.parse(body) as { error?: typeof error }).error;
  } catch {
    // not JSON
  }
  const message = error?.message ? `HTTP ${res.status}: ${error.message}` : `HTTP ${res.status}`;
  if (res.status === 429) return new RetryLaterError(message, retryAfterMs(res.headers.get("retry-after"), Date.now()));
  const transient = error?.is_transient === true || (error?.code !== undefined && TRANSIENT_GRAPH_CODES.has(error.code));
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && !transient) return new PermanentSendError(message);
  return new Error(message);
}

/** Messenger's attachment type and WhatsApp's media type of an attachment kind. */
function mediaType(platform: GraphPayload["platform"], kind: AttachmentKind): string {
  if (kind === "IMAGE") return "image";
  if (kind === "AUDIO" || kind === "VOICE_NOTE") return "audio";
  if (kind === "VIDEO") return "video";
  return platform === "MESSENGER" ? "file" : "document";
}

export interface GraphSendOptions {
  now?: Date;
  /**
   * An absolute link Meta can fetch for a file kept by this server (a signed download URL under
   * PUBLIC_URL); null when there is none.
   */
  linkFor?: (attachmentId: string) => Promise<string | null>;
  /** Called after each accepted request that has others after it; should persist `progress` in the payload. A failure here fails the attempt. */
  onProgress?: (progress: GraphProgress) => Promise<void>;
}

/**
 * Messenger's messaging type of a send: RESPONSE within 24 hours of the customer's last message
 * (and for automated messages, which never go later); an agent's reply after that is tagged
 * HUMAN_AGENT (Meta refuses RESPONSE there), up to 7 days; later it is refused (PermanentSendError).
 */
function messengerMessagingType(payload: GraphPayload, now: Date): { messaging_type: string; tag?: string } {
  if (payload.automated || !payload.lastInboundAt) return { messaging_type: "RESPONSE" };
  const since = now.getTime() - new Date(payload.lastInboundAt).getTime();
  if (since <= MESSENGER_STANDARD_WINDOW_MS) return { messaging_type: "RESPONSE" };
  if (since > MESSENGER_HUMAN_WINDOW_MS) throw new PermanentSendError("Messenger allows human replies only within 7 days of the customer's last message");
  return { messaging_type: "MESSAGE_TAG", tag: "HUMAN_AGENT" };
}

/**
 * POSTs a message to {GRAPH_API_BASE_URL}/{page id | phone number id}/messages with the channel's
 * access token (credentials.accessToken) or META_ACCESS_TOKEN: the text (if any), then one media
 * message per attachment (Messenger `attachment: { type, payload: { url, is_reusable } }`,
 * WhatsApp `type: image|audio|video|document` with a `link`). Returns the id Meta gave the first
 * request (message_id / messages[0].id), which becomes the message's externalId so receipts find
 * it. Throws on any failure (the worker retries), PermanentSendError when retrying is useless (a
 * 4xx refusal, see graphError), RetryLaterError on 429.
 *
 * Retries: requests listed in `payload.progress.done` are skipped, and `onProgress` is called
 * after each accepted one that has others after it, so a retry after a failed attachment does not
 * resend the text (a single-request send, the usual reply, costs no extra write). Each
 * request is still at least once: if Meta accepted one but the process stopped (or onProgress
 * failed) before its progress was written, the retry sends it again.
 */
export async function sendGraphMessage(config: TransportConfig, channel: Pick<Channel, "credentials"> | null, payload: GraphPayload, timeoutMs: number, opts: GraphSendOptions = {}): Promise<{ externalId: string | null }> {
  const now = opts.now ?? new Date();
  if (payload.automated && payload.windowEndsAt && now > new Date(payload.windowEndsAt)) {
    throw new PermanentSendError("Messenger allows automated messages only within 24 hours of the customer's last message");
  }
  if (!payload.senderId) throw new Error(payload.platform === "MESSENGER" ? "The channel has no Facebook page id" : "The WhatsApp phone number id is not known yet");
  const token = (channel?.credentials as { accessToken?: string } | null)?.accessToken ?? config.metaAccessToken;
  if (!token) throw new Error("No Graph API access token (channel credentials or META_ACCESS_TOKEN)");
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${config.graphApiBaseUrl}/${encodeURIComponent(payload.senderId!)}/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) throw await graphError(res);
    return res;
  };
  if (payload.profileGreeting) {
    const res = await post("messenger_profile", { greeting: [{ locale: "default", text: payload.text }] });
    await res.arrayBuffer().catch(() => undefined);
    return { externalId: null };
  }
  if (!payload.recipient) throw new PermanentSendError("The contact has no handle on this channel");
  const messenger = payload.platform === "MESSENGER";
  const messagingType = messenger ? messengerMessagingType(payload, now) : {};
  const requests: [key: string, body: Record<string, unknown>][] = [];
  if (payload.text) {
    requests.push([
      "text",
      messenger
        ? {
            recipient: { id: payload.recipient },
            ...messagingType,
            message: { text: payload.text, ...(payload.quickReplies ? { quick_replies: payload.quickReplies.map(([title, p]) => ({ content_type: "text", title, payload: p })) } : {}) },
          }
        : { messaging_product: "whatsapp", recipient_type: "individual", to: payload.recipient, type: "text", text: { body: payload.text } },
    ]);
  }
  for (const [i, a] of (payload.attachments ?? []).entries()) {
    // A file kept here is linked only when PUBLIC_URL is set (linkFor gives null otherwise): Meta
    // cannot fetch a relative URL. Such a file falls back to what every attachment without a URL
    // got before media messages: it is left out of the send (the text still goes).
    const link = a.url ?? (a.attachmentId && opts.linkFor ? await opts.linkFor(a.attachmentId) : null);
    if (!link) continue;
    const type = mediaType(payload.platform, a.kind);
    requests.push([
      `attachment:${i}`,
      messenger
        ? { recipient: { id: payload.recipient }, ...messagingType, message: { attachment: { type, payload: { url: link, is_reusable: true } } } }
        : { messaging_product: "whatsapp", recipient_type: "individual", to: payload.recipient, type, [type]: { link, ...(type === "document" && a.name ? { filename: a.name } : {}) } },
    ]);
  }
  if (requests.length === 0) throw new PermanentSendError("Nothing to send: no text and no attachment Meta can fetch (files need PUBLIC_URL)");
  const progress: GraphProgress = { done: [...(payload.progress?.done ?? [])], externalId: payload.progress?.externalId ?? null };
  const pending = requests.filter(([key]) => !progress.done.includes(key));
  for (const [n, [key, body]] of pending.entries()) {
    const res = await post("messages", body);
    const json = (await res.json().catch(() => ({}))) as { message_id?: string; messages?: { id?: string }[] };
    progress.done.push(key);
    progress.externalId ??= json.message_id ?? json.messages?.[0]?.id ?? null;
    // After the last request the worker records the delivery as sent: nothing is left to remember.
    if (n < pending.length - 1) await opts.onProgress?.(progress);
  }
  return { externalId: progress.externalId };
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
