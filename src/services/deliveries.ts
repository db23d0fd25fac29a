import { createHmac } from "node:crypto";
import { z } from "zod";
import type { AttachmentKind, Channel, ChannelType, Contact, Conversation, DeliveryStatus, Message, OutboundKind, Prisma, PrismaClient } from "../generated/prisma/client.js";
import type { PartnerContext, Services } from "../context.js";
import type { Config, TransportConfig } from "../config.js";
import { NotFoundError } from "./errors.js";
import { parseInput } from "./validation.js";
import { recordMessagesUpdated } from "./message-events.js";
import { transactionWithEvents } from "../realtime/events.js";
import { buildEmailPayload, buildNotificationEmail, sendEmail, type EmailPayload } from "../transports/email/send.js";
import { buildGraphPayload, PermanentSendError, RetryLaterError, sendGraphMessage, type GraphPayload } from "../transports/meta/graph-api.js";
import { signedDownloadUrl } from "./attachments-store.js";
import { outboundFetch, OutboundRefusedError, type OutboundConfig } from "./outbound-url.js";
import { getProcessLogger } from "../log.js";
import { recordOutboundAttempt } from "../metrics.js";

/**
 * How long a link to a stored file handed to Meta stays valid: Meta fetches it when the message
 * is sent, but may fetch again later (a recipient offline, Meta's own retries).
 */
const MEDIA_LINK_TTL_SECONDS = 24 * 60 * 60;

/** An attachment of an outgoing message as it is stored: a link (`url`) or a file kept by this server (`storageKey`). */
export interface OutboundAttachment {
  id: string;
  kind: AttachmentKind;
  url: string | null;
  storageKey: string | null;
  name: string | null;
  mimeType: string | null;
  size: number | null;
}

/** What the worker needs of the configuration: the transports, and the attachments store (files, link signing). */
export type DeliveryConfig = Pick<Config, "transports" | "dataDir" | "jwt" | "outbound">;

/** A worker given no configuration sends webhooks as production would: https to public addresses only. */
const STRICT_OUTBOUND: OutboundConfig = { allowPrivate: [], requireHttps: true };

/** Relay's global id encoding (base64 of "Type:id"), so partners see the ids the API takes. */
export const globalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString("base64");

/**
 * The body of a partner webhook, snapshotted when the reply is written (the worker adds
 * `deliveryId`). Ids are global ids: `message.id` is what `updateDeliveryStatus` takes.
 * `recipient` says where to deliver: the contact's handle on this channel (the `sender.handle`
 * the partner published with; the alphabetically first if it has several), phone and email.
 */
export async function buildWebhookPayload(
  tx: Prisma.TransactionClient,
  args: {
    message: Message;
    attachments: Pick<OutboundAttachment, "kind" | "url" | "name" | "mimeType" | "size">[];
    conversation: Conversation & { contact: Contact | null };
    channelId: string;
    inReplyToExternalId: string | null;
  },
) {
  const { message, conversation } = args;
  const contact = conversation.contact;
  const handle = contact
    ? await tx.contactHandle.findFirst({ where: { accountId: message.accountId, contactId: contact.id, channelId: args.channelId }, orderBy: { handle: "asc" }, select: { handle: true } })
    : null;
  return {
    type: "message.created",
    message: {
      id: globalId("Message", message.id),
      text: message.text,
      richText: message.richText,
      attachments: args.attachments.map((a) => ({ kind: a.kind, url: a.url ?? null, name: a.name ?? null, mimeType: a.mimeType ?? null, size: a.size ?? null })),
      conversationId: globalId("Conversation", conversation.id),
      threadKey: conversation.threadKey,
      inReplyToExternalId: args.inReplyToExternalId,
      createdAt: message.createdAt.toISOString(),
    },
    channel: { id: globalId("Channel", args.channelId) },
    contact: contact
      ? { id: globalId("Contact", contact.id), name: contact.name, email: contact.email, phone: contact.phone }
      : { id: null, name: conversation.visitorName, email: conversation.visitorEmail, phone: null },
    recipient: { handle: handle?.handle ?? null, phone: contact?.phone ?? null, email: contact ? contact.email : conversation.visitorEmail },
  };
}

