import type { AttachmentKind, Channel, Conversation, Prisma, PrismaClient } from "../../generated/prisma/client.js";
import { recordEvents, transactionWithEvents } from "../../realtime/events.js";
import { receiveInbound, type AttachmentInput } from "../../services/intake.js";
import { startMessengerFlow } from "../../services/chatflow-engine.js";
import type { OutboundConfig } from "../../services/outbound-url.js";
import type { FacebookMessengerSettings } from "../../services/channel-settings.js";
import { applyReceipt, buildGraphPayload, MESSENGER_AUTOMATED_WINDOW_MS } from "./graph-api.js";
import { emptyCounts, messengerEntrySchema, messengerEventSchema, parseEach, type MessengerEvent } from "./webhook-shapes.js";

type Tx = Prisma.TransactionClient;

/** Payload of the "I agree" quick reply sent with an EXPLICIT GDPR consent request. */
export const CONSENT_PAYLOAD = "GDPR_CONSENT_GIVEN";
const CONSENT_TITLE = "I agree";

const KINDS: Record<string, AttachmentKind> = { image: "IMAGE", video: "VIDEO", audio: "AUDIO", file: "FILE" };

function attachmentsOf(event: MessengerEvent): AttachmentInput[] {
  return (event.message?.attachments ?? [])
    .filter((a) => a.payload?.url)
    .map((a) => ({ kind: a.payload?.sticker_id ? "STICKER" : ((a.type && Object.hasOwn(KINDS, a.type) && KINDS[a.type]) || "FILE"), url: a.payload!.url!.slice(0, 2048) }));
}

/**
 * Queues an automated (BOT) Messenger message in `tx`: the message (deliveryStatus PENDING), its
 * GRAPH_API delivery, and the live event. Refused (returns null) outside the 24-hour window after
 * the customer's last message; the worker checks the window again when it sends.
 */
export async function queueBotMessage(tx: Tx, channel: Channel, conversationId: string, text: string, quickReplies?: [string, string][], now = new Date()) {
  const conversation = await tx.conversation.findUniqueOrThrow({ where: { id: conversationId }, include: { contact: true } });
  const last = conversation.lastInboundAt ?? conversation.createdAt;
  if (now.getTime() - last.getTime() > MESSENGER_AUTOMATED_WINDOW_MS) return null;
  const message = await tx.message.create({
    data: { accountId: channel.accountId, conversationId, channelId: channel.id, direction: "OUTBOUND", kind: "MESSAGE", senderType: "BOT", text, deliveryStatus: "PENDING", metadata: { automated: true } },
  });
  const payload = await buildGraphPayload(tx, { message, conversation, channel, automated: true, quickReplies });
  await tx.outboundDelivery.create({ data: { accountId: channel.accountId, kind: "GRAPH_API", messageId: message.id, channelId: channel.id, payload: payload as unknown as Prisma.InputJsonValue } });
  await tx.conversation.update({ where: { id: conversationId }, data: { lastActivityAt: now } });
  await recordEvents(tx, channel.accountId, [{ type: "message.added", inboxId: conversation.inboxId, payload: { conversationId, messageId: message.id } }]);
  return message;
}

const setProperties = (tx: Tx, conversation: Conversation, patch: Record<string, unknown>) =>
  tx.conversation.update({ where: { id: conversation.id }, data: { properties: { ...((conversation.properties ?? {}) as object), ...patch } as Prisma.InputJsonValue } });

/**
 * What the page answers automatically after a customer's message:
 * - GDPR EXPLICIT: until the customer clicks "I agree" (quick reply or postback with
 *   CONSENT_PAYLOAD) the only thing sent is the consent request, once, and the conversation's
 *   properties.gdprConsent is "PENDING"; their messages are still stored (and routed like any
 *   other). The consent sets it to "GIVEN" and starts the page's chatflow (its default flow's
 *   instant reply, or a bot).
 * - otherwise, on the first message of a thread: the IMPLIED consent notice (if any). The page's
 *   chatflow already ran in the intake transaction (receiveInbound's `chatflow`).
 */
