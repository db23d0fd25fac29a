import type { Form, Pipeline, PipelineStatus, Team, User } from "../generated/prisma/client.js";
import { builder } from "./builder.js";
import { callerAccountId } from "./scope.js";
import { toGlobalId } from "./ids.js";
import { TeamType, UserType } from "./people.js";
import { PipelineStatusType, PipelineType } from "./pipeline.js";
import { TicketPriorityEnum } from "./ticket.js";
import {
  CallingInput,
  CallingSettingsType,
  ChatInput,
  ChatSettingsType,
  CustomChannelInput,
  FacebookMessengerInput,
  FacebookMessengerSettingsType,
  FormChannelInput,
  FormObject,
  TeamEmailInput,
  TeamEmailSettingsType,
  WhatsAppInput,
  WhatsAppSettingsType,
} from "./channel-settings.js";
import type { Channel } from "../generated/prisma/client.js";
import type { ChatSettings } from "../services/channel-settings.js";

export const ChannelTypeEnum = builder.enumType("ChannelType", {
  values: ["TEAM_EMAIL", "CHAT", "FACEBOOK_MESSENGER", "FORM", "WHATSAPP", "CALLING", "CUSTOM"] as const,
});
export const ChannelStatusEnum = builder.enumType("ChannelStatus", {
  values: ["ON", "OFF"] as const,
  description: "OFF stops intake without deleting anything.",
});
export const RoutingTargetEnum = builder.enumType("RoutingTarget", {
  values: {
    SPECIFIC: { description: "The chosen users and the members of the chosen teams." },
    CONTACT_OWNER: { description: "The contact's owner (the contact must have one and be a tracked visitor)." },
  } as const,
});

type Routing = { autoAssign: boolean; target: "SPECIFIC" | "CONTACT_OWNER"; onlyAvailable: boolean; users: User[]; teams: Team[] };
const ChannelRoutingType = builder.objectRef<Routing>("ChannelRouting").implement({
  description: "How new conversations of the channel are assigned. Only users with a PAID seat are ever picked.",
  fields: (t) => ({
    autoAssign: t.exposeBoolean("autoAssign"),
    target: t.expose("target", { type: RoutingTargetEnum }),
    onlyAvailable: t.exposeBoolean("onlyAvailable", { description: "Only AVAILABLE users; if none is, the conversation stays unassigned." }),
    users: t.field({ type: [UserType], resolve: (r) => r.users }),
    teams: t.field({ type: [TeamType], resolve: (r) => r.teams }),
  }),
});

type TicketDefaults = { createTickets: boolean; pipeline: Pipeline | null; status: PipelineStatus | null; priority: "LOW" | "MEDIUM" | "HIGH" | "URGENT" | null; owner: User | null };
const ChannelTicketDefaultsType = builder.objectRef<TicketDefaults>("ChannelTicketDefaults").implement({
  description: "Defaults for the tickets the channel creates.",
  fields: (t) => ({
    createTickets: t.exposeBoolean("createTickets"),
    pipeline: t.field({ type: PipelineType, nullable: true, description: "Null: the account's default pipeline.", resolve: (d) => d.pipeline }),
    status: t.field({ type: PipelineStatusType, nullable: true, description: "Null: the pipeline's first status.", resolve: (d) => d.status }),
    priority: t.field({ type: TicketPriorityEnum, nullable: true, resolve: (d) => d.priority }),
    owner: t.field({ type: UserType, nullable: true, description: "Null: the ticket owner is the conversation's owner.", resolve: (d) => d.owner }),
  }),
});

const FormChannelSettingsType = builder.objectRef<{ form: Form | null; createTickets: boolean }>("FormChannelSettings").implement({
  fields: (t) => ({
    form: t.field({ type: FormObject, nullable: true, resolve: (s) => s.form }),
    createTickets: t.exposeBoolean("createTickets", { description: "Each submission also becomes a ticket." }),
  }),
});

/** The settings Json of a channel of `type`, or null for channels of other types. */
function settingsOf<T>(channel: Pick<Channel, "type" | "settings">, type: Channel["type"]): T | null {
  return channel.type === type ? (channel.settings as T) : null;
}

