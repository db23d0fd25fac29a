import { Prisma, type Conversation, type ConversationPriority, type ConversationStatus } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { recordEvents, transactionWithEvents } from "../realtime/events.js";
import { findVisibleConversation } from "./conversations.js";
import { ForbiddenError, ValidationError } from "./errors.js";
import { purgeConversations, scheduleWakeUp, TRASH_RETENTION_DAYS } from "./conversation-sweeper.js";

export { TRASH_RETENTION_DAYS };

/**
 * Conversation states beyond OPEN and CLOSED, and the priority:
 * - SNOOZED until `snoozedUntil`: it reopens by itself at that time (the sweep of
 *   src/services/conversation-sweeper.ts, driven by the database, so a restart loses nothing) or
 *   as soon as the customer writes (intake).
 * - SPAM: the sender (the contact's email, the visitor's email, their handles on the channel)
 *   goes on the account's spam list; their future messages land in SPAM without notifying
 *   anyone. Unmarking removes those entries and reopens the conversation.
 * - TRASH: out of every list unless asked for; restoreConversation returns it to the status it
 *   had; after TRASH_RETENTION_DAYS it is purged (deleted with its messages and files).
 * SPAM and TRASH conversations are not in `conversations` unless the filter names them.
 * Every change records `conversation.updated` (reason: snoozed, unsnoozed, priority, spam,
 * not-spam, trashed, restored) in its transaction.
 */

type Tx = Prisma.TransactionClient;

/** The furthest a snooze may reach. */
const MAX_SNOOZE_MS = 5 * 366 * 24 * 60 * 60 * 1000;

/** Statuses a conversation can be moved to with setConversationStatus (the others have their own mutations). */
export const WORKING_STATUSES: readonly ConversationStatus[] = ["OPEN", "CLOSED"];

/** Statuses the default conversation list leaves out (shown only when the filter names them). */
export const HIDDEN_STATUSES: readonly ConversationStatus[] = ["SPAM", "TRASH"];

/** Fields that belong to SNOOZED and TRASH, cleared by any other move. */
export const CLEARED_STATE = { snoozedUntil: null, trashedAt: null, statusBeforeTrash: null } as const;

/**
 * What a visitor sees of the status: the team's internal states are not theirs to know. A snoozed
 * or spam-marked chat still looks open to them; a trashed one looks closed.
 */
export function visitorStatus(status: ConversationStatus): "OPEN" | "CLOSED" {
  return status === "CLOSED" || status === "TRASH" ? "CLOSED" : "OPEN";
}

/** Refuses statuses that have their own mutation (setConversationStatus takes OPEN or CLOSED). */
export function assertWorkingStatus(status: ConversationStatus, path = "input.status"): void {
  if (!WORKING_STATUSES.includes(status)) {
    throw ValidationError.field(path, `${status} is set with its own mutation (snoozeConversation, markConversationSpam, trashConversation)`);
  }
}

async function update(tx: Tx, ctx: AgentContext, conversation: Conversation, data: Prisma.ConversationUpdateInput, reason: string) {
  const updated = await tx.conversation.update({ where: { id: conversation.id }, data });
  await recordEvents(tx, ctx.accountId, [{ type: "conversation.updated", inboxId: updated.inboxId, payload: { conversationId: updated.id, reason } }]);
  return updated;
}

/**
 * Snoozes a conversation until `until` (strictly in the future, at most five years ahead), in the
 * caller's transaction. OPEN, CLOSED and SNOOZED conversations can be snoozed (a new time replaces
 * the old one); SPAM and TRASH ones are refused (restore or unmark them first).
 * @throws ValidationError on input.until or input.conversationId; NotFoundError for an unknown or hidden id
 */
