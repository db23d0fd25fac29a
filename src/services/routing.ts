import { randomUUID } from "node:crypto";
import { Prisma, type Channel, type Contact } from "../generated/prisma/client.js";
import type { SqlTx } from "../db/sql.js";

type Tx = Prisma.TransactionClient;

interface CandidateRow {
  id: string;
  availability: "AVAILABLE" | "AWAY";
  chatCapacity: number | null;
  lastAssignedAt: Date | null;
}

/** What routing decided for one conversation. */
export interface RoutingResult {
  assigneeId: string | null;
  /** True when the contact owner was picked while away: an email notification was recorded. */
  ownerNotified: boolean;
}

/**
 * The users a SPECIFIC-target channel routes to, one `"userId"` column: its chosen users plus its
 * teams' members. A writer can read them in its own statement (`ARRAY(...)`) and pass them on.
 */
export function specificTargetsSql(accountId: string, channelId: string): Prisma.Sql {
  return Prisma.sql`
    SELECT "userId" FROM "ChannelRoutingUser" WHERE "accountId" = ${accountId} AND "channelId" = ${channelId}
    UNION
    SELECT m."userId" FROM "ChannelRoutingTeam" t JOIN "TeamMember" m ON m."teamId" = t."teamId"
     WHERE t."accountId" = ${accountId} AND t."channelId" = ${channelId}`;
}

async function specificTargets(tx: SqlTx, accountId: string, channelId: string): Promise<string[]> {
  const rows = await tx.$queryRaw<{ userId: string }[]>(specificTargetsSql(accountId, channelId));
  return rows.map((r) => r.userId);
}

/**
 * Locks the candidate users (PAID, not removed) in id order, so that concurrent intakes routing
 * to the same people queue here instead of both seeing the same open-conversation counts and
 * overshooting a capacity. Then counts their OPEN conversations (a statement run after the lock
 * sees every competing assignment that committed meanwhile).
 */
async function lockAndCount(tx: SqlTx, accountId: string, userIds: string[]) {
  if (userIds.length === 0) return [];
  const users = await tx.$queryRaw<CandidateRow[]>`
    SELECT id, availability::text AS availability, "chatCapacity", "lastAssignedAt" FROM "User"
     WHERE "accountId" = ${accountId} AND id = ANY(${userIds}::text[]) AND seat = 'PAID' AND "removedAt" IS NULL
     ORDER BY id FOR UPDATE`;
  if (users.length === 0) return [];
  const counts = await tx.$queryRaw<{ assigneeId: string; open: bigint }[]>`
    SELECT "assigneeId", count(*) AS open FROM "Conversation"
     WHERE "accountId" = ${accountId} AND status = 'OPEN' AND "assigneeId" = ANY(${users.map((u) => u.id)}::text[])
     GROUP BY "assigneeId"`;
  const open = new Map(counts.map((c) => [c.assigneeId, Number(c.open)]));
  return users.map((u) => ({ ...u, open: open.get(u.id) ?? 0 }));
}

const hasRoom = (u: { chatCapacity: number | null; open: number }) => u.chatCapacity === null || u.open < u.chatCapacity;

/**
 * The fair pick: fewest open conversations, then longest since the last assignment (never
 * assigned first), then id for a deterministic result.
 */
function pick<T extends { id: string; open: number; lastAssignedAt: Date | null }>(candidates: T[]): T | undefined {
  return [...candidates].sort(
    (a, b) =>
      a.open - b.open ||
      (a.lastAssignedAt?.getTime() ?? -Infinity) - (b.lastAssignedAt?.getTime() ?? -Infinity) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  )[0];
}

async function assign(tx: SqlTx, accountId: string, conversationId: string, userId: string, now: Date) {
  await tx.$executeRaw`
    WITH conversation AS (
      UPDATE "Conversation" SET "assigneeId" = ${userId}, "assignedAt" = ${now}, "updatedAt" = ${now} WHERE "accountId" = ${accountId} AND id = ${conversationId})
    UPDATE "User" SET "lastAssignedAt" = ${now}, "updatedAt" = ${now} WHERE "accountId" = ${accountId} AND id = ${userId}`;
}

/**
 * Routes a NEW conversation, inside the intake transaction, by the channel's routing block:
 * - autoAssign off: stays unassigned.
 * - SPECIFIC: candidates are the chosen users plus members of the chosen teams; only PAID seats;
 *   with onlyAvailable (default) only AVAILABLE users (nobody: unassigned); users at their chat
 *   capacity are skipped; the pick is fewest open conversations, then longest since lastAssignedAt.
 * - CONTACT_OWNER: only when the contact has an owner and is tracked (else unassigned); the owner
 *   must have a PAID seat and room under their capacity. An owner who is AWAY is still assigned,
 *   and a NOTIFICATION_EMAIL delivery to them is recorded (the message is emailed to them).
 * Sets conversation.assignedAt and the user's lastAssignedAt.
 */
