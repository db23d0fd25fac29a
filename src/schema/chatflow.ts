import type { Chatflow } from "../generated/prisma/client.js";
import type { ChatflowAnalytics } from "../services/chatflows.js";
import { quickRepliesOfMessage } from "../services/chatflows.js";
import { builder } from "./builder.js";
import { toGlobalId } from "./ids.js";
import { VisitorMessageType } from "./widget.js";

/** Chatflows: what a chat widget or a Messenger page runs (admins manage them; the widget reads the one for its page). */

export const ChatflowKindEnum = builder.enumType("ChatflowKind", {
  description: "What a chatflow does.",
  values: {
    LIVE_CHAT: { description: "Straight to the team: the widget opens a chat (Messenger: the instant reply is sent)." },
    BOT: { description: "A graph of actions (see `actions`) that the server runs on each visitor message." },
  } as const,
});

export const ChatflowTriggerEnum = builder.enumType("ChatflowTrigger", {
  description: "When the widget shows the flow.",
  values: {
    PAGE_LOAD: { description: "As soon as the page loads." },
    AFTER_SECONDS: { description: "After `triggerValue` seconds on the page." },
    SCROLL_PERCENT: { description: "Once the visitor has scrolled `triggerValue` percent of the page." },
    EXIT_INTENT: { description: "When the widget sees the visitor about to leave (the pointer leaves through the top of the window)." },
  } as const,
});

export const BotAvailabilityEnum = builder.enumType("BotAvailability", {
  description: "When a bot runs.",
  values: {
    ALWAYS: { description: "At any time." },
    BUSINESS_HOURS: { description: "Only within the chat channel's chat hours; outside them the bot starts at `awayActionId` (none: it does not start)." },
  } as const,
});

export const UrlMatchEnum = builder.enumType("ChatflowUrlMatch", {
  description: "How a targeting rule compares the page URL.",
  values: {
    EQUALS: { description: "The same URL (ignoring the query string, the fragment and a trailing slash)." },
    CONTAINS: { description: "The URL contains the value." },
    STARTS_WITH: { description: "The URL starts with the value." },
    MATCHES: { description: "The URL matches the value as a regular expression." },
  } as const,
});

const UrlRule = builder.objectRef<{ match: "EQUALS" | "CONTAINS" | "STARTS_WITH" | "MATCHES"; value: string }>("ChatflowUrlRule").implement({
  description: "One page-URL rule of a chatflow's targeting.",
  fields: (t) => ({
    match: t.expose("match", { type: UrlMatchEnum, description: "How the URL is compared." }),
    value: t.exposeString("value", { description: "What it is compared with." }),
  }),
});
const QueryRule = builder.objectRef<{ name: string; value?: string }>("ChatflowQueryRule").implement({
  description: "A query parameter the page URL must carry.",
  fields: (t) => ({
    name: t.exposeString("name", { description: "The parameter's name." }),
    value: t.string({ nullable: true, description: "Its required value; null: any value.", resolve: (r) => r.value ?? null }),
  }),
});
type TargetingShape = { include?: { match: "EQUALS" | "CONTAINS" | "STARTS_WITH" | "MATCHES"; value: string }[]; exclude?: TargetingShape["include"]; query?: { name: string; value?: string }[] };
const Targeting = builder.objectRef<TargetingShape>("ChatflowTargeting").implement({
  description: "Which pages show a chatflow: any include rule (none: every page), no exclude rule, every query rule.",
  fields: (t) => ({
    include: t.field({ type: [UrlRule], description: "The page URL matches at least one of these (empty: every page).", resolve: (x) => x.include ?? [] }),
    exclude: t.field({ type: [UrlRule], description: "The page URL matches none of these.", resolve: (x) => x.exclude ?? [] }),
    query: t.field({ type: [QueryRule], description: "Query parameters the page URL must carry.", resolve: (x) => x.query ?? [] }),
  }),
});

