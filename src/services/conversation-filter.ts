import type { Prisma, ConversationPriority, ConversationStatus } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { visibleInboxWhere } from "./access.js";

/**
 * What the conversation list can be narrowed by: the one filter `conversations(filter:)`, saved
 * views and view counts share. Add a criterion here (and to the GraphQL input in
 * src/schema/conversation-filter.ts) and every one of them knows it.
 */
export interface ConversationFilter {
  inboxId?: string | null;
  channelId?: string | null;
  /** Without it, SPAM and TRASH conversations are left out (src/services/conversation-states.ts). */
  status?: ConversationStatus | null;
  priority?: ConversationPriority | null;
  assigneeId?: string | null;
  /** true: only conversations without an assignee (ignored when assigneeId is given). */
  unassigned?: boolean | null;
  /** Latest activity at or after this instant. */
  from?: Date | null;
  /** Latest activity before this instant. */
  to?: Date | null;
  /** true: only conversations with a comment mentioning the caller (read or not). */
  mentionsMe?: boolean | null;
  /** Only conversations carrying every one of these labels. */
  labelIds?: string[] | null;
}

/**
 * The Prisma filter of the caller's conversations narrowed by `f`: the account and the inboxes the
 * caller can see (src/services/access.ts) always, then every given criterion. The read path
 * (src/db/read-sql.ts) compiles it into its one statement.
 */
export function conversationFilterWhere(ctx: AgentContext, f: ConversationFilter = {}): Prisma.ConversationWhereInput {
  // mergedIntoId: a conversation merged into another is a tombstone (src/services/merge.ts), never listed.
  const where: Prisma.ConversationWhereInput = { accountId: ctx.accountId, inbox: visibleInboxWhere(ctx), mergedIntoId: null };
  if (f.inboxId) where.inboxId = f.inboxId;
  if (f.channelId) where.channelId = f.channelId;
  where.status = f.status ? f.status : { notIn: ["SPAM", "TRASH"] };
  if (f.priority) where.priority = f.priority;
  if (f.assigneeId) where.assigneeId = f.assigneeId;
  else if (f.unassigned) where.assigneeId = null;
  // One EXISTS per label (read-sql compiles `some`); AND keeps any other criterion's AND list.
  if (f.labelIds?.length) where.AND = [...[where.AND ?? []].flat(), ...f.labelIds.map((labelId) => ({ labelLinks: { some: { labelId } } }))];
  if (f.mentionsMe) where.mentions = { some: { userId: ctx.user.id } };
  if (f.from || f.to) where.lastActivityAt = { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lt: f.to } : {}) };
  return where;
}
