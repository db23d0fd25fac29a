import { Prisma, type Conversation, type ConversationStatus } from "../generated/prisma/client.js";
import { readMany } from "../db/read-sql.js";
import { contactMatchSql, MAX_CONTACT_MATCHES, searchQuery, searchTerm } from "./search.js";
import type { AgentContext } from "../context.js";
import { recordEvents, transactionWithEvents } from "../realtime/events.js";
import { followConversationOwner } from "./ticket-automation.js";
import { queueChatTranscript } from "./chat-transcript.js";
import { recordTicketEvent } from "./ticket-events.js";
import { visibleInboxWhere } from "./access.js";
import { NotFoundError, ValidationError } from "./errors.js";
import { conversationFilterWhere, type ConversationFilter } from "./conversation-filter.js";
import { unreadCountSql } from "./read-state.js";

export type { ConversationFilter };

type Tx = Prisma.TransactionClient;

/** A position in the (lastActivityAt desc, id desc) order. */
export interface ConversationCursor {
  lastActivityAt: Date;
  id: string;
}

export function encodeConversationCursor(c: ConversationCursor): string {
  return Buffer.from(JSON.stringify([c.lastActivityAt.toISOString(), c.id])).toString("base64url");
}

/** Decodes a cursor of this connection; ValidationError on `argument` (after or before) otherwise. */
export function decodeConversationCursor(cursor: string, argument: "after" | "before" = "after"): ConversationCursor {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [string, string];
    const lastActivityAt = new Date(at);
    if (typeof id !== "string" || Number.isNaN(lastActivityAt.getTime())) throw new Error("bad cursor");
    return { lastActivityAt, id };
  } catch {
    throw ValidationError.field(argument, "Not a cursor of this connection");
  }
}

/** Relay connection arguments: `first`/`after` page forwards, `last`/`before` backwards. */
export interface ConversationPageArgs {
  first?: number | null;
  after?: ConversationCursor | null;
  last?: number | null;
  before?: ConversationCursor | null;
}

/** Default and largest page size of the conversation list. */
const PAGE = { default: 20, max: 100 };

function pageDirection(args: ConversationPageArgs) {
  if (args.first != null && args.first < 0) throw ValidationError.field("first", "Must not be negative");
  if (args.last != null && args.last < 0) throw ValidationError.field("last", "Must not be negative");
  if (args.first != null && args.last != null) throw ValidationError.field("last", "Give first or last, not both");
  if (args.after && args.before) throw ValidationError.field("before", "Give after or before, not both");
  if (args.before && args.first != null) throw ValidationError.field("before", "Page backwards with last and before");
  if (args.after && args.last != null) throw ValidationError.field("after", "Page forwards with first and after");
  const backward = args.last != null || args.before != null;
  return { backward, size: Math.min(args.first ?? args.last ?? PAGE.default, PAGE.max) };
}

type ConversationQuery = Omit<Prisma.ConversationFindManyArgs, "where" | "orderBy" | "take" | "skip" | "cursor">;

/**
 * Conversations of the inboxes the caller can see (admins: all), newest activity first with id as
 * the tiebreak, narrowed by `filter` and by a `search` term (src/services/search.ts: websearch
 * syntax, the last word as a prefix) over subject, contact name and email and message texts
 * (the GIN-indexed `search` tsvector), or matching the conversation's contact as
 * contacts(search:) does.
 * Keyset pagination as Relay describes it: `first` rows below `after`, or the `last` rows above
 * `before` (still newest first); default 20, at most 100, and 0 gives an empty page that still
 * says whether rows follow. The page loads with the caller's Prisma selection (`query`) in one
 * SQL statement (readMany). hasNextPage/hasPreviousPage as the `tickets` connection
 * reports them: exact in the paging direction, true on the other side of a given cursor.
 */
