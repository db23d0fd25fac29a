import { createHash, randomUUID } from "node:crypto";
import { advanceOwnReadPosition } from "./read-state.js";
import { recordMentions } from "./mentions.js";
import { z } from "zod";
import type { Channel, ChannelApp, Conversation, Contact, Message, Prisma } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { recordEvents, transactionWithEvents } from "../realtime/events.js";
import { agentTookOver } from "./chatflow-engine.js";
import { ChannelOffError, ConflictError, ForbiddenError, MessagingWindowClosedError, ValidationError } from "./errors.js";
import { hasRole } from "./access.js";
import { findVisibleConversation } from "./conversations.js";
import type { AttachmentInput } from "./intake.js";
import { attachmentSchema, checkCapabilities } from "./partner-intake.js";
import { buildWebhookPayload, outboundKindFor, queueTransportDelivery, type OutboundAttachment } from "./deliveries.js";
import { MESSENGER_HUMAN_WINDOW_MS } from "../transports/meta/graph-api.js";
import { readUpload } from "./attachments-store.js";
import { parseInput } from "./validation.js";
import { sanitizeRichText } from "./rich-text.js";

type Tx = Prisma.TransactionClient;

/** Human replies on Messenger are allowed up to 7 days after the customer's last message (tagged HUMAN_AGENT after 24 hours). */
export { MESSENGER_HUMAN_WINDOW_MS };
/** WhatsApp's customer-service window: free-form messages only within 24 hours of the customer's last message. */
export const WHATSAPP_SERVICE_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface ReplyInput {
  conversationId: string;
  text?: string | null;
  richText?: string | null;
  attachments?: ReplyAttachmentInput[] | null;
  /** The message answered; default: the latest customer or agent message (comments excluded). */
  inReplyToId?: string | null;
  /** The channel to send through; default: the conversation's. */
  channelId?: string | null;
  /** A retry with the same key returns the first reply instead of sending again. */
  idempotencyKey?: string | null;
  /** Admins only: reply although the account lets only the assignee reply and someone else is assigned. */
  overrideAssignee?: boolean | null;
}

/** An attachment of a reply: a link (`url`) or a file uploaded through POST /attachments (`upload`, its token). */
export type ReplyAttachmentInput = Omit<AttachmentInput, "url" | "storageKey"> & { url?: string | null; upload?: string | null };

const replyAttachmentSchema = attachmentSchema
  .extend({ url: attachmentSchema.shape.url.nullish(), upload: z.string().trim().min(1, "Must not be empty").max(4096).nullish() })
  .superRefine((a, issues) => {
    if (a.url && a.upload) for (const path of ["url", "upload"]) issues.addIssue({ code: "custom", path: [path], message: "Give either url or upload, not both" });
    if (!a.url && !a.upload) for (const path of ["url", "upload"]) issues.addIssue({ code: "custom", path: [path], message: "A url or an upload is required" });
  });

const UPLOAD_REFUSED = { invalid: "Not a valid upload of this account", expired: "This upload has expired: upload the file again", missing: "This upload's file is no longer stored: upload it again" };

/**
 * The attachments of a reply as they will be stored: links as given; uploads from their token
 * (storage key, MIME type and size; the name unless one is given). Ids are chosen here so the
 * outbound delivery can sign download links to them. A token that is altered, of another account,
 * expired or whose file is gone is a ValidationError on input.attachments.<i>.upload.
 */
async function resolveAttachments(ctx: AgentContext, attachments: z.output<typeof replyAttachmentSchema>[]): Promise<OutboundAttachment[]> {
  const errors: { path: string[]; message: string }[] = [];
  const resolved = await Promise.all(
    attachments.map(async (a, i): Promise<OutboundAttachment> => {
      const base = { id: randomUUID(), kind: a.kind, name: a.name ?? null };
      if (!a.upload) return { ...base, url: a.url ?? null, storageKey: null, mimeType: a.mimeType ?? null, size: a.size ?? null };
      const read = await readUpload(ctx.config, a.upload, ctx.accountId);
      if (!read.ok) {
        errors.push({ path: ["input", "attachments", String(i), "upload"], message: UPLOAD_REFUSED[read.reason] });
        return { ...base, url: null, storageKey: null, mimeType: null, size: null };
      }
      const { storageKey, name, mimeType, size } = read.upload;
      return { ...base, url: null, storageKey, name: a.name ?? name, mimeType, size };
    }),
  );
  if (errors.length) throw new ValidationError(errors);
  return resolved;
}