export async function snoozeConversationInTx(tx: Tx, ctx: AgentContext, input: { conversationId: string; until: Date }): Promise<Conversation> {
  const until = input.until;
  const now = Date.now();
  if (!(until instanceof Date) || Number.isNaN(until.getTime())) throw ValidationError.field("input.until", "Not a date");
  if (until.getTime() <= now) throw ValidationError.field("input.until", "Must be in the future");
  if (until.getTime() > now + MAX_SNOOZE_MS) throw ValidationError.field("input.until", "At most five years ahead");
  const conversation = await findVisibleConversation(tx, ctx, input.conversationId);
  if (HIDDEN_STATUSES.includes(conversation.status)) throw ValidationError.field("input.conversationId", `A conversation in ${conversation.status} cannot be snoozed`);
  const updated = await update(tx, ctx, conversation, { status: "SNOOZED", snoozedUntil: until, closedAt: null, trashedAt: null, statusBeforeTrash: null }, "snoozed");
  scheduleWakeUp(until);
  return updated;
}

/** snoozeConversationInTx in its own transaction. */
export function snoozeConversation(ctx: AgentContext, input: { conversationId: string; until: Date }) {
  return transactionWithEvents(ctx.prisma, (tx) => snoozeConversationInTx(tx, ctx, input));
}

/** Reopens a snoozed conversation now. @throws ValidationError when it is not SNOOZED */
export function unsnoozeConversation(ctx: AgentContext, input: { conversationId: string }) {
  return transactionWithEvents(ctx.prisma, async (tx) => {
    const conversation = await findVisibleConversation(tx, ctx, input.conversationId);
    if (conversation.status !== "SNOOZED") throw ValidationError.field("input.conversationId", "The conversation is not snoozed");
    return update(tx, ctx, conversation, { status: "OPEN", ...CLEARED_STATE }, "unsnoozed");
  });
}

/** Sets the priority; the current one is a no-op (no event). */
export function setConversationPriority(ctx: AgentContext, input: { conversationId: string; priority: ConversationPriority }) {
  return transactionWithEvents(ctx.prisma, async (tx) => {
    const conversation = await findVisibleConversation(tx, ctx, input.conversationId);
    if (conversation.priority === input.priority) return conversation;
    return update(tx, ctx, conversation, { priority: input.priority }, "priority");
  });
}

/** The sender identities of a conversation: the contact's and the visitor's email, the contact's handles on its channel. */
async function senderIdentities(tx: Tx, conversation: Conversation) {
  const contact = conversation.contactId
    ? await tx.contact.findFirst({
        where: { accountId: conversation.accountId, id: conversation.contactId },
        select: { email: true, handles: { where: { channelId: conversation.channelId }, select: { handle: true } } },
      })
    : null;
  const emails = [...new Set([contact?.email, conversation.visitorEmail].filter((e): e is string => !!e).map((e) => e.trim().toLowerCase()))];
  const handles = contact?.handles.map((h) => h.handle) ?? [];
  return { emails, handles };
}

/**
 * Marks a conversation as spam in the caller's transaction: status SPAM, and its sender goes on
 * the account's spam list (their next messages land in SPAM, unnotified). Marking a conversation
 * already in SPAM only makes sure its sender is listed. A TRASH conversation can be marked too.
 * @throws NotFoundError for an unknown or hidden id
 */
export async function markConversationSpamInTx(tx: Tx, ctx: AgentContext, input: { conversationId: string }): Promise<Conversation> {
  const conversation = await findVisibleConversation(tx, ctx, input.conversationId);
  const { emails, handles } = await senderIdentities(tx, conversation);
  const rows = [
    ...emails.map((email) => ({ accountId: ctx.accountId, email, conversationId: conversation.id })),
    ...handles.map((handle) => ({ accountId: ctx.accountId, channelId: conversation.channelId, handle, conversationId: conversation.id })),
  ];
  if (rows.length) await tx.spamSender.createMany({ data: rows, skipDuplicates: true });
  if (conversation.status === "SPAM") return conversation;
  return update(tx, ctx, conversation, { status: "SPAM", ...CLEARED_STATE }, "spam");
}

/** markConversationSpamInTx in its own transaction. */
export function markConversationSpam(ctx: AgentContext, input: { conversationId: string }) {
  return transactionWithEvents(ctx.prisma, (tx) => markConversationSpamInTx(tx, ctx, input));
}

/**
 * Takes a conversation out of SPAM: its sender's spam-list entries are removed (their next
 * messages arrive normally) and it reopens. @throws ValidationError when it is not SPAM
 */
