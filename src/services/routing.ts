import { randomUUID } from "node:crypto";
import { Prisma, type Channel, type Contact } from "../generated/prisma/client.js";
import type { SqlTx } from "../db/sql.js";
import { ValidationError } from "./errors.js";

type Tx = Prisma.TransactionClient;

interface CandidateRow {
  id: string;
  role: "SUPER_ADMIN" | "ADMIN" | "AGENT";
  availability: "AVAILABLE" | "AWAY";
  chatCapacity: number | null;
  lastAssignedAt: Date | null;
  /** Whether the conversation being routed is a chat (null without one). */
  isChat: boolean | null;
}

/**
 * Channel types whose conversations are chats: a user's chat capacity counts their OPEN
 * conversations of these types only, and limits only the routing of these (two open emails do
 * not stop an agent from taking a chat, and a full chat load does not stop an email).
 */
export const CHAT_CHANNEL_TYPES = ["CHAT", "FACEBOOK_MESSENGER", "WHATSAPP", "CUSTOM"] as const;
const CHAT_TYPES_SQL = Prisma.sql`(${Prisma.join(CHAT_CHANNEL_TYPES.map((type) => Prisma.sql`${type}::"ChannelType"`))})`;

/**
 * SQL condition: user `userId` (a column or a value) may see inbox `inboxId`. The same rule as
 * access.ts's visibleInboxWhere (admins see every inbox; agents the inboxes they are members of,
 * directly or through a team), for routing's own statements: nobody is ever routed a
 * conversation they could not open.
 */
