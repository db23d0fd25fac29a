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
  description: "How customers reach the team through a channel; it decides the channel's settings.",
  values: {
    TEAM_EMAIL: { description: "A shared email address (Gmail, Office 365, or any provider by forwarding)." },
    CHAT: { description: "The website chat widget." },
    FACEBOOK_MESSENGER: { description: "A Facebook business page's Messenger." },
    FORM: { description: "A form whose submissions become conversations." },
    WHATSAPP: { description: "A verified WhatsApp business number (tier PROFESSIONAL or ENTERPRISE)." },
    CALLING: { description: "A phone number for calls (tier PROFESSIONAL or ENTERPRISE)." },
    CUSTOM: { description: "An instance of a partner's channel app." },
  } as const,
});
export const ChannelStatusEnum = builder.enumType("ChannelStatus", {
  values: {
    ON: { description: "Takes messages and replies." },
    OFF: { description: "Takes no new messages and sends no replies (ChannelOffError); everything is kept." },
  } as const,
  description: "OFF stops intake without deleting anything.",
});
export const RoutingTargetEnum = builder.enumType("RoutingTarget", {
  description: "Whom automatic assignment picks from.",
  values: {
    SPECIFIC: { description: "The chosen users and the members of the chosen teams." },
    CONTACT_OWNER: { description: "The contact's owner (the contact must have one and be a tracked visitor)." },
  } as const,
});

type Routing = { autoAssign: boolean; target: "SPECIFIC" | "CONTACT_OWNER"; onlyAvailable: boolean; users: User[]; teams: Team[] };
const ChannelRoutingType = builder.objectRef<Routing>("ChannelRouting").implement({
  description: "How new conversations of the channel are assigned. Only users with a PAID seat are ever picked.",
  fields: (t) => ({
    autoAssign: t.exposeBoolean("autoAssign", { description: "Whether new conversations are assigned automatically; false leaves them unassigned." }),
    target: t.expose("target", { type: RoutingTargetEnum, description: "SPECIFIC users and teams, or the CONTACT_OWNER." }),
    onlyAvailable: t.exposeBoolean("onlyAvailable", { description: "Only AVAILABLE users; if none is, the conversation stays unassigned." }),
    users: t.field({ type: [UserType], description: "SPECIFIC: the users routing picks from (current users only).", resolve: (r) => r.users }),
    teams: t.field({ type: [TeamType], description: "SPECIFIC: teams whose members routing picks from.", resolve: (r) => r.teams }),
  }),
});

type TicketDefaults = { createTickets: boolean; pipeline: Pipeline | null; status: PipelineStatus | null; priority: "LOW" | "MEDIUM" | "HIGH" | "URGENT" | null; owner: User | null };
const ChannelTicketDefaultsType = builder.objectRef<TicketDefaults>("ChannelTicketDefaults").implement({
  description: "Defaults for the tickets the channel creates.",
  fields: (t) => ({
    createTickets: t.exposeBoolean("createTickets", { description: "Whether each new conversation of the channel also becomes a ticket." }),
    pipeline: t.field({ type: PipelineType, nullable: true, description: "Null: the account's default pipeline.", resolve: (d) => d.pipeline }),
    status: t.field({ type: PipelineStatusType, nullable: true, description: "Null: the pipeline's first status.", resolve: (d) => d.status }),
    priority: t.field({ type: TicketPriorityEnum, nullable: true, description: "Null: MEDIUM.", resolve: (d) => d.priority }),
    owner: t.field({ type: UserType, nullable: true, description: "Null: the ticket owner is the conversation's owner.", resolve: (d) => d.owner }),
  }),
});