async function autoAnswer(prisma: PrismaClient, channel: Channel, conversation: Conversation, firstMessage: boolean, consentClicked: boolean) {
  const settings = (channel.settings ?? {}) as Partial<FacebookMessengerSettings>;
  const gdpr = settings.gdpr ?? { mode: "OFF" as const };
  const consent = (conversation.properties as { gdprConsent?: string } | null)?.gdprConsent;
  await transactionWithEvents(prisma, async (tx) => {
    if (gdpr.mode === "EXPLICIT" && consent !== "GIVEN") {
      if (consentClicked) {
        await setProperties(tx, conversation, { gdprConsent: "GIVEN", gdprConsentAt: new Date().toISOString() });
        await startMessengerFlow(tx, channel, conversation.id);
      } else if (consent !== "PENDING") {
        await setProperties(tx, conversation, { gdprConsent: "PENDING" });
        await queueBotMessage(tx, channel, conversation.id, gdpr.consentText ?? "Please agree to our privacy terms to continue.", [[CONSENT_TITLE, CONSENT_PAYLOAD]]);
      }
      return;
    }
    // The page's chatflow (instant reply or bot) ran in the intake transaction already.
    if (!firstMessage) return;
    if (gdpr.mode === "IMPLIED" && gdpr.consentText) await queueBotMessage(tx, channel, conversation.id, gdpr.consentText);
  });
}

/**
 * Handles the events of one Messenger webhook body (`object: "page"`): messages and postbacks go
 * through intake (handle = PSID, externalId = mid, threadKey = PSID so a customer keeps one
 * thread), then the automatic answers; delivery and read receipts update outbound messages.
 * Events for unknown pages, OFF or deleted channels, and echoes of the page's own sends are ignored;
 * entries and events of the wrong shape are skipped (counted as `malformed`, logged), see
 * webhook-shapes.ts.
 */
export async function handleMessengerWebhook(prisma: PrismaClient, body: { entry?: unknown }, outbound?: OutboundConfig) {
  const counts = emptyCounts();
  if (body.entry != null && !Array.isArray(body.entry)) counts.malformed++;
  const entries = parseEach(Array.isArray(body.entry) ? body.entry : [], messengerEntrySchema, "entry", counts);
  for (const [i, entry] of entries.entries()) {
    const pageId = entry.id ?? "";
    const channel = pageId ? await prisma.channel.findFirst({ where: { facebookPageId: pageId, type: "FACEBOOK_MESSENGER", deletedAt: null } }) : null;
    for (const event of parseEach(entry.messaging, messengerEventSchema, `entry[${i}].messaging`, counts)) {
      const psid = event.sender?.id;
      if (!channel || channel.status !== "ON" || !psid || event.message?.is_echo) {
        counts.ignored++;
        continue;
      }
      if (event.delivery) {
        const watermark = event.delivery.watermark ? new Date(event.delivery.watermark) : undefined;
        await applyReceipt(prisma, { accountId: channel.accountId, channelId: channel.id, status: "DELIVERED", externalIds: event.delivery.mids ?? undefined, threadKey: psid, watermark });
        counts.receipts++;
      } else if (event.read?.watermark) {
        await applyReceipt(prisma, { accountId: channel.accountId, channelId: channel.id, status: "READ", threadKey: psid, watermark: new Date(event.read.watermark) });
        counts.receipts++;
      } else if (event.message?.mid || event.postback) {
        const choice = event.message?.quick_reply?.payload ?? event.postback?.payload;
        const text = event.message?.text ?? event.postback?.title ?? null;
        const attachments = attachmentsOf(event);
        const result = await receiveInbound(prisma, {
          accountId: channel.accountId,
          channel,
          externalId: (event.message?.mid ?? event.postback?.mid ?? `postback:${psid}:${event.timestamp ?? Date.now()}`).slice(0, 255),
          threadKey: psid,
          sender: { handle: psid },
          text: text ?? (attachments.length ? null : "[unsupported message]"),
          attachments,
          metadata: { messenger: { psid, pageId, timestamp: event.timestamp ?? null, ...(choice ? { payload: choice } : {}) } },
          chatflow: { outbound },
        });
        counts.messages++;
        if (!result.duplicate) await autoAnswer(prisma, channel, result.conversation, result.conversationCreated, choice === CONSENT_PAYLOAD);
      } else counts.ignored++;
    }
  }
  return counts;
}