const replySchema = z
  .object({
    text: z.string().max(100_000).nullish(),
    // What other agents and the customer's mail client render: only the rich-text allowlist is kept.
    richText: z.string().max(200_000).nullish().transform((html) => (html == null ? html : sanitizeRichText(html))),
    attachments: z.array(replyAttachmentSchema).max(50).nullish(),
    idempotencyKey: z.string().trim().min(1).max(255).nullish(),
  })
  .refine((v) => v.text?.trim() || v.richText?.trim() || v.attachments?.length, { message: "A reply needs text, rich text or an attachment", path: ["text"] });

type ChannelWithApp = Channel & { channelApp: ChannelApp | null };

/**
 * Whether `channel` can reach the conversation's customer. The conversation's own channel always
 * can; a team email needs the contact's (or visitor's) email; WhatsApp and calling need a phone;
 * any other channel needs a handle of the contact on that channel.
 */
async function canReach(tx: Tx, channel: Channel, conversation: Conversation & { contact: Contact | null }) {
  if (channel.id === conversation.channelId) return true;
  const contact = conversation.contact;
  if (channel.type === "TEAM_EMAIL") return Boolean(contact?.email ?? conversation.visitorEmail);
  if (!contact) return false;
  if ((channel.type === "WHATSAPP" || channel.type === "CALLING") && contact.phone) return true;
  return (await tx.contactHandle.count({ where: { accountId: channel.accountId, contactId: contact.id, channelId: channel.id } })) > 0;
}

/**
 * When the customer last wrote on `channel`: the conversation's last inbound message on its own
 * channel; on another channel, the contact's latest inbound message there (null: never).
 */
async function lastInboundOn(tx: Tx, channel: Channel, conversation: Conversation): Promise<Date | null> {
  if (channel.id === conversation.channelId) return conversation.lastInboundAt ?? conversation.createdAt;
  if (!conversation.contactId) return null;
  const last = await tx.message.findFirst({
    where: { accountId: channel.accountId, channelId: channel.id, direction: "INBOUND", conversation: { contactId: conversation.contactId } },
    orderBy: { createdAt: "desc" },
    select: { createdAt: true },
  });
  return last?.createdAt ?? null;
}

/**
 * Refuses replies on OFF or deleted channels and outside the messaging windows: Messenger 7 days
 * after the customer's last message (human agent replies), WhatsApp 24 hours (its
 * customer-service window; later only a template message may be sent). Returns when the
 * customer last wrote on the channel (Messenger tags replies after 24 hours from it).
 */
async function checkSendable(tx: Tx, channel: Channel, conversation: Conversation, now: Date): Promise<Date | null> {
  if (channel.deletedAt) throw new ChannelOffError(channel.id, "This channel was deleted");
  if (channel.status === "OFF") throw new ChannelOffError(channel.id);
  if (channel.type !== "FACEBOOK_MESSENGER" && channel.type !== "WHATSAPP") return null;
  const last = await lastInboundOn(tx, channel, conversation);
  if (channel.type === "FACEBOOK_MESSENGER") {
    const windowEnd = new Date((last ?? new Date(0)).getTime() + MESSENGER_HUMAN_WINDOW_MS);
    if (now > windowEnd) throw new MessagingWindowClosedError(windowEnd, "Messenger allows human replies only within 7 days of the customer's last message");
  } else {
    const windowEnd = new Date((last ?? new Date(0)).getTime() + WHATSAPP_SERVICE_WINDOW_MS);
    if (now > windowEnd) {
      throw new MessagingWindowClosedError(
        windowEnd,
        "WhatsApp allows free-form replies only within 24 hours of the customer's last message: after that a template message is needed (an approved WhatsApp message template) to reopen the conversation",
      );
    }
  }
  return last;
}

/**
 * Where a reply through a channel that has no transport of its own goes, so that no reply is
 * accepted and sent nowhere: a FORM submission is answered by email (as the seeds say, like an
 * email) from the inbox's team email, else from the inbox's fallback address, to the submitter's
 * email; a CALLING channel carries calls, not text, and a CHAT reply reaches only the visitor of
 * that chat, so both are refused with the fix; so are a team email reply to a contact without an
 * email and a custom channel whose app is gone. Null: the channel's own transport (or, for a
 * chat, the widget) carries the reply.
 */