const FormChannelSettingsType = builder.objectRef<{ form: Form | null; createTickets: boolean }>("FormChannelSettings").implement({
  description: "Settings of a FORM channel.",
  fields: (t) => ({
    form: t.field({ type: FormObject, nullable: true, description: "The form whose submissions the channel receives; null if it was removed.", resolve: (s) => s.form }),
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
    name: t.exposeString("name", { description: "Display name agents see." }),
    type: t.expose("type", { type: ChannelTypeEnum, description: "The channel's type (fixed when connected)." }),
    status: t.expose("status", { type: ChannelStatusEnum, description: "ON or OFF." }),
    inbox: t.relation("inbox", { description: "The inbox, or the help desk, the channel feeds." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was connected." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When its settings or status last changed." }),
    movedToHelpDeskAt: t.expose("movedToHelpDeskAt", { type: "DateTime", nullable: true, description: "When it was moved to the help desk (irreversible)." }),
    routing: t.field({
      type: ChannelRoutingType,
      description: "How its new conversations are assigned.",
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
      description: "Whether and how its new conversations become tickets.",
      select: { createTickets: true, ticketPriority: true, ticketPipeline: true, ticketStatus: true, ticketOwner: true },
      resolve: (c) => ({ createTickets: c.createTickets, pipeline: c.ticketPipeline, status: c.ticketStatus, priority: c.ticketPriority, owner: c.ticketOwner }),
    }),
    conversationDefaults: t.field({
      type: "JSONObject",
      description: "Default properties of the channel's new conversations.",
      select: { conversationDefaults: true },
      resolve: (c) => (c.conversationDefaults ?? {}) as Record<string, unknown>,
    }),
    teamEmail: t.field({ type: TeamEmailSettingsType, nullable: true, description: "TEAM_EMAIL settings; null for other types.", select: { type: true, settings: true }, resolve: (c) => settingsOf(c, "TEAM_EMAIL") }),
    chat: t.field({
      type: ChatSettingsType,
      nullable: true,
      description: "CHAT settings; null for other types.",
      select: { id: true, type: true, settings: true },
      resolve: (c) => {
        const s = settingsOf<ChatSettings>(c, "CHAT");
        return s && { ...s, channelId: c.id };
      },
    }),
    facebookMessenger: t.field({ type: FacebookMessengerSettingsType, nullable: true, description: "FACEBOOK_MESSENGER settings; null for other types.", select: { type: true, settings: true }, resolve: (c) => settingsOf(c, "FACEBOOK_MESSENGER") }),
    form: t.field({
      type: FormChannelSettingsType,
      nullable: true,
      description: "FORM settings; null for other types.",
      select: { type: true, createTickets: true, form: true },
      resolve: (c) => (c.type === "FORM" ? { form: c.form, createTickets: c.createTickets } : null),
    }),
    whatsApp: t.field({ type: WhatsAppSettingsType, nullable: true, description: "WHATSAPP settings; null for other types.", select: { type: true, settings: true }, resolve: (c) => settingsOf(c, "WHATSAPP") }),
    calling: t.field({ type: CallingSettingsType, nullable: true, description: "CALLING settings; null for other types.", select: { type: true, settings: true }, resolve: (c) => settingsOf(c, "CALLING") }),
  }),
});

// ---- inputs and payloads ---------------------------------------------------------------------
export const RoutingInput = builder.inputType("ChannelRoutingInput", {
  description: "On update, omitted fields keep their value.",
  fields: (t) => ({
    autoAssign: t.boolean({ description: "Default false." }),
    target: t.field({ type: RoutingTargetEnum, description: "Default SPECIFIC." }),
    userIds: t.idList({ description: "SPECIFIC: users to pick from; each must be able to see the channel's inbox (else a ValidationError names them)." }),
    teamIds: t.idList({ description: "SPECIFIC: teams whose members to pick from; each must be able to see the channel's inbox." }),
    onlyAvailable: t.boolean({ description: "Default true: only AVAILABLE users are picked; when none is, the conversation stays unassigned." }),
  }),
});

export const TicketDefaultsInput = builder.inputType("ChannelTicketDefaultsInput", {
  description: "On update, omitted fields keep their value and null clears one.",
  fields: (t) => ({
    createTickets: t.boolean({ description: "Default false. Refused for inbox channels of accounts created on or after 2024-04-01 (use the help desk)." }),
    pipelineId: t.id({ description: "Pipeline of new tickets; null: the account's default pipeline." }),
    statusId: t.id({ description: "Status of new tickets (of that pipeline); null: its first status." }),
    priority: t.field({ type: TicketPriorityEnum, description: "Priority of new tickets; null: MEDIUM." }),
    ownerId: t.id({ description: "Null: the conversation's owner." }),
  }),
});

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

/** The per-type settings parts shared by connect and update. */
const typeFields = (t: PothosSchemaTypes.InputFieldBuilder<Types, "InputObject">) => ({
  teamEmail: t.field({ type: TeamEmailInput, description: "Settings of a TEAM_EMAIL channel." }),
  chat: t.field({ type: ChatInput, description: "Settings of a CHAT (website widget) channel." }),
  facebookMessenger: t.field({ type: FacebookMessengerInput, description: "Settings of a FACEBOOK_MESSENGER channel." }),
  form: t.field({ type: FormChannelInput, description: "Settings of a FORM channel." }),
  whatsApp: t.field({ type: WhatsAppInput, description: "Settings of a WHATSAPP channel." }),
  calling: t.field({ type: CallingInput, description: "Settings of a CALLING channel." }),
  custom: t.field({ type: CustomChannelInput, description: "A CUSTOM channel: the partner's app and its credentials." }),
});