export async function listConversations(
  ctx: AgentContext,
  args: { filter?: ConversationFilter | null; viewFilter?: ConversationFilter | null; search?: string | null; withUnreadCount?: boolean } & ConversationPageArgs,
  query: ConversationQuery = {},
) {
  const { backward, size } = pageDirection(args);
  // The page, its visibility check (compiled from visibleInboxWhere) and the caller's selection
  // with every relation: one statement (src/db/read-sql.ts).
  // A view's filter and the given one both apply (src/services/views.ts).
  // A view and a filter both apply; a status either names counts for both, so a view of SPAM or
  // TRASH is not emptied by the default exclusion of the filter that names none.
  const f = args.filter ?? {};
  const where = args.viewFilter
    ? { AND: [conversationFilterWhere(ctx, { ...f, status: f.status ?? args.viewFilter.status }), conversationFilterWhere(ctx, args.viewFilter)] }
    : conversationFilterWhere(ctx, f);
  const term = searchTerm(args.search);
  const extra = (a: string) => {
    const t = Prisma.raw(`"${a}"`);
    const conds: Prisma.Sql[] = [];
    // The conversation's own document, a contact that contacts(search:) finds with this term, or
    // a label named exactly the term (nameKey: the name lowercased, src/services/labels.ts).
    if (term) {
      conds.push(Prisma.sql`(${t}.search @@ ${searchQuery(term)} OR ${t}."contactId" = ANY(ARRAY(
        SELECT c.id FROM "Contact" c WHERE c."accountId" = ${ctx.accountId} AND ${contactMatchSql(term)}
         ORDER BY c."createdAt" DESC, c.id DESC LIMIT ${MAX_CONTACT_MATCHES}))
        OR EXISTS (SELECT 1 FROM "ConversationLabel" cl JOIN "Label" l ON l."accountId" = cl."accountId" AND l.id = cl."labelId"
         WHERE cl."accountId" = ${ctx.accountId} AND cl."conversationId" = ${t}.id AND l."nameKey" = ${term.toLowerCase()}))`);
    }
    if (args.after) conds.push(Prisma.sql`(${t}."lastActivityAt", ${t}.id) < (${args.after.lastActivityAt}::timestamp(3), ${args.after.id})`);
    if (args.before) conds.push(Prisma.sql`(${t}."lastActivityAt", ${t}.id) > (${args.before.lastActivityAt}::timestamp(3), ${args.before.id})`);
    return conds;
  };
  // Backwards: the rows nearest above `before` (or the oldest ones), read in ascending order.
  const dir = backward ? "asc" : "desc";
  const picked = await readMany<Conversation>(
    ctx.prisma,
    "Conversation",
    { ...query, where, orderBy: [{ lastActivityAt: dir }, { id: dir }], take: size + 1 },
    extra,
    // The caller's unread counts in the same statement, when the selection asks for them.
    args.withUnreadCount ? { unreadCount: unreadCountSql(ctx.user.id) } : undefined,
  );
  const more = picked.length > size;
  const page = picked.slice(0, size);
  const nodes = backward ? page.reverse() : page;
  return {
    nodes,
    hasNextPage: backward ? args.before != null : more,
    hasPreviousPage: backward ? more : args.after != null,
  };
}

/** A conversation of a visible inbox with the caller's selection, in one statement; null when hidden or missing. */
export async function loadConversation(ctx: AgentContext, id: string, query: ConversationQuery = {}): Promise<Conversation | null> {
  const [row] = await readMany<Conversation>(ctx.prisma, "Conversation", { ...query, where: { id, accountId: ctx.accountId, inbox: visibleInboxWhere(ctx) }, take: 1 }, undefined, {
    unreadCount: unreadCountSql(ctx.user.id),
  });
  return row ?? null;
}

/** A conversation of a visible inbox, loaded with `tx` (or the context's client); NotFoundError otherwise. */
export async function findVisibleConversation(db: Tx, ctx: AgentContext, id: string) {
  // A merged conversation (a tombstone, src/services/merge.ts) takes no writes: its messages live in the target.
  const conversation = await db.conversation.findFirst({ where: { id, accountId: ctx.accountId, inbox: visibleInboxWhere(ctx), mergedIntoId: null } });
  if (!conversation) throw new NotFoundError("Conversation", id);
  return conversation;
}

/**
 * Reassigns a conversation, or unassigns it with `assigneeId: null`. The assignee must be a
 * current (not removed) user of the account, PAID or FREE seat (manual assignment is not limited
 * to paid seats or capacity; only automatic routing is), who can see the conversation's inbox
 * (an admin, or a member directly or through a team): assignment never grants access, so anyone
 * else is refused with a ValidationError on input.assigneeId naming them.
 */