export const ChannelObject = builder.prismaNode("Channel", {
  nullable: true,
  id: { field: "id" },
  findUnique: (id, ctx) => ({ id, accountId: callerAccountId(ctx), deletedAt: null }),
  description:
    "A path by which customers reach the team, connected to one inbox or the help desk. Its type's settings are in the field named for the type (teamEmail, chat, facebookMessenger, form, whatsApp, calling, custom); the others are null.",
  fields: (t) => ({
    name: t.exposeString("name"),
    type: t.expose("type", { type: ChannelTypeEnum }),
    status: t.expose("status", { type: ChannelStatusEnum }),
    inbox: t.relation("inbox"),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    updatedAt: t.expose("updatedAt", { type: "DateTime" }),
    movedToHelpDeskAt: t.expose("movedToHelpDeskAt", { type: "DateTime", nullable: true, description: "When it was moved to the help desk (irreversible)." }),
    routing: t.field({
      type: ChannelRoutingType,
      select: {
        autoAssign: true,
        routingTarget: true,
        onlyAvailable: true,
        routingUsers: { where: { user: { removedAt: null } }, select: { user: true } },
        routingTeams: { select: { team: true } },
      },
      resolve: (c) => ({ autoAssign: c.autoAssign, target: c.routingTarget, onlyAvailable: c.onlyAvailable, users: c.routingUsers.map((r) => r.user), teams: c.routingTeams.map((r) => r.team) }),
    }),
    ticketDefaults: t.field({
      type: ChannelTicketDefaultsType,
      select: { createTickets: true, ticketPriority: true, ticketPipeline: true, ticketStatus: true, ticketOwner: true },
      resolve: (c) => ({ createTickets: c.createTickets, pipeline: c.ticketPipeline, status: c.ticketStatus, priority: c.ticketPriority, owner: c.ticketOwner }),
    }),
    conversationDefaults: t.field({
      type: "JSONObject",
      description: "Default properties of the channel's new conversations.",
      select: { conversationDefaults: true },
      resolve: (c) => (c.conversationDefaults ?? {}) as Record<string, unknown>,
    }),
    teamEmail: t.field({ type: TeamEmailSettingsType, nullable: true, select: { type: true, settings: true }, resolve: (c) => settingsOf(c, "TEAM_EMAIL") }),
    chat: t.field({
      type: ChatSettingsType,
      nullable: true,
      select: { id: true, type: true, settings: true },
      resolve: (c) => {
        const s = settingsOf<ChatSettings>(c, "CHAT");
        return s && { ...s, channelId: c.id };
      },
    }),
    facebookMessenger: t.field({ type: FacebookMessengerSettingsType, nullable: true, select: { type: true, settings: true }, resolve: (c) => settingsOf(c, "FACEBOOK_MESSENGER") }),
    form: t.field({
      type: FormChannelSettingsType,
      nullable: true,
      select: { type: true, createTickets: true, form: true },
      resolve: (c) => (c.type === "FORM" ? { form: c.form, createTickets: c.createTickets } : null),
    }),
    whatsApp: t.field({ type: WhatsAppSettingsType, nullable: true, select: { type: true, settings: true }, resolve: (c) => settingsOf(c, "WHATSAPP") }),
    calling: t.field({ type: CallingSettingsType, nullable: true, select: { type: true, settings: true }, resolve: (c) => settingsOf(c, "CALLING") }),
  }),
});

// ---- inputs and payloads ---------------------------------------------------------------------
export const RoutingInput = builder.inputType("ChannelRoutingInput", {
  description: "On update, omitted fields keep their value.",
  fields: (t) => ({
    autoAssign: t.boolean({ description: "Default false." }),
    target: t.field({ type: RoutingTargetEnum, description: "Default SPECIFIC." }),
    userIds: t.idList(),
    teamIds: t.idList(),
    onlyAvailable: t.boolean({ description: "Default true." }),
  }),
});

export const TicketDefaultsInput = builder.inputType("ChannelTicketDefaultsInput", {
  description: "On update, omitted fields keep their value and null clears one.",
  fields: (t) => ({
    createTickets: t.boolean({ description: "Default false. Refused for inbox channels of accounts created on or after 2024-04-01 (use the help desk)." }),
    pipelineId: t.id(),
    statusId: t.id(),
    priority: t.field({ type: TicketPriorityEnum }),
    ownerId: t.id({ description: "Null: the conversation's owner." }),
  }),
});

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