/** `sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`, the X-Inbox-Signature header. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** The outbound queue kind that carries replies through a built-in channel type, if any. */
export function outboundKindFor(type: ChannelType): Extract<OutboundKind, "EMAIL" | "GRAPH_API"> | null {
  if (type === "TEAM_EMAIL") return "EMAIL";
  if (type === "FACEBOOK_MESSENGER" || type === "WHATSAPP") return "GRAPH_API";
  return null;
}

/**
 * Writes the delivery of an agent's reply through a built-in channel (EMAIL for team email,
 * GRAPH_API for Messenger and WhatsApp) inside the reply transaction, with the payload
 * snapshotted now, like partner webhooks.
 */
export async function queueTransportDelivery(
  tx: Prisma.TransactionClient,
  config: TransportConfig,
  args: {
    kind: "EMAIL" | "GRAPH_API";
    message: Message;
    conversation: Conversation & { contact: Contact | null };
    /** The channel that sends: the reply's, or the team email answering a form submission. */
    channel: Channel;
    inReplyTo: Message | null;
    attachments: OutboundAttachment[];
    /** When the customer last wrote on the channel (Messenger's messaging type). */
    lastInboundAt?: Date | null;
  },
) {
  const payload = args.kind === "EMAIL" ? await buildEmailPayload(tx, config, args) : await buildGraphPayload(tx, args);
  await tx.outboundDelivery.create({ data: { accountId: args.message.accountId, kind: args.kind, messageId: args.message.id, channelId: args.channel.id, payload: payload as unknown as Prisma.InputJsonValue } });
}

export interface DeliveryOptions {
  /** First retry delay; doubles per attempt. Default 1000 ms. */
  baseDelayMs?: number;
  /** Longest retry delay. Default 10 minutes. */
  maxDelayMs?: number;
  /** A delivery still failing this long after it was written is FAILED. Default 24 hours. */
  maxAgeMs?: number;
  /** Rows claimed per round. Default 20. */
  batchSize?: number;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  /** How long a claimed row stays hidden from other workers (a crashed worker's rows come back after it). Default 60 s. */
  leaseMs?: number;
}

interface Claimed {
  id: string;
  kind: OutboundKind;
  userId: string | null;
  accountId: string;
  channelId: string | null;
  messageId: string | null;
  payload: Record<string, unknown>;
  attempts: number;
  createdAt: Date;
  webhookUrl: string | null;
  webhookSecret: string | null;
}

/**
 * One round of the outbound queue (partner webhooks, email over SMTP, Graph API sends, notification
 * emails): claims due PENDING rows (`FOR UPDATE SKIP LOCKED`, so
 * several workers or processes never take the same row, plus a lease in lockedUntil), POSTs each
 * signed body, then marks it DONE (message deliveryStatus PENDING -> SENT), reschedules it with
 * exponential backoff, or marks it FAILED once older than maxAge (message deliveryStatus FAILED
 * with the error). Returns how many rows it handled.
 */
export async function deliverDue(prisma: PrismaClient, opts: DeliveryOptions = {}, config?: DeliveryConfig): Promise<number> {
  const { baseDelayMs = 1000, maxDelayMs = 600_000, maxAgeMs = 86_400_000, batchSize = 20, timeoutMs = 10_000, leaseMs = 60_000 } = opts;
  const claimed = await prisma.$queryRaw<Claimed[]>`
    WITH due AS (
      SELECT id FROM "OutboundDelivery"
       WHERE state = 'PENDING' AND "nextAttemptAt" <= now()
         AND ("lockedUntil" IS NULL OR "lockedUntil" < now())
       ORDER BY "nextAttemptAt" LIMIT ${batchSize}
       FOR UPDATE SKIP LOCKED)
    UPDATE "OutboundDelivery" d SET attempts = d.attempts + 1, "lockedUntil" = now() + make_interval(secs => ${leaseMs / 1000})
      FROM due WHERE d.id = due.id
    RETURNING d.id, d.kind, d."userId", d."accountId", d."channelId", d."messageId", d.payload, d.attempts, d."createdAt",
      (SELECT a."webhookUrl" FROM "Channel" c JOIN "ChannelApp" a ON a.id = c."channelAppId" WHERE c.id = d."channelId") AS "webhookUrl",
      (SELECT a."webhookSecret" FROM "Channel" c JOIN "ChannelApp" a ON a.id = c."channelAppId" WHERE c.id = d."channelId") AS "webhookSecret"`;
  await Promise.all(claimed.map((row) => deliverOne(prisma, row, { baseDelayMs, maxDelayMs, maxAgeMs, timeoutMs, leaseMs }, config)));
  return claimed.length;
}