export function assignConversation(ctx: AgentContext, input: { conversationId: string; assigneeId: string | null }) {
  return transactionWithEvents(ctx.prisma, (tx) => assignConversationInTx(tx, ctx, input));
}

/** assignConversation in the caller's transaction (bulk actions run several changes in one). */
export async function assignConversationInTx(tx: Tx, ctx: AgentContext, input: { conversationId: string; assigneeId: string | null }) {
  const conversation = await findVisibleConversation(tx, ctx, input.conversationId);
  if (input.assigneeId) {
    const user = await tx.user.findFirst({ where: { id: input.assigneeId, accountId: ctx.accountId, removedAt: null } });
    if (!user) throw ValidationError.field("input.assigneeId", "Unknown user");
    // What the assignee could see, by the rule every read goes through.
    const seen = await tx.inbox.findFirst({ where: { AND: [{ id: conversation.inboxId }, visibleInboxWhere({ ...ctx, user })] }, select: { id: true } });
    if (!seen) {
      const inbox = await tx.inbox.findFirst({ where: { accountId: ctx.accountId, id: conversation.inboxId }, select: { name: true } });
      const who = `${[user.firstName, user.lastName].filter(Boolean).join(" ")} (${user.email})`;
      throw ValidationError.field("input.assigneeId", `${who} is not a member of the inbox "${inbox?.name ?? ""}" and could not see this conversation: add them to the inbox first`);
    }
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
}

/**
 * Closes (sets closedAt) or reopens (clears it) a conversation. Setting the current status is a no-op.
 * Closing a chat queues its transcript to the visitor's known address, unless one was already sent
 * after its latest message (the visitor ended the chat first).
 */
export function setConversationStatus(ctx: AgentContext, input: { conversationId: string; status: ConversationStatus }) {
  return transactionWithEvents(ctx.prisma, (tx) => setConversationStatusInTx(tx, ctx, input));
}

/** setConversationStatus in the caller's transaction (bulk actions run several changes in one). */
export async function setConversationStatusInTx(tx: Tx, ctx: AgentContext, input: { conversationId: string; status: ConversationStatus }) {
  // SNOOZED, SPAM and TRASH have their own mutations (src/services/conversation-states.ts).
  if (input.status !== "OPEN" && input.status !== "CLOSED") throw ValidationError.field("input.status", `${input.status} is set with its own mutation (snoozeConversation, markConversationSpam, trashConversation)`);
  const conversation = await findVisibleConversation(tx, ctx, input.conversationId);
  if (conversation.status === input.status) return conversation;
  const updated = await tx.conversation.update({
    where: { id: conversation.id },
    data: { status: input.status, closedAt: input.status === "CLOSED" ? new Date() : null, snoozedUntil: null, trashedAt: null, statusBeforeTrash: null },
  });
  await recordEvents(tx, ctx.accountId, [{ type: "conversation.updated", inboxId: updated.inboxId, payload: { conversationId: updated.id, reason: "status" } }]);
  // An agent closing a chat ends it for the visitor too: they get the transcript, once.
  if (input.status === "CLOSED") await queueChatTranscript(tx, ctx.config, { accountId: ctx.accountId, conversationId: updated.id, unlessCurrent: true });
  return updated;
}

/**
 * The contact's other conversations in inboxes the caller can see, latest activity first: `first`
 * (default 20, at most 100) with the caller's selection, in one statement.
 */
export function listPreviousConversations(ctx: AgentContext, conversation: { id: string; contactId: string | null }, first: number | null | undefined, query: ConversationQuery = {}) {
  if (!conversation.contactId) return Promise.resolve([]);
  return readMany<Conversation>(ctx.prisma, "Conversation", {
    ...query,
    where: { accountId: ctx.accountId, contactId: conversation.contactId, id: { not: conversation.id }, inbox: visibleInboxWhere(ctx), mergedIntoId: null },
    orderBy: [{ lastActivityAt: "desc" }, { id: "desc" }],
    take: Math.min(Math.max(first ?? 20, 0), 100),
  });
}