export async function routeNewConversation(
  tx: SqlTx,
  args: {
    accountId: string;
    channel: Pick<Channel, "id" | "autoAssign" | "routingTarget" | "onlyAvailable">;
    conversationId: string;
    contact: Pick<Contact, "ownerId" | "tracked"> | null;
    messageId?: string;
    /** A SPECIFIC channel's targets when the caller read them already (specificTargetsSql). */
    targets?: string[];
  },
): Promise<RoutingResult> {
  const { accountId, channel } = args;
  const none = { assigneeId: null, ownerNotified: false };
  if (!channel.autoAssign) return none;
  const now = new Date();

  if (channel.routingTarget === "CONTACT_OWNER") {
    const ownerId = args.contact?.tracked ? args.contact.ownerId : null;
    if (!ownerId) return none;
    const [owner] = await lockAndCount(tx, accountId, [ownerId]);
    if (!owner || !hasRoom(owner)) return none;
    await assign(tx, accountId, args.conversationId, owner.id, now);
    if (owner.availability !== "AVAILABLE") {
      const payload = { reason: "contact_owner_offline", conversationId: args.conversationId };
      await tx.$executeRaw`
        INSERT INTO "OutboundDelivery" (id, "accountId", kind, "userId", "channelId", "messageId", payload, "nextAttemptAt", "createdAt")
        VALUES (${randomUUID()}, ${accountId}, 'NOTIFICATION_EMAIL', ${owner.id}, ${channel.id}, ${args.messageId ?? null}, ${JSON.stringify(payload)}::jsonb, ${now}, ${now})`;
      return { assigneeId: owner.id, ownerNotified: true };
    }
    return { assigneeId: owner.id, ownerNotified: false };
  }

  const candidates = await lockAndCount(tx, accountId, args.targets ?? (await specificTargets(tx, accountId, channel.id)));
  const chosen = pick(candidates.filter((u) => (!channel.onlyAvailable || u.availability === "AVAILABLE") && hasRoom(u)));
  if (!chosen) return none;
  await assign(tx, accountId, args.conversationId, chosen.id, now);
  return { assigneeId: chosen.id, ownerNotified: false };
}

/**
 * Backlog assignment when `userId` becomes AVAILABLE: the oldest unassigned OPEN conversations
 * of live auto-assigning SPECIFIC channels that route to the user (directly or through a team)
 * are assigned to them, up to their remaining chat capacity (at most `limit`, default 100, when
 * they have no capacity). Rows already locked by another transaction are skipped, not waited for.
 * Returns the assigned conversations (id and inboxId) so the caller can record events.
 */
export async function assignBacklog(tx: Tx, accountId: string, userId: string, limit = 100): Promise<{ id: string; inboxId: string }[]> {
  const [user] = await lockAndCount(tx, accountId, [userId]);
  if (!user || user.availability !== "AVAILABLE") return [];
  const room = user.chatCapacity === null ? limit : Math.min(limit, user.chatCapacity - user.open);
  if (room <= 0) return [];
  const rows = await tx.$queryRaw<{ id: string; inboxId: string }[]>`
    SELECT c.id, c."inboxId" FROM "Conversation" c
      JOIN "Channel" ch ON ch."accountId" = c."accountId" AND ch.id = c."channelId"
     WHERE c."accountId" = ${accountId} AND c.status = 'OPEN' AND c."assigneeId" IS NULL
       AND ch."autoAssign" AND ch."routingTarget" = 'SPECIFIC' AND ch."deletedAt" IS NULL
       AND (EXISTS (SELECT 1 FROM "ChannelRoutingUser" ru WHERE ru."channelId" = ch.id AND ru."userId" = ${userId})
         OR EXISTS (SELECT 1 FROM "ChannelRoutingTeam" rt JOIN "TeamMember" m ON m."teamId" = rt."teamId"
                     WHERE rt."channelId" = ch.id AND m."userId" = ${userId}))
     ORDER BY c."createdAt", c.id
     LIMIT ${room}
     FOR UPDATE OF c SKIP LOCKED`;
  if (rows.length === 0) return [];
  const now = new Date();
  await tx.conversation.updateMany({ where: { accountId, id: { in: rows.map((r) => r.id) } }, data: { assigneeId: userId, assignedAt: now } });
  await tx.user.update({ where: { accountId_id: { accountId, id: userId } }, data: { lastAssignedAt: now } });
  return rows;
}