export const ConnectChannelInput = builder.inputType("ConnectChannelInput", {
  description: "The common part, plus exactly one of teamEmail | chat | facebookMessenger | form | whatsApp | calling | custom (it decides the channel's type).",
  fields: (t) => ({
    inboxId: t.id({ required: true, description: "An inbox or the help desk." }),
    name: t.string({ required: true, description: "Display name agents see." }),
    routing: t.field({ type: RoutingInput, description: "Automatic assignment; default off." }),
    ticketDefaults: t.field({ type: TicketDefaultsInput, description: "Ticket creation and defaults; default no tickets." }),
    conversationDefaults: t.field({ type: "JSONObject", description: "Properties every new conversation of the channel starts with; default {}." }),
    ...typeFields(t),
  }),
});

export const UpdateChannelInput = builder.inputType("UpdateChannelInput", {
  description: "Only given fields change. Settings go in the field of the channel's own type; a null setting returns to its default.",
  fields: (t) => ({
    channelId: t.id({ required: true, description: "The channel to edit." }),
    name: t.string({ description: "New display name." }),
    routing: t.field({ type: RoutingInput, description: "Routing changes (omitted fields keep their value)." }),
    ticketDefaults: t.field({ type: TicketDefaultsInput, description: "Ticket default changes (omitted fields keep their value)." }),
    conversationDefaults: t.field({ type: "JSONObject", description: "Replaces the default properties of new conversations." }),
    ...typeFields(t),
  }),
});

export const SetChannelStatusInput = builder.inputType("SetChannelStatusInput", {
  description: "Turns a channel on or off.",
  fields: (t) => ({
    channelId: t.id({ required: true, description: "The channel to change." }),
    status: t.field({ type: ChannelStatusEnum, required: true, description: "ON resumes intake and replies; OFF stops them." }),
  }),
});
export const ChannelIdInput = builder.inputType("DeleteChannelInput", {
  description: "Deletes a channel: it leaves lists and node(), takes no messages and frees its address, page or number for reuse; its conversations stay readable.",
  fields: (t) => ({ channelId: t.id({ required: true, description: "The channel to delete." }) }),
});
export const MoveChannelToHelpDeskInput = builder.inputType("MoveChannelToHelpDeskInput", {
  description: "Moving is irreversible. Only CHAT, TEAM_EMAIL, FORM, CALLING and CUSTOM channels can move.",
  fields: (t) => ({
    channelId: t.id({ required: true, description: "The channel to move." }),
    bringHistory: t.boolean({ defaultValue: false, description: "Also move the channel's existing conversations." }),
    createTicketsForHistory: t.boolean({ defaultValue: false, description: "With bringHistory: a ticket for each moved conversation without one." }),
  }),
});

export const ConnectChannelResult = builder.objectRef<{ channel: Channel; inboundEmailSecret: string | null }>("ConnectChannelResult").implement({
  description: "The channel was connected.",
  fields: (t) => ({
    channel: t.field({ type: ChannelObject, description: "The new channel.", resolve: (r) => r.channel }),
    inboundEmailSecret: t.exposeString("inboundEmailSecret", {
      nullable: true,
      description: "TEAM_EMAIL: the secret that authenticates inbound mail for this channel. Shown this once; only its hash is kept.",
    }),
  }),
});
export const ChannelResult = builder.objectRef<{ channel: Channel }>("ChannelResult").implement({
  description: "A channel mutation succeeded.",
  fields: (t) => ({ channel: t.field({ type: ChannelObject, description: "The channel as it is now.", resolve: (r) => r.channel }) }),
});
export const MoveChannelToHelpDeskResult = builder
  .objectRef<{ channel: Channel; movedConversations: number; createdTickets: number }>("MoveChannelToHelpDeskResult")
  .implement({
    description: "The channel now feeds the help desk.",
    fields: (t) => ({
      channel: t.field({ type: ChannelObject, description: "The moved channel.", resolve: (r) => r.channel }),
      movedConversations: t.exposeInt("movedConversations", { description: "How many existing conversations moved with it (0 without bringHistory)." }),
      createdTickets: t.exposeInt("createdTickets", { description: "How many tickets were created for moved conversations (createTicketsForHistory)." }),
    }),
  });
export const DeleteChannelResult = builder.objectRef<{ id: string }>("DeleteChannelResult").implement({
  description: "The channel was deleted.",
  fields: (t) => ({ deletedChannelId: t.id({ description: "Global id of the deleted channel (remove it from client caches).", resolve: (r) => toGlobalId("Channel", r.id) }) }),
});