export const ChatflowType = builder.prismaNode("Chatflow", {
  nullable: true,
  id: { field: "id" },
  // Admins only, like the chatflow fields: an agent's node(id) finds nothing.
  findUnique: (id, ctx) => ({ id, accountId: ctx.kind === "agent" && ctx.user.role !== "AGENT" ? ctx.accountId : "" }),
  description: "A live-chat or bot flow of a chat channel (several, chosen per page) or a Messenger page (its default flow). Admins only.",
  fields: (t) => ({
    name: t.exposeString("name", { description: "Display name." }),
    kind: t.expose("kind", { type: ChatflowKindEnum, description: "LIVE_CHAT or BOT." }),
    language: t.exposeString("language", { description: "Language tag of the flow's texts (en, it-IT...)." }),
    priority: t.exposeInt("priority", { description: "Lower first: the first published flow whose targeting matches the page wins." }),
    published: t.exposeBoolean("published", { description: "Only published flows run." }),
    isDefault: t.exposeBoolean("isDefault", { description: "The flow created with a Messenger channel (its greeting and instant reply)." }),
    targeting: t.field({ type: Targeting, description: "Which pages show it (widget only).", resolve: (f) => (f.targeting ?? {}) as TargetingShape }),
    trigger: t.expose("trigger", { type: ChatflowTriggerEnum, description: "When the widget shows it." }),
    triggerValue: t.exposeInt("triggerValue", { nullable: true, description: "Seconds (AFTER_SECONDS) or percent (SCROLL_PERCENT)." }),
    botAvailability: t.expose("botAvailability", { type: BotAvailabilityEnum, description: "When a bot runs." }),
    greeting: t.exposeString("greeting", { nullable: true, description: "Shown beside the launcher when the trigger fires (Messenger: the page's greeting)." }),
    instantReply: t.exposeString("instantReply", { nullable: true, description: "LIVE_CHAT: sent automatically after the first message (Messenger)." }),
    actions: t.field({ type: ["JSONObject"], description: "BOT: the graph of actions, as stored (see the README's chatflow section for each type).", resolve: (f) => (f.actions ?? []) as Record<string, unknown>[] }),
    startActionId: t.exposeString("startActionId", { nullable: true, description: "BOT: the first action." }),
    handoffActionId: t.exposeString("handoffActionId", { nullable: true, description: "BOT: where a visitor who types “agent” or “human” at any question goes (none: the channel's routing)." }),
    awayActionId: t.exposeString("awayActionId", { nullable: true, description: "BOT with BUSINESS_HOURS: where it starts outside business hours." }),
    webhookSecret: t.exposeString("webhookSecret", { description: "Signs the bot's webhook calls (X-Inbox-Signature: sha256 HMAC of `timestamp.body`)." }),
    channel: t.relation("channel", { description: "The chat or Messenger channel it runs on." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was created." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When it was last changed." }),
  }),
});

const UrlRuleInput = builder.inputType("ChatflowUrlRuleInput", {
  description: "One page-URL rule.",
  fields: (t) => ({
    match: t.field({ type: UrlMatchEnum, required: true, description: "How the URL is compared." }),
    value: t.string({ required: true, description: "What it is compared with." }),
  }),
});
const QueryRuleInput = builder.inputType("ChatflowQueryRuleInput", {
  description: "A query parameter the page URL must carry.",
  fields: (t) => ({
    name: t.string({ required: true, description: "The parameter's name." }),
    value: t.string({ description: "Its required value; omit for any value." }),
  }),
});
export const TargetingInput = builder.inputType("ChatflowTargetingInput", {
  description: "Which pages show the flow.",
  fields: (t) => ({
    include: t.field({ type: [UrlRuleInput], description: "At least one must match (empty: every page)." }),
    exclude: t.field({ type: [UrlRuleInput], description: "None may match." }),
    query: t.field({ type: [QueryRuleInput], description: "Every one must be present." }),
  }),
});

export const CreateChatflowInput = builder.inputType("CreateChatflowInput", {
  description: "A new chatflow (admins). A BOT's graph is checked: unknown targets, unreachable actions and question-less loops are refused with their paths.",
  fields: (t) => ({
    channelId: t.id({ required: true, description: "The CHAT or FACEBOOK_MESSENGER channel." }),
    name: t.string({ required: true, description: "Display name." }),
    kind: t.field({ type: ChatflowKindEnum, required: true, description: "LIVE_CHAT or BOT." }),
    language: t.string({ description: "Language tag; default en." }),
    priority: t.int({ description: "Lower first; default 0." }),
    published: t.boolean({ description: "Default false." }),
    targeting: t.field({ type: TargetingInput, description: "Default: every page." }),
    trigger: t.field({ type: ChatflowTriggerEnum, description: "Default PAGE_LOAD." }),
    triggerValue: t.int({ description: "Seconds (AFTER_SECONDS) or percent (SCROLL_PERCENT); required for those." }),
    botAvailability: t.field({ type: BotAvailabilityEnum, description: "Default ALWAYS." }),
    greeting: t.string({ description: "Shown beside the launcher when the trigger fires." }),
    instantReply: t.string({ description: "LIVE_CHAT on Messenger: sent after the first message." }),
    actions: t.field({ type: ["JSONObject"], description: "BOT: its actions ({ id, type, ... }; see the README)." }),
    startActionId: t.string({ description: "BOT: the first action (required for a bot)." }),
    handoffActionId: t.string({ description: "BOT: the hand-off action for “agent”/“human”." }),
    awayActionId: t.string({ description: "BOT: the start outside business hours." }),
  }),
});