/** The per-type settings parts shared by connect and update. */
const typeFields = (t: PothosSchemaTypes.InputFieldBuilder<Types, "InputObject">) => ({
  teamEmail: t.field({ type: TeamEmailInput }),
  chat: t.field({ type: ChatInput }),
  facebookMessenger: t.field({ type: FacebookMessengerInput }),
  form: t.field({ type: FormChannelInput }),
  whatsApp: t.field({ type: WhatsAppInput }),
  calling: t.field({ type: CallingInput }),
  custom: t.field({ type: CustomChannelInput }),
});

export const ConnectChannelInput = builder.inputType("ConnectChannelInput", {
  description: "The common part, plus exactly one of teamEmail | chat | facebookMessenger | form | whatsApp | calling | custom (it decides the channel's type).",
  fields: (t) => ({
    inboxId: t.id({ required: true, description: "An inbox or the help desk." }),
    name: t.string({ required: true }),
    routing: t.field({ type: RoutingInput }),
    ticketDefaults: t.field({ type: TicketDefaultsInput }),
    conversationDefaults: t.field({ type: "JSONObject" }),
    ...typeFields(t),
  }),
});

export const UpdateChannelInput = builder.inputType("UpdateChannelInput", {
  description: "Only given fields change. Settings go in the field of the channel's own type; a null setting returns to its default.",
  fields: (t) => ({
    channelId: t.id({ required: true }),
    name: t.string(),
    routing: t.field({ type: RoutingInput }),
    ticketDefaults: t.field({ type: TicketDefaultsInput }),
    conversationDefaults: t.field({ type: "JSONObject" }),
    ...typeFields(t),
  }),
});

export const SetChannelStatusInput = builder.inputType("SetChannelStatusInput", {
  fields: (t) => ({ channelId: t.id({ required: true }), status: t.field({ type: ChannelStatusEnum, required: true }) }),
});
export const ChannelIdInput = builder.inputType("DeleteChannelInput", { fields: (t) => ({ channelId: t.id({ required: true }) }) });
export const MoveChannelToHelpDeskInput = builder.inputType("MoveChannelToHelpDeskInput", {
  description: "Moving is irreversible. Only CHAT, TEAM_EMAIL, FORM and CALLING channels can move.",
  fields: (t) => ({
    channelId: t.id({ required: true }),
    bringHistory: t.boolean({ defaultValue: false, description: "Also move the channel's existing conversations." }),
    createTicketsForHistory: t.boolean({ defaultValue: false, description: "With bringHistory: a ticket for each moved conversation without one." }),
  }),
});

export const ConnectChannelResult = builder.objectRef<{ channel: Channel; inboundEmailSecret: string | null }>("ConnectChannelResult").implement({
  fields: (t) => ({
    channel: t.field({ type: ChannelObject, resolve: (r) => r.channel }),
    inboundEmailSecret: t.exposeString("inboundEmailSecret", {
      nullable: true,
      description: "TEAM_EMAIL: the secret that authenticates inbound mail for this channel. Shown this once; only its hash is kept.",
    }),
  }),
});
export const ChannelResult = builder.objectRef<{ channel: Channel }>("ChannelResult").implement({
  fields: (t) => ({ channel: t.field({ type: ChannelObject, resolve: (r) => r.channel }) }),
});
export const MoveChannelToHelpDeskResult = builder
  .objectRef<{ channel: Channel; movedConversations: number; createdTickets: number }>("MoveChannelToHelpDeskResult")
  .implement({
    fields: (t) => ({
      channel: t.field({ type: ChannelObject, resolve: (r) => r.channel }),
      movedConversations: t.exposeInt("movedConversations"),
      createdTickets: t.exposeInt("createdTickets"),
    }),
  });
export const DeleteChannelResult = builder.objectRef<{ id: string }>("DeleteChannelResult").implement({
  fields: (t) => ({ deletedChannelId: t.id({ resolve: (r) => toGlobalId("Channel", r.id) }) }),
});