async function replyRoute(tx: Tx, channel: ChannelWithApp, conversation: Conversation & { contact: Contact | null }): Promise<{ kind: "EMAIL"; via: Channel } | null> {
  if (channel.type === "CUSTOM" && !channel.channelApp) {
    throw ValidationError.field("input.channelId", "This custom channel's app no longer exists: reply through another channel that reaches the contact");
  }
  if (channel.type === "TEAM_EMAIL" && !(conversation.contact?.email ?? conversation.visitorEmail)) {
    throw ValidationError.field("input.channelId", "The contact has no email address: add one to the contact, or reply through another channel that reaches it");
  }
  if (channel.type === "CALLING") {
    throw ValidationError.field("input.channelId", "A calling channel carries calls, not written replies: reply through a team email (to the contact's email) or WhatsApp channel with channelId");
  }
  if (channel.type === "CHAT" && channel.id !== conversation.channelId) {
    throw ValidationError.field("input.channelId", "A chat reply reaches the visitor only in their own chat: reply through a channel that reaches this contact (team email, WhatsApp, …)");
  }
  if (channel.type !== "FORM") return null;
  if (!(conversation.contact?.email ?? conversation.visitorEmail)) {
    throw ValidationError.field(
      "input.channelId",
      "This form submission has no email address to answer by: reply through another channel that reaches the contact (for a phone, WhatsApp) or add an email address to the contact",
    );
  }
  const teamEmail = await tx.channel.findFirst({
    where: { accountId: channel.accountId, inboxId: channel.inboxId, type: "TEAM_EMAIL", status: "ON", deletedAt: null },
    orderBy: { createdAt: "asc" },
  });
  // Without a team email the form channel itself is the sender: the email goes out from the inbox's fallback address.
  return { kind: "EMAIL", via: teamEmail ?? channel };
}

/** Returns the reply already sent with this idempotency key, or claims the key for this request. */
async function claimIdempotencyKey(tx: Tx, accountId: string, key: string, requestHash: string): Promise<Message | null> {
  const inserted = await tx.idempotencyKey.createMany({ data: [{ accountId, key, operation: "reply", requestHash }], skipDuplicates: true });
  if (inserted.count === 1) return null;
  const existing = await tx.idempotencyKey.findUniqueOrThrow({ where: { accountId_key: { accountId, key } } });
  if (existing.operation !== "reply" || existing.requestHash !== requestHash) throw new ConflictError("This idempotency key was used for a different request", ["input", "idempotencyKey"]);
  const messageId = (existing.response as { messageId?: string } | null)?.messageId;
  if (!messageId) throw new ConflictError("A request with this idempotency key is still in progress", ["input", "idempotencyKey"]);
  return tx.message.findUniqueOrThrow({ where: { id: messageId } });
}

/**
 * The account setting "only the assignee may reply": with it on, a conversation assigned to
 * someone else is answered by them alone (ForbiddenError naming the assignee); unassigned
 * conversations stay open to every agent who sees them, comments are never limited, and an
 * admin may reply anyway with `overrideAssignee`.
 */
async function checkAssigneeMayReply(tx: Tx, ctx: AgentContext, conversation: { assigneeId: string | null }, override: boolean) {
  if (!conversation.assigneeId || conversation.assigneeId === ctx.user.id) return;
  const account = await tx.account.findUniqueOrThrow({ where: { id: ctx.accountId }, select: { onlyAssigneeMayReply: true } });
  if (!account.onlyAssigneeMayReply) return;
  if (override && hasRole(ctx.user.role, "ADMIN")) return;
  const assignee = await tx.user.findFirst({ where: { id: conversation.assigneeId, accountId: ctx.accountId }, select: { firstName: true, lastName: true } });
  const name = [assignee?.firstName, assignee?.lastName].filter(Boolean).join(" ") || "the assignee";
  const hint = hasRole(ctx.user.role, "ADMIN") ? " (as an admin, reply with overrideAssignee: true to answer anyway)" : "; add a comment instead or ask to be assigned";
  throw new ForbiddenError(`Only ${name}, the assignee, may reply to this conversation${hint}`, conversation.assigneeId);
}

