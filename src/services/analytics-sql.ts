import { Prisma, type ChannelType, type PrismaClient } from "../generated/prisma/client.js";

/**
 * The aggregate statements behind `analytics`. Each one is a single SQL statement whose cost grows
 * with the rows in the requested range, never with a per-row round trip. Everything is scoped by
 * account (and, when given, by the conversation's inbox). Timestamps are stored as UTC wall time in
 * `timestamp(3)` columns, so bounds are passed as ISO strings and converted explicitly: the result
 * does not depend on the session's TimeZone setting.
 */

export interface AnalyticsScope {
  accountId: string;
  from: Date;
  to: Date;
  /** IANA name, already validated. */
  timeZone: string;
  /** Only conversations of this inbox (the conversation's inbox, not the channel's). */
  inboxId: string | null;
  /** Only this agent's figures (an AGENT caller sees only their own row). */
  userId: string | null;
}

type Db = Pick<PrismaClient, "$queryRaw">;

/** A UTC instant as the stored `timestamp(3)` representation. */
const utc = (d: Date) => Prisma.sql`(${d.toISOString()}::timestamptz AT TIME ZONE 'UTC')`;

/** `[from, to)` on a stored timestamp column. */
const inRange = (column: Prisma.Sql, s: AnalyticsScope) => Prisma.sql`${column} >= ${utc(s.from)} AND ${column} < ${utc(s.to)}`;

/** Midnight (local wall time) of the local day of a stored timestamp in the requested time zone. */
const localDay = (column: Prisma.Sql, s: AnalyticsScope) => Prisma.sql`date_trunc('day', (${column} AT TIME ZONE 'UTC') AT TIME ZONE ${s.timeZone})`;

/** Inbox restriction for a message alias: its conversation must be in the inbox. */
const messageInInbox = (alias: string, s: AnalyticsScope) =>
  s.inboxId === null
    ? Prisma.empty
    : Prisma.sql`AND EXISTS (SELECT 1 FROM "Conversation" ci WHERE ci."accountId" = ${Prisma.raw(alias)}."accountId" AND ci.id = ${Prisma.raw(alias)}."conversationId" AND ci."inboxId" = ${s.inboxId})`;

const conversationInInbox = (alias: string, s: AnalyticsScope) =>
  s.inboxId === null ? Prisma.empty : Prisma.sql`AND ${Prisma.raw(alias)}."inboxId" = ${s.inboxId}`;

/** An agent reply: outbound, written by an agent (not a bot), and not an internal comment. */
const isAgentReply = (alias: string) =>
  Prisma.raw(`${alias}.direction = 'OUTBOUND' AND ${alias}."senderType" = 'AGENT' AND ${alias}.kind <> 'COMMENT'`);

export interface FirstResponseRow {
  /** Set on per-responder rows. */
  responderId: string | null;
  /** Set on per-day rows (local date). */
  day: string | null;
  kind: "responder" | "day" | "total";
  count: number;
  median: number | null;
  p90: number | null;
}

/**
 * First response times (seconds) of the conversations whose first agent reply falls in the range:
 * from the conversation's first inbound message to the first agent reply at or after it. Grouped
 * by responder, by local day of the reply, and overall, in one statement (GROUPING SETS).
 * Candidates are the conversations with an agent reply in the range (index accountId, createdAt);
 * their first inbound message is one hash aggregate, their first reply one DISTINCT ON over the
 * agent replies: set-based joins (hash joins on wide ranges, the (accountId, conversationId,
 * createdAt) index on narrow ones), not two index probes per conversation.
 */
