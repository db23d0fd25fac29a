import { z } from "zod";
import type { Channel, ChannelType, User } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { hasRole } from "./access.js";
import { agentActivity, conversationsByDay, firstResponseStats, inboundByChannel, type AnalyticsScope, type FirstResponseRow } from "./analytics-sql.js";
import { getInbox } from "./inboxes.js";
import { parseInput } from "./validation.js";

/** Longest range one call may cover: a year of daily rows (a leap year, plus a partial day). */
export const MAX_RANGE_DAYS = 367;

/** Median and 90th percentile of a duration, in seconds; both null when there is no sample. */
export interface DurationStats {
  median: number | null;
  p90: number | null;
  /** How many samples (conversations) the figures are computed from. */
  count: number;
}

export interface AgentFigures {
  user: User;
  /** Distinct conversations the agent sent at least one reply to in the range. */
  conversationsRepliedTo: number;
  /** Agent replies (outbound, not comments) the agent sent in the range. */
  repliesSent: number;
  /** Conversations closed in the range while assigned to the agent. */
  conversationsClosed: number;
  /** Conversations whose first response in the range was this agent's. */
  firstResponseTime: DurationStats;
}

export interface TeamFigures {
  conversationsOpened: number;
  conversationsClosed: number;
  firstResponseTime: DurationStats;
  /** closedAt - createdAt of the conversations closed in the range. */
  timeToClose: DurationStats;
  /** Open, unassigned conversations right now (not limited to the range). */
  unassignedBacklog: number;
}

export interface InboundFigures {
  inboundConversations: number;
  inboundMessages: number;
}

export interface DailyFigures {
  /** Local calendar date (YYYY-MM-DD) in the requested time zone. */
  date: string;
  opened: number;
  closed: number;
  /** Median first response time (seconds) of the first responses sent that day; null if none. */
  firstResponseTimeMedian: number | null;
}

export interface AnalyticsReport {
  from: Date;
  to: Date;
  timeZone: string;
  inboxId: string | null;
  agents: AgentFigures[];
  /** Null for an AGENT caller: team-level figures are for admins. */
  team: TeamFigures | null;
  channels: Array<InboundFigures & { channel: Channel }>;
  channelTypes: Array<InboundFigures & { type: ChannelType }>;
  daily: DailyFigures[];
}

/** True when PostgreSQL and Intl both understand `name` as an IANA zone (offset strings are refused: PostgreSQL reads their sign the POSIX way). */
function isIanaTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const argsSchema = z
  .object({
    from: z.date(),
    to: z.date(),
    timeZone: z
      .string()
      .trim()
      .nullish()
      .transform((tz) => tz || "UTC")
      .refine(isIanaTimeZone, "Must be an IANA time zone name, e.g. Europe/Berlin"),
  })
  .superRefine((args, issue) => {
    if (args.from.getTime() >= args.to.getTime()) issue.addIssue({ code: "custom", path: ["to"], message: "Must be after from" });
    else if (args.to.getTime() - args.from.getTime() > MAX_RANGE_DAYS * 86_400_000) {
      issue.addIssue({ code: "custom", path: ["to"], message: `The range may span at most ${MAX_RANGE_DAYS} days` });
    }
  });

const noSamples: DurationStats = { median: null, p90: null, count: 0 };
const stats = (row: FirstResponseRow | undefined): DurationStats => (row ? { median: row.median, p90: row.p90, count: row.count } : noSamples);

/**
 * Who answers, how fast, how much, per channel, over `[from, to)`.
 *
 * - Admins and super admins: every agent of the account (active ones, plus removed ones with
 *   figures), team figures, per-channel and per-type inbound volumes and the daily series.
 * - Agents: only their own row in `agents`; `team` is null and `channels`, `channelTypes` and
 *   `daily` are empty (no error: the same dashboard query works for everyone).
 *
 * First response time: from a conversation's first inbound message to the first agent reply at or
 * after it (outbound, senderType AGENT; comments and bot messages do not count), counted in the
 * range in which that reply was sent. `inboxId` limits everything to conversations of that inbox
 * (NotFoundError if the caller cannot see it). `timeZone` (IANA, default UTC) sets the day
 * boundaries of `daily`. A fixed handful of SQL statements per call, whatever the data size.
 */