function seesInboxSql(userId: Prisma.Sql, role: Prisma.Sql, inboxId: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`(${role} <> 'AGENT'
    OR EXISTS (SELECT 1 FROM "InboxUser" iu WHERE iu."inboxId" = ${inboxId} AND iu."userId" = ${userId})
    OR EXISTS (SELECT 1 FROM "InboxTeam" it JOIN "TeamMember" tm ON tm."teamId" = it."teamId" WHERE it."inboxId" = ${inboxId} AND tm."userId" = ${userId}))`;
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
 * overshooting a capacity. Then counts their OPEN conversations and, of those, their chats (a
 * statement run after the lock sees every competing assignment that committed meanwhile).
 * With `conversationId`, only users who may see that conversation's inbox are candidates, and
 * each row says whether that conversation is a chat.
 */
async function lockAndCount(tx: SqlTx, accountId: string, userIds: string[], conversationId?: string) {
  if (userIds.length === 0) return [];
  const users = conversationId
    ? await tx.$queryRaw<CandidateRow[]>`
    WITH target AS (
      SELECT c."inboxId", ch.type IN ${CHAT_TYPES_SQL} AS "isChat" FROM "Conversation" c
        JOIN "Channel" ch ON ch."accountId" = c."accountId" AND ch.id = c."channelId"
       WHERE c."accountId" = ${accountId} AND c.id = ${conversationId})
    SELECT u.id, u.role::text AS role, u.availability::text AS availability, u."chatCapacity", u."lastAssignedAt", target."isChat" FROM "User" u, target
     WHERE u."accountId" = ${accountId} AND u.id = ANY(${userIds}::text[]) AND u.seat = 'PAID' AND u."removedAt" IS NULL
       AND ${seesInboxSql(Prisma.sql`u.id`, Prisma.sql`u.role`, Prisma.sql`target."inboxId"`)}
     ORDER BY u.id FOR UPDATE OF u`
    : await tx.$queryRaw<CandidateRow[]>`
    SELECT id, role::text AS role, availability::text AS availability, "chatCapacity", "lastAssignedAt", NULL::boolean AS "isChat" FROM "User"
     WHERE "accountId" = ${accountId} AND id = ANY(${userIds}::text[]) AND seat = 'PAID' AND "removedAt" IS NULL
     ORDER BY id FOR UPDATE`;
  if (users.length === 0) return [];
  const counts = await tx.$queryRaw<{ assigneeId: string; open: bigint; chats: bigint }[]>`
    SELECT c."assigneeId", count(*) AS open, count(*) FILTER (WHERE ch.type IN ${CHAT_TYPES_SQL}) AS chats FROM "Conversation" c
      JOIN "Channel" ch ON ch."accountId" = c."accountId" AND ch.id = c."channelId"
     WHERE c."accountId" = ${accountId} AND c.status = 'OPEN' AND c."assigneeId" = ANY(${users.map((u) => u.id)}::text[])
     GROUP BY c."assigneeId"`;
  const byUser = new Map(counts.map((c) => [c.assigneeId, { open: Number(c.open), chats: Number(c.chats) }]));
  return users.map((u) => ({ ...u, open: byUser.get(u.id)?.open ?? 0, chats: byUser.get(u.id)?.chats ?? 0 }));
}

/** Room for the conversation being routed: chat capacity limits chats only. */
const hasRoom = (u: { chatCapacity: number | null; chats: number; isChat: boolean | null }) => !u.isChat || u.chatCapacity === null || u.chats < u.chatCapacity;

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
 *   with onlyAvailable (default) only AVAILABLE users (nobody: unassigned); for a chat (see
 *   CHAT_CHANNEL_TYPES) users with as many open chats as their chat capacity are skipped; the
 *   pick is fewest open conversations, then longest since lastAssignedAt.
 * - CONTACT_OWNER: only when the contact has an owner and is tracked (else unassigned); the owner
 *   must have a PAID seat and, for a chat, room under their chat capacity. An owner who is AWAY is
 *   still assigned, and a NOTIFICATION_EMAIL delivery to them is recorded (the message is emailed to them).
 * Either way only users who may see the conversation's inbox are picked (connectChannel refuses
 * others; this also covers memberships that changed since).
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
    /** False: an owner who is away is still assigned but not emailed (the message is automated mail). Default true. */
    notifyOwner?: boolean;
  },
): Promise<RoutingResult> {
  const { accountId, channel } = args;
  const none = { assigneeId: null, ownerNotified: false };
  if (!channel.autoAssign) return none;
  const now = new Date();

  if (channel.routingTarget === "CONTACT_OWNER") {
    const ownerId = args.contact?.tracked ? args.contact.ownerId : null;
    if (!ownerId) return none;
    const [owner] = await lockAndCount(tx, accountId, [ownerId], args.conversationId);
    if (!owner || !hasRoom(owner)) return none;
    await assign(tx, accountId, args.conversationId, owner.id, now);
    if (owner.availability !== "AVAILABLE" && args.notifyOwner !== false) {
      const payload = { reason: "contact_owner_offline", conversationId: args.conversationId };
      await tx.$executeRaw`
        INSERT INTO "OutboundDelivery" (id, "accountId", kind, "userId", "channelId", "messageId", payload, "nextAttemptAt", "createdAt")
        VALUES (${randomUUID()}, ${accountId}, 'NOTIFICATION_EMAIL', ${owner.id}, ${channel.id}, ${args.messageId ?? null}, ${JSON.stringify(payload)}::jsonb, ${now}, ${now})`;
      return { assigneeId: owner.id, ownerNotified: true };
    }
    return { assigneeId: owner.id, ownerNotified: false };
  }

  const candidates = await lockAndCount(tx, accountId, args.targets ?? (await specificTargets(tx, accountId, channel.id)), args.conversationId);
  const chosen = pick(candidates.filter((u) => (!channel.onlyAvailable || u.availability === "AVAILABLE") && hasRoom(u)));
  if (!chosen) return none;
  await assign(tx, accountId, args.conversationId, chosen.id, now);
  return { assigneeId: chosen.id, ownerNotified: false };
}

/**
 * Backlog assignment when `userId` becomes AVAILABLE: the oldest unassigned OPEN conversations
 * of live auto-assigning SPECIFIC channels that route to the user (directly or through a team),
 * in inboxes the user may see, are assigned to them: chats up to their remaining chat capacity,
 * other conversations (emails, forms, calls) regardless of it; at most `limit` (default 100) in
 * all. Rows already locked by another transaction are skipped, not waited for.
 * Returns the assigned conversations (id and inboxId) so the caller can record events.
 */