export async function firstResponseStats(db: Db, s: AnalyticsScope): Promise<FirstResponseRow[]> {
  const rows = await db.$queryRaw<Array<FirstResponseRow & { rolledUpResponder: number; rolledUpDay: number }>>`
    WITH candidates AS (
      SELECT DISTINCT m."conversationId" AS id
      FROM "Message" m
      WHERE m."accountId" = ${s.accountId} AND ${inRange(Prisma.sql`m."createdAt"`, s)} AND ${isAgentReply("m")}
    ),
    first_in AS (
      SELECT i."conversationId", min(i."createdAt") AS at
      FROM candidates k
      JOIN "Message" i ON i."accountId" = ${s.accountId} AND i."conversationId" = k.id
      ${s.inboxId === null ? Prisma.empty : Prisma.sql`JOIN "Conversation" c ON c."accountId" = ${s.accountId} AND c.id = k.id AND c."inboxId" = ${s.inboxId}`}
      WHERE i.direction = 'INBOUND' AND i."createdAt" < ${utc(s.to)}
      GROUP BY i."conversationId"
    ),
    firsts AS (
      SELECT DISTINCT ON (r."conversationId")
             r."authorId" AS responder, r."createdAt" AS responded_at, EXTRACT(EPOCH FROM r."createdAt" - fi.at)::float8 AS seconds
      FROM first_in fi
      JOIN "Message" r ON r."accountId" = ${s.accountId} AND r."conversationId" = fi."conversationId"
        AND r."createdAt" >= fi.at AND r."createdAt" < ${utc(s.to)} AND ${isAgentReply("r")}
      ORDER BY r."conversationId", r."createdAt", r.id
    ),
    scoped AS (
      SELECT responder, ${localDay(Prisma.sql`responded_at`, s)} AS day, seconds
      FROM firsts
      WHERE ${inRange(Prisma.sql`responded_at`, s)} ${s.userId === null ? Prisma.empty : Prisma.sql`AND responder = ${s.userId}`}
    )
    SELECT responder AS "responderId",
           to_char(day, 'YYYY-MM-DD') AS day,
           GROUPING(responder)::int AS "rolledUpResponder",
           GROUPING(day)::int AS "rolledUpDay",
           count(*)::int AS count,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)::float8 AS median,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds)::float8 AS p90
    FROM scoped
    GROUP BY GROUPING SETS ((responder), (day), ())`;
  // GROUPING(x) is 1 on rows where x is rolled up: a responder row rolls up the day and vice versa.
  return rows.map((r) => ({
    responderId: r.rolledUpResponder ? null : r.responderId,
    day: r.rolledUpDay ? null : r.day,
    kind: r.rolledUpResponder === 0 ? "responder" : r.rolledUpDay === 0 ? "day" : "total",
    count: r.count,
    median: r.median,
    p90: r.p90,
  }));
}

export interface AgentActivityRow {
  userId: string;
  repliesSent: number;
  conversationsRepliedTo: number;
  conversationsClosed: number;
}

/**
 * Per agent: agent replies sent in the range (and the distinct conversations they went to), and
 * conversations closed in the range while assigned to the agent (the model records no closer, so
 * closing is credited to the assignee).
 */
export function agentActivity(db: Db, s: AnalyticsScope): Promise<AgentActivityRow[]> {
  return db.$queryRaw<AgentActivityRow[]>`
    WITH replies AS (
      SELECT m."authorId" AS user_id, count(*)::int AS replies, count(DISTINCT m."conversationId")::int AS conversations
      FROM "Message" m
      WHERE m."accountId" = ${s.accountId} AND ${inRange(Prisma.sql`m."createdAt"`, s)} AND ${isAgentReply("m")}
        AND m."authorId" IS NOT NULL ${s.userId === null ? Prisma.empty : Prisma.sql`AND m."authorId" = ${s.userId}`}
        ${messageInInbox("m", s)}
      GROUP BY m."authorId"
    ),
    closed AS (
      SELECT c."assigneeId" AS user_id, count(*)::int AS closed
      FROM "Conversation" c
      WHERE c."accountId" = ${s.accountId} AND ${inRange(Prisma.sql`c."closedAt"`, s)} AND c."assigneeId" IS NOT NULL
        ${s.userId === null ? Prisma.empty : Prisma.sql`AND c."assigneeId" = ${s.userId}`}
        ${conversationInInbox("c", s)}
      GROUP BY c."assigneeId"
    )
    SELECT user_id AS "userId",
           coalesce(r.replies, 0) AS "repliesSent",
           coalesce(r.conversations, 0) AS "conversationsRepliedTo",
           coalesce(cl.closed, 0) AS "conversationsClosed"
    FROM replies r FULL JOIN closed cl USING (user_id)`;
}

export interface ConversationDayRow {
  /** Null on the whole-range row. */
  day: string | null;
  opened: number;
  closed: number;
  /** Time to close and backlog: set on the whole-range row only. */
  timeToCloseMedian: number | null;
  timeToCloseP90: number | null;
  unassignedBacklog: number | null;
}