export const UpdateChatflowInput = builder.inputType("UpdateChatflowInput", {
  description: "Changes a chatflow (admins): omitted fields keep their value; the resulting flow is checked as a whole.",
  fields: (t) => ({
    chatflowId: t.id({ required: true, description: "The chatflow to change." }),
    name: t.string({ description: "Display name." }),
    kind: t.field({ type: ChatflowKindEnum, description: "LIVE_CHAT or BOT." }),
    language: t.string({ description: "Language tag." }),
    priority: t.int({ description: "Lower first." }),
    published: t.boolean({ description: "Only published flows run." }),
    targeting: t.field({ type: TargetingInput, description: "Which pages show it." }),
    trigger: t.field({ type: ChatflowTriggerEnum, description: "When the widget shows it." }),
    triggerValue: t.int({ description: "Seconds or percent, by trigger." }),
    botAvailability: t.field({ type: BotAvailabilityEnum, description: "When a bot runs." }),
    greeting: t.string({ description: "Shown beside the launcher when the trigger fires." }),
    instantReply: t.string({ description: "LIVE_CHAT on Messenger: sent after the first message." }),
    actions: t.field({ type: ["JSONObject"], description: "BOT: the full new list of actions." }),
    startActionId: t.string({ description: "BOT: the first action." }),
    handoffActionId: t.string({ description: "BOT: the hand-off action." }),
    awayActionId: t.string({ description: "BOT: the start outside business hours." }),
  }),
});

export const DeleteChatflowInput = builder.inputType("DeleteChatflowInput", {
  description: "Deletes a chatflow (admins).",
  fields: (t) => ({ chatflowId: t.id({ required: true, description: "The chatflow to delete." }) }),
});

export const ChatflowResult = builder.objectRef<{ chatflow: Chatflow }>("ChatflowResult").implement({
  description: "The chatflow as stored.",
  fields: (t) => ({ chatflow: t.field({ type: ChatflowType, description: "The chatflow.", resolve: (r) => r.chatflow }) }),
});

export const DeleteChatflowResult = builder.objectRef<{ deletedChatflowId: string }>("DeleteChatflowResult").implement({
  description: "The chatflow is gone (with its sessions).",
  fields: (t) => ({ deletedChatflowId: t.id({ description: "Its id.", resolve: (r) => toGlobalId("Chatflow", r.deletedChatflowId) }) }),
});

const DroppedAt = builder.objectRef<{ actionId: string; count: number }>("ChatflowDropOff").implement({
  description: "Sessions that went quiet at one action.",
  fields: (t) => ({
    actionId: t.exposeString("actionId", { description: "The action they stopped at (a question waiting for an answer)." }),
    count: t.exposeInt("count", { description: "How many." }),
  }),
});

export const ChatflowAnalyticsType = builder.objectRef<ChatflowAnalytics>("ChatflowAnalytics").implement({
  description: "A bot's sessions started in the range, by outcome.",
  fields: (t) => ({
    started: t.exposeInt("started", { description: "Conversations the bot started." }),
    completed: t.exposeInt("completed", { description: "Reached the end of the flow." }),
    handedOff: t.exposeInt("handedOff", { description: "Sent to the team (or to its fallback), or the visitor asked for a person." }),
    takenOver: t.exposeInt("takenOver", { description: "An agent replied while the bot was running." }),
    inProgress: t.exposeInt("inProgress", { description: "Still waiting for the visitor." }),
    droppedAt: t.field({ type: [DroppedAt], description: "Unfinished sessions idle for idleMinutes or more, by the action they stopped at (most first).", resolve: (a) => a.droppedAt }),
  }),
});

/** What the widget needs of the flow for its page. */
export const WidgetChatflowType = builder.objectRef<Chatflow>("WidgetChatflow").implement({
  description: "The chatflow the widget runs on this page.",
  fields: (t) => ({
    id: t.id({ description: "Pass it to startChat as chatflowId.", resolve: (f) => toGlobalId("Chatflow", f.id) }),
    kind: t.expose("kind", { type: ChatflowKindEnum, description: "BOT: the chat starts as the visitor opens the panel and the bot greets." }),
    language: t.exposeString("language", { description: "Language tag of its texts." }),
    trigger: t.expose("trigger", { type: ChatflowTriggerEnum, description: "When to show it." }),
    triggerValue: t.exposeInt("triggerValue", { nullable: true, description: "Seconds or percent, by trigger." }),
    greeting: t.exposeString("greeting", { nullable: true, description: "The prompt shown beside the launcher when the trigger fires." }),
  }),
});

const QuickReplyType = builder.objectRef<{ label: string; value: string }>("QuickReply").implement({
  description: "A button the visitor may click instead of typing.",
  fields: (t) => ({
    label: t.exposeString("label", { description: "What the button says (and what is sent when clicked)." }),
    value: t.exposeString("value", { description: "The answer it stands for." }),
  }),
});

builder.objectField(VisitorMessageType, "quickReplies", (t) =>
  t.field({ type: [QuickReplyType], description: "A bot question's quick replies (empty for other messages).", resolve: (m) => quickRepliesOfMessage(m.metadata) }),
);
