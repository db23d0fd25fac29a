import { Prisma } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import type { SqlTx } from "../db/sql.js";
import { sqlQuery } from "../db/sql.js";
import { recordEvents, transactionWithEvents } from "../realtime/events.js";
import { findVisibleConversation } from "./conversations.js";
import { ValidationError } from "./errors.js";

/**
 * Read state: each agent's read position in each conversation (ConversationRead.lastReadAt).
 *
 * What counts as unread for an agent: messages (incoming, replies of other agents, bot messages)
 * added after their read position that they did not write themselves, and comments only when they
 * mention that agent (a colleague's comment is not news unless it names you; comments are not
 * activity, as they do not move lastActivityAt either). A conversation is unread for a view count
 * when it had activity after the position (lastActivityAt later) or holds an unread mention: both
 * are answered from indexed columns, so counting 100,000 conversations reads no messages.
 * The agent's own reply moves their position to it, so writing never makes a thread unread.
 */

/** `event.type` of a read position change (payload: conversationId, userId); drives viewCountsChanged. */
export const READ_EVENT = "conversation.read";

/**
 * Moves `userId`'s position in the conversation to `at`, never backwards, and marks the mentions
 * of them at or before it read. Returns the position now stored.
 */
async function advance(tx: SqlTx, accountId: string, userId: string, conversationId: string, at: Date, messageId: string | null): Promise<Date> {
  const [row] = await tx.$queryRaw<{ lastReadAt: Date }[]>`
    INSERT INTO "ConversationRead" ("accountId", "userId", "conversationId", "lastReadAt", "lastReadMessageId", "updatedAt")
    VALUES (${accountId}, ${userId}, ${conversationId}, ${at}::timestamp(3), ${messageId}, now())
    ON CONFLICT ("userId", "conversationId") DO UPDATE SET
      "lastReadMessageId" = CASE WHEN EXCLUDED."lastReadAt" > "ConversationRead"."lastReadAt" THEN EXCLUDED."lastReadMessageId" ELSE "ConversationRead"."lastReadMessageId" END,
      "lastReadAt" = GREATEST("ConversationRead"."lastReadAt", EXCLUDED."lastReadAt"),
      "updatedAt" = now()
    RETURNING "lastReadAt"`;
  await tx.$executeRaw`
    UPDATE "MessageMention" SET "readAt" = now()
     WHERE "accountId" = ${accountId} AND "conversationId" = ${conversationId} AND "userId" = ${userId}
       AND "readAt" IS NULL AND "createdAt" <= ${row.lastReadAt}::timestamp(3)`;
  return row.lastReadAt;
}

/**
 * The author's position follows their own message (called by the reply and comment writers in
 * their transaction): what an agent wrote, they have seen up to.
 */
export async function advanceOwnReadPosition(tx: SqlTx, accountId: string, userId: string, conversationId: string, message: { id: string; createdAt: Date }): Promise<void> {
  await advance(tx, accountId, userId, conversationId, message.createdAt, message.id);
}

/**
 * Marks a conversation the caller can see as read up to `messageId` (a message or comment of it)
 * or, without one, up to everything in it now. The position never moves backwards: naming an
 * older message than the stored position changes nothing. NotFoundError for a hidden or foreign
 * conversation; ValidationError on input.messageId for a message of another conversation.
 * Records a `conversation.read` event (the caller's view counts change).
 */
export function markConversationRead(ctx: AgentContext, input: { conversationId: string; messageId?: string | null }) {
  return transactionWithEvents(ctx.prisma, async (tx) => {
    const conversation = await findVisibleConversation(tx, ctx, input.conversationId);
    const latest = await tx.message.findFirst({ where: { accountId: ctx.accountId, conversationId: conversation.id }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], select: { id: true, createdAt: true } });
    let target = latest;
    if (input.messageId) {
      target = await tx.message.findFirst({ where: { id: input.messageId, accountId: ctx.accountId, conversationId: conversation.id }, select: { id: true, createdAt: true } });
      if (!target) throw ValidationError.field("input.messageId", "Not a message of this conversation");
    }
    // Up to the latest message means up to the conversation's latest activity too (a message's
    // time and the conversation's may differ by a clock tick).
    const upToLatest = !latest || target!.createdAt.getTime() >= latest.createdAt.getTime();
    const at = upToLatest ? new Date(Math.max(conversation.lastActivityAt.getTime(), latest?.createdAt.getTime() ?? 0)) : target!.createdAt;
    await advance(tx, ctx.accountId, ctx.user.id, conversation.id, at, target?.id ?? null);
    await recordEvents(tx, ctx.accountId, [{ type: READ_EVENT, inboxId: conversation.inboxId, payload: { conversationId: conversation.id, userId: ctx.user.id } }]);
    return conversation;
  });
}

/** The caller's read position in a conversation; null when they never read it. */
export async function readPosition(ctx: AgentContext, conversationId: string): Promise<Date | null> {
  const row = await ctx.prisma.conversationRead.findUnique({ where: { userId_conversationId: { userId: ctx.user.id, conversationId } }, select: { lastReadAt: true } });
  return row?.lastReadAt ?? null;
}

/**
 * SQL: how many messages of the conversation row `alias` are unread for `userId` (see the top of
 * this file). One indexed range of the conversation's messages after the position.
 */
export function unreadCountSql(userId: string): (alias: string) => Prisma.Sql {
  return (alias) => {
    const c = Prisma.raw(`"${alias}"`);
    return Prisma.sql`(SELECT count(*)::int FROM "Message" um
      WHERE um."accountId" = ${c}."accountId" AND um."conversationId" = ${c}.id
        AND um."createdAt" > COALESCE((SELECT ur."lastReadAt" FROM "ConversationRead" ur WHERE ur."userId" = ${userId} AND ur."conversationId" = ${c}.id), '-infinity'::timestamp(3))
        AND um."authorId" IS DISTINCT FROM ${userId}
        AND (um.kind <> 'COMMENT' OR EXISTS (SELECT 1 FROM "MessageMention" umm WHERE umm."messageId" = um.id AND umm."userId" = ${userId})))`;
  };
}

/** SQL: true when the conversation row `alias` (joined with `readAlias`, the user's ConversationRead) is unread for `userId`. */
export function unreadConversationSql(accountId: string, userId: string, alias: string, readAlias: string): Prisma.Sql {
  const c = Prisma.raw(`"${alias}"`);
  const r = Prisma.raw(`"${readAlias}"`);
  return Prisma.sql`(${c}."lastActivityAt" > COALESCE(${r}."lastReadAt", '-infinity'::timestamp(3))
    OR ${c}.id IN (SELECT mm."conversationId" FROM "MessageMention" mm WHERE mm."accountId" = ${accountId} AND mm."userId" = ${userId} AND mm."readAt" IS NULL))`;
}

/** The caller's unread count of one conversation, for rows loaded outside the read path (mutation payloads, node(id:)). */
export async function countUnread(ctx: Pick<AgentContext, "prisma" | "accountId" | "user">, conversationId: string): Promise<number> {
  const [row] = await sqlQuery<{ n: number }>(
    ctx.prisma,
    Prisma.sql`SELECT ${unreadCountSql(ctx.user.id)("uc")} AS n FROM "Conversation" uc WHERE uc."accountId" = ${ctx.accountId} AND uc.id = ${conversationId}`,
  );
  return row?.n ?? 0;
}