/** What one send attempt gave: an error to retry on (permanent: fail at once), or the transport's id for the message. */
interface Attempt {
  error?: string;
  permanent?: boolean;
  externalId?: string | null;
  /** The transport asked to be tried again no earlier than this (HTTP 429's Retry-After). */
  retryAfterMs?: number | null;
}

const FAILURE_LABEL: Record<OutboundKind, string> = { PARTNER_WEBHOOK: "Webhook", EMAIL: "Email", GRAPH_API: "Graph API", NOTIFICATION_EMAIL: "Notification email" };

async function attempt(prisma: PrismaClient, row: Claimed, opts: { timeoutMs: number; leaseMs: number }, config: DeliveryConfig | undefined): Promise<Attempt> {
  const { timeoutMs, leaseMs } = opts;
  if (row.kind === "PARTNER_WEBHOOK") return postWebhook(row, timeoutMs, config?.outbound ?? STRICT_OUTBOUND);
  if (!config) return { error: "No transport configuration in this worker" };
  const transports = config.transports;
  try {
    if (row.kind === "EMAIL") {
      const mail = row.payload as unknown as EmailPayload;
      await sendEmail(transports, mail, timeoutMs, config);
      return { externalId: mail.messageId };
    }
    if (row.kind === "GRAPH_API") {
      const channel = row.channelId ? await prisma.channel.findFirst({ where: { accountId: row.accountId, id: row.channelId }, select: { credentials: true } }) : null;
      return await sendGraphMessage(transports, channel, row.payload as unknown as GraphPayload, timeoutMs, {
        // Without PUBLIC_URL a signed URL would be a path on this server that Meta cannot fetch:
        // no link, and the file is left out of the send (see sendGraphMessage).
        linkFor: async (attachmentId) => (transports.publicUrl ? signedDownloadUrl(config, attachmentId, MEDIA_LINK_TTL_SECONDS) : null),
        // One delivery may be several Graph requests: remember each accepted one (and hold the
        // lease a little longer) so a retry sends only the rest.
        onProgress: async (progress) => {
          await prisma.outboundDelivery.update({
            where: { id: row.id },
            data: { payload: { ...row.payload, progress } as unknown as Prisma.InputJsonValue, lockedUntil: new Date(Date.now() + leaseMs) },
          });
        },
      });
    }
    const mail = await buildNotificationEmail(prisma, transports, row);
    if (!mail) return { error: "The recipient user no longer exists", permanent: true };
    await sendEmail(transports, mail, timeoutMs);
    return {};
  } catch (err) {
    return { error: (err as Error).message || String(err), permanent: err instanceof PermanentSendError, retryAfterMs: err instanceof RetryLaterError ? err.retryAfterMs : null };
  }
}

/** POSTs a partner webhook through the outbound guard; a refused destination fails at once (permanent). */
async function postWebhook(row: Claimed, timeoutMs: number, outbound: OutboundConfig): Promise<Attempt> {
  let error: string | undefined;
  if (!row.webhookUrl || !row.webhookSecret) error = "The channel app has no webhook";
  else {
    const body = JSON.stringify({ deliveryId: row.id, ...row.payload });
    const timestamp = String(Math.floor(Date.now() / 1000));
    try {
      const res = await outboundFetch(row.webhookUrl, {
        method: "POST",
        headers: { "content-type": "application/json", "x-inbox-delivery-id": row.id, "x-inbox-timestamp": timestamp, "x-inbox-signature": signWebhook(row.webhookSecret, timestamp, body) },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      }, outbound);
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) error = `HTTP ${res.status}`;
    } catch (err) {
      if (err instanceof OutboundRefusedError) return { error: `refused: ${err.message}`, permanent: true };
      error = (err as Error).message || String(err);
    }
  }
  return { error };
}