/**
 * Conversations opened (createdAt) and closed (closedAt) in the range, per local day (every day of
 * the range, zeros included) and overall, with the time to close (closedAt - createdAt, seconds)
 * of the closed ones, and the open unassigned backlog now.
 */
export function conversationsByDay(db: Db, s: AnalyticsScope): Promise<ConversationDayRow[]> {
  const lastInstant = new Date(s.to.getTime() - 1);
  return db.$queryRaw<ConversationDayRow[]>`
    WITH events AS (
      SELECT ${localDay(Prisma.sql`c."createdAt"`, s)} AS day, true AS opened, NULL::float8 AS seconds
      FROM "Conversation" c
      WHERE c."accountId" = ${s.accountId} AND ${inRange(Prisma.sql`c."createdAt"`, s)} ${conversationInInbox("c", s)}
      UNION ALL
      SELECT ${localDay(Prisma.sql`c."closedAt"`, s)}, false, EXTRACT(EPOCH FROM c."closedAt" - c."createdAt")::float8
      FROM "Conversation" c
      WHERE c."accountId" = ${s.accountId} AND ${inRange(Prisma.sql`c."closedAt"`, s)} ${conversationInInbox("c", s)}
    ),
    per_day AS (
      SELECT day, count(*) FILTER (WHERE opened)::int AS opened, count(*) FILTER (WHERE NOT opened)::int AS closed
      FROM events GROUP BY day
    ),
    days AS (
      SELECT d AS day
      FROM generate_series(
        date_trunc('day', ${s.from.toISOString()}::timestamptz AT TIME ZONE ${s.timeZone}),
        date_trunc('day', ${lastInstant.toISOString()}::timestamptz AT TIME ZONE ${s.timeZone}),
        interval '1 day'
      ) d
    )
    SELECT to_char(d.day, 'YYYY-MM-DD') AS day, coalesce(p.opened, 0) AS opened, coalesce(p.closed, 0) AS closed,
           NULL::float8 AS "timeToCloseMedian", NULL::float8 AS "timeToCloseP90", NULL::int AS "unassignedBacklog"
    FROM days d LEFT JOIN per_day p USING (day)
    UNION ALL
    SELECT NULL, count(*) FILTER (WHERE opened)::int, count(*) FILTER (WHERE NOT opened)::int,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) FILTER (WHERE NOT opened),
           percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) FILTER (WHERE NOT opened),
           (SELECT count(*)::int FROM "Conversation" b
            WHERE b."accountId" = ${s.accountId} AND b.status = 'OPEN' AND b."assigneeId" IS NULL ${conversationInInbox("b", s)})
    FROM events
    ORDER BY day NULLS FIRST`;
}

export interface InboundRow {
  /** Null on per-type rows. */
  channelId: string | null;
  type: ChannelType;
  inboundConversations: number;
  inboundMessages: number;
}

/**
 * Inbound (customer) messages received in the range, and the distinct conversations they belong
 * to, per channel the message travelled through and per channel type (a conversation that
 * reached two channels of one type counts once for the type). Hash aggregates, no sort.
 */
export function inboundByChannel(db: Db, s: AnalyticsScope): Promise<InboundRow[]> {
  return db.$queryRaw<InboundRow[]>`
    WITH per_conversation AS (
      SELECT m."channelId", m."conversationId", count(*)::int AS messages
      FROM "Message" m
      WHERE m."accountId" = ${s.accountId} AND ${inRange(Prisma.sql`m."createdAt"`, s)} AND m.direction = 'INBOUND'
        ${messageInInbox("m", s)}
      GROUP BY m."channelId", m."conversationId"
    ),
    typed AS (
      SELECT p.*, ch.type::text AS type
      FROM per_conversation p JOIN "Channel" ch ON ch."accountId" = ${s.accountId} AND ch.id = p."channelId"
    )
    SELECT "channelId", type, count(*)::int AS "inboundConversations", sum(messages)::int AS "inboundMessages"
    FROM typed GROUP BY "channelId", type
    UNION ALL
    SELECT NULL, type, count(*)::int, sum(messages)::int
    FROM (SELECT type, "conversationId", sum(messages) AS messages FROM typed GROUP BY type, "conversationId") per_type
    GROUP BY type`;
}