export async function assignBacklog(tx: Tx, accountId: string, userId: string, limit = 100): Promise<{ id: string; inboxId: string }[]> {
  const [user] = await lockAndCount(tx, accountId, [userId]);
  if (!user || user.availability !== "AVAILABLE") return [];
  const chatRoom = user.chatCapacity === null ? limit : Math.min(limit, Math.max(user.chatCapacity - user.chats, 0));
  const backlog = (chats: boolean, take: number) =>
    take <= 0
      ? Promise.resolve([])
      : tx.$queryRaw<{ id: string; inboxId: string; createdAt: Date }[]>`
    SELECT c.id, c."inboxId", c."createdAt" FROM "Conversation" c
      JOIN "Channel" ch ON ch."accountId" = c."accountId" AND ch.id = c."channelId"
     WHERE c."accountId" = ${accountId} AND c.status = 'OPEN' AND c."assigneeId" IS NULL
       AND ch."autoAssign" AND ch."routingTarget" = 'SPECIFIC' AND ch."deletedAt" IS NULL
       AND ${chats ? Prisma.sql`ch.type IN ${CHAT_TYPES_SQL}` : Prisma.sql`ch.type NOT IN ${CHAT_TYPES_SQL}`}
       AND (EXISTS (SELECT 1 FROM "ChannelRoutingUser" ru WHERE ru."channelId" = ch.id AND ru."userId" = ${userId})
         OR EXISTS (SELECT 1 FROM "ChannelRoutingTeam" rt JOIN "TeamMember" m ON m."teamId" = rt."teamId"
                     WHERE rt."channelId" = ch.id AND m."userId" = ${userId}))
       AND ${seesInboxSql(Prisma.sql`${userId}`, Prisma.sql`${user.role}`, Prisma.sql`c."inboxId"`)}
     ORDER BY c."createdAt", c.id
     LIMIT ${take}
     FOR UPDATE OF c SKIP LOCKED`;
  const picked = [...(await backlog(true, chatRoom)), ...(await backlog(false, limit))];
  const rows = picked
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, limit)
    .map(({ id, inboxId }) => ({ id, inboxId }));
  if (rows.length === 0) return [];
  const now = new Date();
  await tx.conversation.updateMany({ where: { accountId, id: { in: rows.map((r) => r.id) } }, data: { assigneeId: userId, assignedAt: now } });
  await tx.user.update({ where: { accountId_id: { accountId, id: userId } }, data: { lastAssignedAt: now } });
  return rows;
}

const displayName = (u: { firstName: string; lastName: string; email: string }) => `${[u.firstName, u.lastName].filter(Boolean).join(" ")} (${u.email})`;

/**
 * Refuses a routing block that names someone who could not see the channel's inbox: a routed user
 * (ValidationError on input.routing.userIds) or a member of a routed team (on
 * input.routing.teamIds) who is an agent and no member of the inbox, directly or through a team
 * (admins see every inbox). The message names each such user. Routing never grants access: add
 * them to the inbox first. Mirrors access.ts's visibleInboxWhere in one query.
 */
export async function checkRoutingTargetsSeeInbox(
  db: Tx,
  accountId: string,
  inbox: { id: string; name: string },
  routing: { userIds: string[]; teamIds: string[] },
): Promise<void> {
  if (routing.userIds.length === 0 && routing.teamIds.length === 0) return;
  const outsiders = await db.user.findMany({
    where: {
      accountId,
      removedAt: null,
      role: "AGENT",
      OR: [{ id: { in: routing.userIds } }, { teams: { some: { teamId: { in: routing.teamIds } } } }],
      NOT: { OR: [{ inboxes: { some: { inboxId: inbox.id } } }, { teams: { some: { team: { inboxes: { some: { inboxId: inbox.id } } } } } }] },
    },
    select: { id: true, firstName: true, lastName: true, email: true },
    orderBy: { email: "asc" },
  });
  if (outsiders.length === 0) return;
  const direct = outsiders.filter((u) => routing.userIds.includes(u.id));
  const viaTeams = outsiders.filter((u) => !routing.userIds.includes(u.id));
  const fix = `: add them to the inbox first`;
  throw new ValidationError([
    ...(direct.length ? [{ path: ["input", "routing", "userIds"], message: `Not a member of the inbox "${inbox.name}": ${direct.map(displayName).join(", ")}${fix}` }] : []),
    ...(viaTeams.length
      ? [{ path: ["input", "routing", "teamIds"], message: `A routed team has members who are not members of the inbox "${inbox.name}": ${viaTeams.map(displayName).join(", ")}${fix}` }]
      : []),
  ]);
}