/**
 * Sends an agent's reply INSIDE the caller's transaction `tx` (the ticket service calls this
 * from replyAndUpdateTicketStatus, so a refused status rolls the reply back too).
 *
 * - Through `channelId` (default: the conversation's), which must be a live channel of the
 *   account that can reach the contact (ValidationError on input.channelId otherwise); OFF or
 *   deleted: ChannelOffError; Messenger more than 7 days after the customer's last message, or
 *   WhatsApp more than 24 hours after it: MessagingWindowClosedError.
 * - In reply to `inReplyToId` (a message of this conversation) or the latest message.
 * - Attachments are links (url) or files uploaded through POST /attachments (upload token, see
 *   resolveAttachments); uploads are refused on CUSTOM channels (partners get links only).
 * - On a CUSTOM channel, attachments are checked against the app's capabilities and an
 *   OutboundDelivery (PARTNER_WEBHOOK) is written with the message; its deliveryStatus starts
 *   PENDING. TEAM_EMAIL (EMAIL) and FACEBOOK_MESSENGER / WHATSAPP (GRAPH_API) replies get their
 *   delivery row the same way; a FORM reply goes by email (see replyRoute); CALLING channels (and
 *   CHAT outside its own conversation) refuse; a chat reply has no delivery row (the widget shows
 *   it) and deliveryStatus null.
 * - Sets the conversation's lastActivityAt, firstResponseAt (first agent reply only), the search
 *   document, and records message.added / conversation.updated events.
 */
