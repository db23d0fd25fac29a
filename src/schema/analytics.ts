import { builder } from "./builder.js";
import { ChannelObject, ChannelTypeEnum } from "./channel.js";
import { UserType } from "./people.js";
import type { AgentFigures, AnalyticsReport, DailyFigures, DurationStats, InboundFigures, TeamFigures } from "../services/analytics.js";
import type { Channel, ChannelType } from "../generated/prisma/client.js";

export const DurationStatsType = builder.objectRef<DurationStats>("DurationStats").implement({
  description: "Median and 90th percentile of a duration, in seconds (both null when there is no sample).",
  fields: (t) => ({
    median: t.exposeFloat("median", { nullable: true, description: "Median, in seconds." }),
    p90: t.exposeFloat("p90", { nullable: true, description: "90th percentile (continuous), in seconds." }),
    count: t.exposeInt("count", { description: "Number of conversations the figures are computed from." }),
  }),
});

export const AgentAnalyticsType = builder.objectRef<AgentFigures>("AgentAnalytics").implement({
  description: "One agent's figures over the range.",
  fields: (t) => ({
    agent: t.field({ type: UserType, nullable: false, description: "The agent these figures are for.", resolve: (row) => row.user }),
    conversationsRepliedTo: t.exposeInt("conversationsRepliedTo", { description: "Distinct conversations the agent replied to in the range." }),
    repliesSent: t.exposeInt("repliesSent", { description: "Replies (outbound agent messages; comments excluded) the agent sent in the range." }),
    conversationsClosed: t.exposeInt("conversationsClosed", {
      description: "Conversations closed in the range while assigned to the agent (closing is credited to the assignee).",
    }),
    firstResponseTime: t.field({
      type: DurationStatsType,
      description: "First response times of the conversations whose first reply, sent in the range, was this agent's.",
      resolve: (row) => row.firstResponseTime,
    }),
  }),
});

export const TeamAnalyticsType = builder.objectRef<TeamFigures>("TeamAnalytics").implement({
  description: "Whole-team figures over the range.",
  fields: (t) => ({
    conversationsOpened: t.exposeInt("conversationsOpened", { description: "Conversations created in the range." }),
    conversationsClosed: t.exposeInt("conversationsClosed", { description: "Conversations closed in the range." }),
    firstResponseTime: t.field({
      type: DurationStatsType,
      description:
        "From a conversation's first inbound message to the first agent reply after it (comments and bot messages do not count), for first replies sent in the range.",
      resolve: (row) => row.firstResponseTime,
    }),
    timeToClose: t.field({
      type: DurationStatsType,
      description: "From creation to closing, for conversations closed in the range.",
      resolve: (row) => row.timeToClose,
    }),
    unassignedBacklog: t.exposeInt("unassignedBacklog", { description: "Open, unassigned conversations right now (independent of the range)." }),
  }),
});

export const ChannelAnalyticsType = builder.objectRef<InboundFigures & { channel: Channel }>("ChannelAnalytics").implement({
  description: "Inbound volume of one channel over the range.",
  fields: (t) => ({
    channel: t.field({ type: ChannelObject, description: "The channel (deleted channels included when they had traffic in the range).", resolve: (row) => row.channel }),
    inboundConversations: t.exposeInt("inboundConversations", {
      description: "Distinct conversations that received at least one customer message through this channel in the range.",
    }),
    inboundMessages: t.exposeInt("inboundMessages", { description: "Customer messages received through this channel in the range." }),
  }),
});

export const ChannelTypeAnalyticsType = builder.objectRef<InboundFigures & { type: ChannelType }>("ChannelTypeAnalytics").implement({
  description: "Inbound volume of all channels of one type over the range.",
  fields: (t) => ({
    type: t.expose("type", { type: ChannelTypeEnum, description: "The channel type." }),
    inboundConversations: t.exposeInt("inboundConversations", {
      description: "Distinct conversations that received at least one customer message through a channel of this type in the range.",
    }),
    inboundMessages: t.exposeInt("inboundMessages", { description: "Customer messages received through channels of this type in the range." }),
  }),
});

export const DailyAnalyticsType = builder.objectRef<DailyFigures>("DailyAnalytics").implement({
  description: "One local calendar day of the range (in the requested time zone).",
  fields: (t) => ({
    date: t.exposeString("date", { description: "Local date, YYYY-MM-DD." }),
    opened: t.exposeInt("opened", { description: "Conversations created that day." }),
    closed: t.exposeInt("closed", { description: "Conversations closed that day." }),
    firstResponseTimeMedian: t.exposeFloat("firstResponseTimeMedian", {
      nullable: true,
      description: "Median first response time (seconds) of the first replies sent that day; null when there were none.",
    }),
  }),
});

export const AnalyticsType = builder.objectRef<AnalyticsReport>("Analytics").implement({
  description:
    "Who answers, how fast, how much, per channel, over [from, to). Admins see every figure; an agent sees only their own row in `agents`, with `team` null and the other lists empty.",
  fields: (t) => ({
    from: t.field({ type: "DateTime", description: "Inclusive start of the range.", resolve: (r) => r.from }),
    to: t.field({ type: "DateTime", resolve: (r) => r.to, description: "Exclusive end of the range." }),
    timeZone: t.exposeString("timeZone", { description: "IANA time zone of the daily series." }),
    agents: t.field({
      type: [AgentAnalyticsType],
      description: "Admins: every active agent (and removed ones with figures in the range). Agents: only their own row.",
      resolve: (r) => r.agents,
    }),
    team: t.field({ type: TeamAnalyticsType, nullable: true, description: "Team-wide figures; null for agents (admin-only).", resolve: (r) => r.team }),
    channels: t.field({
      type: [ChannelAnalyticsType],
      description: "Every live channel in scope (and deleted ones with figures). Empty for agents (admin-only).",
      resolve: (r) => r.channels,
    }),
    channelTypes: t.field({
      type: [ChannelTypeAnalyticsType],
      description: "Per channel type in scope. Empty for agents (admin-only).",
      resolve: (r) => r.channelTypes,
    }),
    daily: t.field({
      type: [DailyAnalyticsType],
      description: "One row per local day of the range, zeros included, for charts. Empty for agents (admin-only).",
      resolve: (r) => r.daily,
    }),
  }),
});
