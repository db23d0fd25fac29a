import { Prisma, type ConversationStatus } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { recordEvents, transactionWithEvents } from "../realtime/events.js";
import { followConversationOwner } from "./ticket-automation.js";
import { recordTicketEvent } from "./ticket-events.js";
import { visibleInboxWhere } from "./access.js";
import { NotFoundError, ValidationError } from "./errors.js";

type Tx = Prisma.TransactionClient;

export interface ConversationFilter {
  inboxId?: string | null;
  channelId?: string | null;
  status?: ConversationStatus | null;
  assigneeId?: string | null;
  /** true: only conversations without an assignee (ignored when assigneeId is given). */
  unassigned?: boolean | null;
  /** Latest activity at or after this instant. */
  from?: Date | null;
  /** Latest activity before this instant. */
  to?: Date | null;
}

/** A position in the (lastActivityAt desc, id desc) order. */
export interface ConversationCursor {
  lastActivityAt: Date;
  id: string;
}

export function encodeConversationCursor(c: ConversationCursor): string {
  return Buffer.from(JSON.stringify([c.lastActivityAt.toISOString(), c.id])).toString("base64url");
}

export function decodeConversationCursor(cursor: string): ConversationCursor {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [string, string];
    const lastActivityAt = new Date(at);
    if (typeof id !== "string" || Number.isNaN(lastActivityAt.getTime())) throw new Error("bad cursor");
    return { lastActivityAt, id };
  } catch {
    throw ValidationError.field("after", "Not a cursor of this connection");
  }
}

type ConversationQuery = Omit<Prisma.ConversationFindManyArgs, "where" | "orderBy" | "take" | "skip" | "cursor">;

/**
 * Conversations of the inboxes the caller can see (admins: all), newest activity first with id as
 * the tiebreak, narrowed by `filter` and by a full-text `search` (websearch syntax over subject,
 * contact name and email, and message texts, through the GIN-indexed `search` tsvector).
 * Keyset pagination: `after` continues below that cursor. The ids are chosen with one SQL query,
 * then the rows load with the caller's Prisma selection (`query`). Returns up to `first` rows and
 * whether more follow.
 */
export async function listConversations(
  ctx: AgentContext,
  args: { filter?: ConversationFilter | null; search?: string | null; first: number; after?: ConversationCursor | null },
  query: ConversationQuery = {},
) {
  const f = args.filter ?? {};
  const visible = (await ctx.prisma.inbox.findMany({ where: visibleInboxWhere(ctx), select: { id: true } })).map((i) => i.id);
  const conds: Prisma.Sql[] = [Prisma.sql`"accountId" = ${ctx.accountId}`, Prisma.sql`"inboxId" = ANY(${visible}::text[])`];
  if (f.inboxId) conds.push(Prisma.sql`"inboxId" = ${f.inboxId}`);
  if (f.channelId) conds.push(Prisma.sql`"channelId" = ${f.channelId}`);
  if (f.status) conds.push(Prisma.sql`status = ${f.status}::"ConversationStatus"`);
  if (f.assigneeId) conds.push(Prisma.sql`"assigneeId" = ${f.assigneeId}`);
  else if (f.unassigned) conds.push(Prisma.sql`"assigneeId" IS NULL`);
  if (f.from) conds.push(Prisma.sql`"lastActivityAt" >= ${f.from}`);
  if (f.to) conds.push(Prisma.sql`"lastActivityAt" < ${f.to}`);
  const term = args.search?.trim();
  if (term) conds.push(Prisma.sql`search @@ websearch_to_tsquery('simple', ${term})`);
  if (args.after) conds.push(Prisma.sql`("lastActivityAt", id) < (${args.after.lastActivityAt}, ${args.after.id})`);
  const picked = await ctx.prisma.$queryRaw<{ id: string }[]>`
    SELECT id FROM "Conversation" WHERE ${Prisma.join(conds, " AND ")}
    ORDER BY "lastActivityAt" DESC, id DESC LIMIT ${args.first + 1}`;
  const hasNextPage = picked.length > args.first;
  const ids = picked.slice(0, args.first).map((r) => r.id);
  const rows = ids.length ? await ctx.prisma.conversation.findMany({ ...query, where: { accountId: ctx.accountId, id: { in: ids } } }) : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  return { nodes: ids.map((id) => byId.get(id)!).filter(Boolean), hasNextPage };
}

/** A conversation of a visible inbox, loaded with `tx` (or the context's client); NotFoundError otherwise. */
export async function findVisibleConversation(db: Tx, ctx: AgentContext, id: string) {
  const conversation = await db.conversation.findFirst({ where: { id, accountId: ctx.accountId, inbox: visibleInboxWhere(ctx) } });
  if (!conversation) throw new NotFoundError("Conversation", id);
  return conversation;
}

/**
 * Reassigns a conversation, or unassigns it with `assigneeId: null`. The assignee must be a
 * current (not removed) user of the account, PAID or FREE seat (manual assignment is not limited
 * to paid seats or capacity; only automatic routing is).
 */
export async function assignConversation(ctx: AgentContext, input: { conversationId: string; assigneeId: string | null }) {
  return transactionWithEvents(ctx.prisma, async (tx) => {
    const conversation = await findVisibleConversation(tx, ctx, input.conversationId);
    if (input.assigneeId) {
      const user = await tx.user.findFirst({ where: { id: input.assigneeId, accountId: ctx.accountId, removedAt: null }, select: { id: true } });
      if (!user) throw ValidationError.field("input.assigneeId", "Unknown user");
    }
    if (conversation.assigneeId === input.assigneeId) return conversation;
    const updated = await tx.conversation.update({
      where: { id: conversation.id },
      data: { assigneeId: input.assigneeId, assignedAt: input.assigneeId ? new Date() : null },
    });
    await recordEvents(tx, ctx.accountId, [{ type: "conversation.updated", inboxId: updated.inboxId, payload: { conversationId: updated.id, reason: "assignment" } }]);
    // The ticket owner follows the conversation when they were the same person.
    const ticket = await followConversationOwner(tx, {
      accountId: ctx.accountId,
      conversationId: updated.id,
      previousAssigneeId: conversation.assigneeId,
      newAssigneeId: input.assigneeId,
    });
    if (ticket) await recordTicketEvent(tx, ctx.accountId, ticket.id, "ticket.updated", "owner followed the conversation");
    return updated;
  });
}

/** Closes (sets closedAt) or reopens (clears it) a conversation. Setting the current status is a no-op. */
export async function setConversationStatus(ctx: AgentContext, input: { conversationId: string; status: ConversationStatus }) {
  return transactionWithEvents(ctx.prisma, async (tx) => {
    const conversation = await findVisibleConversation(tx, ctx, input.conversationId);
    if (conversation.status === input.status) return conversation;
    const updated = await tx.conversation.update({
      where: { id: conversation.id },
      data: { status: input.status, closedAt: input.status === "CLOSED" ? new Date() : null },
    });
    await recordEvents(tx, ctx.accountId, [{ type: "conversation.updated", inboxId: updated.inboxId, payload: { conversationId: updated.id, reason: "status" } }]);
    return updated;
  });
}

/** Prisma filter for the contact's other conversations in inboxes the caller can see. */
export function previousConversationsWhere(ctx: AgentContext, conversation: { id: string; contactId: string | null }): Prisma.ConversationWhereInput {
  if (!conversation.contactId) return { id: { in: [] } };
  return { accountId: ctx.accountId, contactId: conversation.contactId, id: { not: conversation.id }, inbox: visibleInboxWhere(ctx) };
}