export async function sendReply(tx: Tx, ctx: AgentContext, input: ReplyInput): Promise<Message> {
  const data = parseInput(replySchema, input);
  const now = new Date();
  const conversation = await findVisibleConversation(tx, ctx, input.conversationId);
  if (data.idempotencyKey) {
    const requestHash = createHash("sha256").update(JSON.stringify([input.conversationId, data.text, data.richText, data.attachments, input.inReplyToId, input.channelId])).digest("hex");
    const previous = await claimIdempotencyKey(tx, ctx.accountId, data.idempotencyKey, requestHash);
    if (previous) return previous;
  }
  // After the idempotency check: a retry of a reply that was sent returns it whoever is assigned now.
  await checkAssigneeMayReply(tx, ctx, conversation, input.overrideAssignee === true);
  const attachments = await resolveAttachments(ctx, data.attachments ?? []);
  const full = await tx.conversation.findUniqueOrThrow({ where: { id: conversation.id }, include: { contact: true } });
  const channelId = input.channelId ?? conversation.channelId;
  const channel: ChannelWithApp | null = await tx.channel.findFirst({ where: { id: channelId, accountId: ctx.accountId }, include: { channelApp: true } });
  if (!channel) throw ValidationError.field("input.channelId", "Unknown channel");
  const lastInboundAt = await checkSendable(tx, channel, conversation, now);
  if (!(await canReach(tx, channel, full))) throw ValidationError.field("input.channelId", "This channel cannot reach the conversation's contact");
  const route = await replyRoute(tx, channel, full);
  if (channel.type === "CUSTOM") {
    // A partner webhook carries attachments as links; an uploaded file has none to give it.
    const uploads = (data.attachments ?? []).flatMap((a, i) => (a.upload ? [{ path: ["input", "attachments", String(i), "upload"], message: "This channel takes attachments as links (url) only" }] : []));
    if (uploads.length) throw new ValidationError(uploads);
    if (channel.channelApp) checkCapabilities(channel.channelApp, { richText: data.richText, attachments });
  }

  const inReplyTo = input.inReplyToId
    ? await tx.message.findFirst({ where: { id: input.inReplyToId, accountId: ctx.accountId, conversationId: conversation.id } })
    : await tx.message.findFirst({ where: { accountId: ctx.accountId, conversationId: conversation.id, kind: { not: "COMMENT" } }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
  if (input.inReplyToId && !inReplyTo) throw ValidationError.field("input.inReplyToId", "Not a message of this conversation");

  const custom = channel.type === "CUSTOM" && channel.channelApp;
  // Team email, Messenger and WhatsApp replies go out through the outbound queue too.
  const transportKind = outboundKindFor(channel.type) ?? route?.kind ?? null;
  const message = await tx.message.create({
    data: {
      id: randomUUID(),
      accountId: ctx.accountId,
      conversationId: conversation.id,
      channelId: channel.id,
      direction: "OUTBOUND",
      kind: "MESSAGE",
      senderType: "AGENT",
      authorId: ctx.user.id,
      text: data.text ?? null,
      richText: data.richText ?? null,
      inReplyToId: inReplyTo?.id ?? null,
      deliveryStatus: custom || transportKind ? "PENDING" : null,
      createdAt: now,
      attachments: attachments.length ? { create: attachments } : undefined,
    },
  });
  if (custom) {
    // Snapshot the webhook body now: the delivery must not depend on later edits or deletions.
    const payload = await buildWebhookPayload(tx, { message, attachments, conversation: full, channelId: channel.id, inReplyToExternalId: inReplyTo?.externalId ?? null });
    await tx.outboundDelivery.create({ data: { accountId: ctx.accountId, kind: "PARTNER_WEBHOOK", messageId: message.id, channelId: channel.id, payload: payload as Prisma.InputJsonValue } });
  } else if (transportKind) {
    await queueTransportDelivery(tx, ctx.config.transports, { kind: transportKind, message, conversation: full, channel: route?.via ?? channel, inReplyTo, attachments, lastInboundAt });
  }
  await tx.$executeRaw`
    UPDATE "Conversation" SET "lastActivityAt" = ${now}, "updatedAt" = ${now}, "firstResponseAt" = COALESCE("firstResponseAt", ${now}),
      search = COALESCE(search, ''::tsvector) || to_tsvector('simple', ${data.text ?? ""})
    WHERE "accountId" = ${ctx.accountId} AND id = ${conversation.id}`;
  await agentTookOver(tx, ctx.accountId, conversation.id, now);
  await advanceOwnReadPosition(tx, ctx.accountId, ctx.user.id, conversation.id, message);
  if (data.idempotencyKey) {
    await tx.idempotencyKey.update({ where: { accountId_key: { accountId: ctx.accountId, key: data.idempotencyKey } }, data: { response: { messageId: message.id } } });
  }
  await recordEvents(tx, ctx.accountId, [
    { type: "message.added", inboxId: conversation.inboxId, payload: { conversationId: conversation.id, messageId: message.id } },
    { type: "conversation.updated", inboxId: conversation.inboxId, payload: { conversationId: conversation.id, reason: "reply" } },
  ]);
  return message;
}

/** `sendReply` in its own transaction: what the `reply` mutation calls. */
export function reply(ctx: AgentContext, input: ReplyInput): Promise<Message> {
  return transactionWithEvents(ctx.prisma, (tx) => sendReply(tx, ctx, input));
}

/**
 * Adds an internal comment (kind COMMENT) that only agents see: never delivered to the customer or
 * a partner (no delivery row, no delivery status), and not a first response. `mentionUserIds`:
 * users it mentions (src/services/mentions.ts); the author's read position moves to it.
 */
export async function addComment(ctx: AgentContext, input: { conversationId: string; text: string; mentionUserIds?: string[] | null }): Promise<Message> {
  const text = parseInput(z.object({ text: z.string().trim().min(1, "Must not be empty").max(100_000) }), { text: input.text }).text;
  return transactionWithEvents(ctx.prisma, async (tx) => {
    const conversation = await findVisibleConversation(tx, ctx, input.conversationId);
    const message = await tx.message.create({
      data: { accountId: ctx.accountId, conversationId: conversation.id, channelId: conversation.channelId, direction: "OUTBOUND", kind: "COMMENT", senderType: "AGENT", authorId: ctx.user.id, text },
    });
    await recordMentions(tx, ctx, conversation, message, input.mentionUserIds ?? []);
    await advanceOwnReadPosition(tx, ctx.accountId, ctx.user.id, conversation.id, message);
    await tx.$executeRaw`UPDATE "Conversation" SET search = COALESCE(search, ''::tsvector) || to_tsvector('simple', ${text}) WHERE "accountId" = ${ctx.accountId} AND id = ${conversation.id}`;
    await recordEvents(tx, ctx.accountId, [{ type: "message.added", inboxId: conversation.inboxId, payload: { conversationId: conversation.id, messageId: message.id } }]);
    return message;
  });
}