async function deliverOne(prisma: PrismaClient, row: Claimed, opts: Required<Pick<DeliveryOptions, "baseDelayMs" | "maxDelayMs" | "maxAgeMs" | "timeoutMs" | "leaseMs">>, config: DeliveryConfig | undefined) {
  const { error, permanent, externalId, retryAfterMs } = await attempt(prisma, row, opts, config);
  const now = new Date();
  // A notification email's messageId is the customer's message it tells about: never touch its status.
  const ownMessage = row.messageId && row.kind !== "NOTIFICATION_EMAIL" ? row.messageId : null;
  if (!error) {
    recordOutboundAttempt(row.kind, "sent");
    await recordSent(prisma, row, ownMessage, externalId ?? null, now);
    return;
  }
  // A transport's own hint (429 Retry-After) wins over the backoff.
  const delay = retryAfterMs ?? Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.max(0, row.attempts - 1));
  const next = new Date(now.getTime() + delay);
  const givenUp = permanent || next.getTime() - row.createdAt.getTime() > opts.maxAgeMs;
  recordOutboundAttempt(row.kind, givenUp ? "failed" : "retry");
  if (givenUp) {
    await transactionWithEvents(prisma, async (tx) => {
      await tx.outboundDelivery.update({ where: { id: row.id }, data: { state: "FAILED", completedAt: now, lockedUntil: null, lastError: error } });
      if (!ownMessage) return;
      // FAILED only from PENDING or SENT: a receipt that already said DELIVERED or READ stands.
      const failed = await tx.message.updateMany({
        where: { accountId: row.accountId, id: ownMessage, deliveryStatus: { in: ["PENDING", "SENT"] } },
        data: { deliveryStatus: "FAILED", deliveryError: `${FAILURE_LABEL[row.kind]} delivery failed: ${error}` },
      });
      if (failed.count > 0) await recordMessagesUpdated(tx, row.accountId, [ownMessage]);
    });
    return;
  }
  await prisma.outboundDelivery.update({ where: { id: row.id }, data: { nextAttemptAt: next, lockedUntil: null, lastError: error } });
}

/**
 * Records a send that happened: the delivery DONE, the message PENDING -> SENT with the
 * transport's id (email Message-ID, Meta message id: it threads replies and matches receipts).
 * Recording must never fail in a way that sends again (a row left PENDING is claimed again when
 * its lease ends): the id is set only when no other message of the channel carries it already
 * (the unique key is per channel: e.g. Meta's echo of the send was stored first), and should the
 * transaction fail anyway, the delivery is still marked DONE on its own, with the id kept in
 * lastError for the record.
 */
async function recordSent(prisma: PrismaClient, row: Claimed, ownMessage: string | null, externalId: string | null, now: Date) {
  try {
    await transactionWithEvents(prisma, async (tx) => {
      await tx.outboundDelivery.update({ where: { id: row.id }, data: { state: "DONE", completedAt: now, lockedUntil: null, lastError: null } });
      if (!ownMessage) return;
      const sent = await tx.message.updateMany({ where: { accountId: row.accountId, id: ownMessage, deliveryStatus: "PENDING" }, data: { deliveryStatus: "SENT" } });
      if (externalId) {
        await tx.$executeRaw`
          UPDATE "Message" m SET "externalId" = ${externalId}
           WHERE m."accountId" = ${row.accountId} AND m.id = ${ownMessage} AND m."externalId" IS NULL
             AND NOT EXISTS (SELECT 1 FROM "Message" o WHERE o."accountId" = m."accountId" AND o."channelId" = m."channelId" AND o."externalId" = ${externalId})`;
      }
      if (sent.count > 0) await recordMessagesUpdated(tx, row.accountId, [ownMessage]);
    });
  } catch (err) {
    const note = `Sent${externalId ? ` (transport id ${externalId})` : ""}, but recording the result failed: ${(err as Error).message || String(err)}`;
    await prisma.outboundDelivery.update({ where: { id: row.id }, data: { state: "DONE", completedAt: now, lockedUntil: null, lastError: note.slice(0, 2000) } });
    if (ownMessage) {
      await transactionWithEvents(prisma, async (tx) => {
        const sent = await tx.message.updateMany({ where: { accountId: row.accountId, id: ownMessage, deliveryStatus: "PENDING" }, data: { deliveryStatus: "SENT" } });
        if (sent.count > 0) await recordMessagesUpdated(tx, row.accountId, [ownMessage]);
      }).catch(() => undefined);
    }
  }
}