export async function getAnalytics(
  ctx: AgentContext,
  input: { from: Date; to: Date; inboxId?: string | null; timeZone?: string | null },
): Promise<AnalyticsReport> {
  const args = parseInput(argsSchema, { from: input.from, to: input.to, timeZone: input.timeZone }, []);
  const isAdmin = hasRole(ctx.user.role, "ADMIN");
  const inboxId = input.inboxId ?? null;
  if (inboxId !== null) await getInbox(ctx, inboxId, { select: { id: true } });
  const scope: AnalyticsScope = { accountId: ctx.accountId, from: args.from, to: args.to, timeZone: args.timeZone, inboxId, userId: isAdmin ? null : ctx.user.id };

  // One read-only snapshot, so that the figures agree with each other. These statements sort and
  // hash a range's worth of rows: give them memory to do it without spilling, and skip JIT, whose
  // compile time (around a second) costs more than it saves on queries of this size.
  const { responses, activity, days, inbound, users, channels } = await ctx.prisma.$transaction(
    async (tx) => {
      await tx.$executeRaw`SET TRANSACTION READ ONLY`;
      await tx.$executeRaw`SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)`;
      const responses = await firstResponseStats(tx, scope);
      const activity = await agentActivity(tx, scope);
      const days = isAdmin ? await conversationsByDay(tx, scope) : [];
      const inbound = isAdmin ? await inboundByChannel(tx, scope) : [];
      const withFigures = [...new Set([...responses.flatMap((r) => (r.kind === "responder" && r.responderId ? [r.responderId] : [])), ...activity.map((r) => r.userId)])];
      const users = await tx.user.findMany({
        where: isAdmin ? { accountId: ctx.accountId, OR: [{ removedAt: null }, { id: { in: withFigures } }] } : { accountId: ctx.accountId, id: ctx.user.id },
        orderBy: [{ firstName: "asc" }, { lastName: "asc" }, { id: "asc" }],
      });
      // Every live channel in scope is listed (zeros included), plus deleted ones that still have figures.
      const channels = isAdmin
        ? await tx.channel.findMany({
            where: { accountId: ctx.accountId, OR: [{ deletedAt: null, ...(inboxId ? { inboxId } : {}) }, { id: { in: inbound.flatMap((r) => (r.channelId ? [r.channelId] : [])) } }] },
            orderBy: [{ createdAt: "asc" }, { id: "asc" }],
          })
        : [];
      return { responses, activity, days, inbound, users, channels };
    },
    { isolationLevel: "RepeatableRead", maxWait: 10_000, timeout: 120_000 },
  );

  const responseByAgent = new Map(responses.filter((r) => r.kind === "responder" && r.responderId).map((r) => [r.responderId!, r]));
  const activityByAgent = new Map(activity.map((r) => [r.userId, r]));
  const agents = users.map((user): AgentFigures => {
    const a = activityByAgent.get(user.id);
    return {
      user,
      conversationsRepliedTo: a?.conversationsRepliedTo ?? 0,
      repliesSent: a?.repliesSent ?? 0,
      conversationsClosed: a?.conversationsClosed ?? 0,
      firstResponseTime: stats(responseByAgent.get(user.id)),
    };
  });

  const report: AnalyticsReport = { from: args.from, to: args.to, timeZone: args.timeZone, inboxId, agents, team: null, channels: [], channelTypes: [], daily: [] };
  if (!isAdmin) return report;

  const total = days.find((d) => d.day === null);
  if (!total) throw new Error("analytics: the whole-range row is missing"); // an aggregate without GROUP BY always yields one row
  report.team = {
    conversationsOpened: total.opened,
    conversationsClosed: total.closed,
    firstResponseTime: stats(responses.find((r) => r.kind === "total")),
    timeToClose: { median: total.timeToCloseMedian, p90: total.timeToCloseP90, count: total.closed },
    unassignedBacklog: total.unassignedBacklog ?? 0,
  };
  const responseByDay = new Map(responses.filter((r) => r.kind === "day").map((r) => [r.day!, r.median]));
  report.daily = days
    .filter((d) => d.day !== null)
    .map((d) => ({ date: d.day!, opened: d.opened, closed: d.closed, firstResponseTimeMedian: responseByDay.get(d.day!) ?? null }));

  const inboundByChannelId = new Map(inbound.filter((r) => r.channelId).map((r) => [r.channelId!, r]));
  report.channels = channels.map((channel) => {
    const r = inboundByChannelId.get(channel.id);
    return { channel, inboundConversations: r?.inboundConversations ?? 0, inboundMessages: r?.inboundMessages ?? 0 };
  });
  const inboundByType = new Map(inbound.filter((r) => !r.channelId).map((r) => [r.type, r]));
  const types = [...new Set([...channels.map((c) => c.type), ...inboundByType.keys()])].sort();
  report.channelTypes = types.map((type) => ({
    type,
    inboundConversations: inboundByType.get(type)?.inboundConversations ?? 0,
    inboundMessages: inboundByType.get(type)?.inboundMessages ?? 0,
  }));
  return report;
}