export function unmarkConversationSpam(ctx: AgentContext, input: { conversationId: string }) {
  return transactionWithEvents(ctx.prisma, async (tx) => {
    const conversation = await findVisibleConversation(tx, ctx, input.conversationId);
    if (conversation.status !== "SPAM") throw ValidationError.field("input.conversationId", "The conversation is not marked as spam");
    const { emails, handles } = await senderIdentities(tx, conversation);
    await tx.spamSender.deleteMany({
      where: { accountId: ctx.accountId, OR: [{ email: { in: emails } }, { channelId: conversation.channelId, handle: { in: handles } }] },
    });
    return update(tx, ctx, conversation, { status: "OPEN", closedAt: null, ...CLEARED_STATE }, "not-spam");
  });
}

/** Moves a conversation to TRASH (trashedAt now; purged after TRASH_RETENTION_DAYS). Trashing a trashed one is a no-op. */
export function trashConversation(ctx: AgentContext, input: { conversationId: string }) {
  return transactionWithEvents(ctx.prisma, async (tx) => {
    const conversation = await findVisibleConversation(tx, ctx, input.conversationId);
    if (conversation.status === "TRASH") return conversation;
    return update(tx, ctx, conversation, { status: "TRASH", trashedAt: new Date(), statusBeforeTrash: conversation.status }, "trashed");
  });
}

/**
 * Takes a conversation out of TRASH, back to the status it had (a snooze whose time has passed
 * comes back OPEN). @throws ValidationError when it is not in TRASH
 */
export function restoreConversation(ctx: AgentContext, input: { conversationId: string }) {
  return transactionWithEvents(ctx.prisma, async (tx) => {
    const conversation = await findVisibleConversation(tx, ctx, input.conversationId);
    if (conversation.status !== "TRASH") throw ValidationError.field("input.conversationId", "The conversation is not in the trash");
    let status: ConversationStatus = conversation.statusBeforeTrash ?? "OPEN";
    const snoozedUntil = status === "SNOOZED" && conversation.snoozedUntil && conversation.snoozedUntil.getTime() > Date.now() ? conversation.snoozedUntil : null;
    if (status === "SNOOZED" && !snoozedUntil) status = "OPEN";
    if (snoozedUntil) scheduleWakeUp(snoozedUntil);
    return update(tx, ctx, conversation, { status, snoozedUntil, trashedAt: null, statusBeforeTrash: null }, "restored");
  });
}

/**
 * Deletes a trashed conversation now, with its messages, their attachments and stored files, as
 * the sweep does after TRASH_RETENTION_DAYS. Admins only; only conversations in TRASH.
 * @returns the id deleted
 * @throws ForbiddenError for agents; ValidationError when the conversation is not in TRASH
 */
export async function purgeConversation(ctx: AgentContext, input: { conversationId: string }): Promise<string> {
  if (ctx.user.role === "AGENT") throw new ForbiddenError("Only admins may purge conversations");
  const conversation = await findVisibleConversation(ctx.prisma, ctx, input.conversationId);
  if (conversation.status !== "TRASH") throw ValidationError.field("input.conversationId", "Only a conversation in the trash can be purged");
  await purgeConversations(ctx.prisma, ctx.config, [{ id: conversation.id, accountId: ctx.accountId }]);
  return conversation.id;
}

/**
 * The SQL condition "this sender is on the account's spam list", for intake's statements: any of
 * `emails` listed, or `handle` listed on the channel. FALSE when nothing identifies the sender.
 */
export function spamSenderSql(accountId: string, channelId: string, emails: (string | null | undefined)[], handle: string | null | undefined): Prisma.Sql {
  const list = [...new Set(emails.filter((e): e is string => !!e?.trim()).map((e) => e.trim().toLowerCase()))];
  const h = handle?.trim() || null;
  if (!list.length && !h) return Prisma.sql`false`;
  return Prisma.sql`EXISTS (SELECT 1 FROM "SpamSender" s WHERE s."accountId" = ${accountId}
    AND (s.email = ANY(${list}::text[]) OR (s."channelId" = ${channelId} AND s.handle = ${h}::text)))`;
}