export interface DeliveryWorkerOptions extends DeliveryOptions {
  /** Pause between rounds that found nothing to do. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Where unexpected errors go. Default the process logger (src/log.ts), at error level. */
  log?: (message: string) => void;
}

/**
 * Starts the outbound delivery worker on the server's services: polls the queue every
 * pollIntervalMs (immediately again after a full batch). Pending rows survive restarts: a new
 * worker picks them up, and a worker that died mid-delivery releases its rows when their lease ends.
 * `stop()` ends the loop and waits for the round in flight.
 */
export function startDeliveryWorker(services: Pick<Services, "prisma"> & { config?: DeliveryConfig }, opts: DeliveryWorkerOptions = {}): { stop(): Promise<void> } {
  const { pollIntervalMs = 1000, log = (m: string) => getProcessLogger().error({ component: "deliveries" }, m), ...delivery } = opts;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      let handled = 0;
      try {
        handled = await deliverDue(services.prisma, delivery, services.config);
      } catch (err) {
        if (!stopped) log(`[deliveries] ${(err as Error).stack ?? String(err)}`);
      }
      if (stopped) break;
      if (handled < (delivery.batchSize ?? 20)) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, pollIntervalMs);
        });
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      wake?.();
      await loop;
    },
  };
}

const statusSchema = z.object({ reason: z.string().trim().max(2000).nullish() });

/**
 * A partner reports the delivery status of an agent's message on one of its app's channels:
 * SENT, DELIVERED, READ or FAILED (with an optional reason, kept as deliveryError). Statuses only
 * move forward (see statusesBefore): a report that would move one back is ignored (the message
 * is returned as it is). Messages of
 * other partners' channels, inbound messages and comments are NotFoundError.
 */
export async function updateDeliveryStatus(ctx: PartnerContext, input: { messageId: string; status: Exclude<DeliveryStatus, "PENDING">; reason?: string | null }) {
  const { reason } = parseInput(statusSchema, { reason: input.reason });
  const message = await ctx.prisma.message.findFirst({
    where: { id: input.messageId, direction: "OUTBOUND", kind: "MESSAGE", channel: { type: "CUSTOM", channelApp: { partnerId: ctx.partnerId } } },
  });
  if (!message) throw new NotFoundError("Message", input.messageId);
  const deliveryError = input.status === "FAILED" ? (reason ?? "Delivery failed") : null;
  const from = statusesBefore(input.status);
  // A regression (DELIVERED after READ, FAILED after DELIVERED, a repeat) changes nothing and is no error.
  if (!message.deliveryStatus || !from.includes(message.deliveryStatus)) return message;
  return transactionWithEvents(ctx.prisma, async (tx) => {
    // Conditional, so a concurrent report that got further first wins.
    const { count } = await tx.message.updateMany({ where: { accountId: message.accountId, id: message.id, deliveryStatus: { in: from } }, data: { deliveryStatus: input.status, deliveryError } });
    if (count > 0) await recordMessagesUpdated(tx, message.accountId, [message.id]);
    return tx.message.findUniqueOrThrow({ where: { id: message.id } });
  });
}

const STATUS_ORDER: DeliveryStatus[] = ["PENDING", "SENT", "DELIVERED", "READ"];

/**
 * The statuses a message may move to `status` from: delivery statuses only move forward
 * (PENDING, SENT, DELIVERED, READ), and FAILED comes only from PENDING or SENT.
 */
export function statusesBefore(status: DeliveryStatus): DeliveryStatus[] {
  if (status === "FAILED") return ["PENDING", "SENT"];
  return STATUS_ORDER.slice(0, STATUS_ORDER.indexOf(status));
}
