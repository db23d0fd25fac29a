import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { fromGlobalId, fromGlobalIds } from "../schema/ids.js";
import {
  ChannelIdInput,
  ChannelObject,
  ChannelResult,
  ChannelStatusEnum,
  ChannelTypeEnum,
  ConnectChannelInput,
  ConnectChannelResult,
  DeleteChannelResult,
  MoveChannelToHelpDeskInput,
  MoveChannelToHelpDeskResult,
  SetChannelStatusInput,
  UpdateChannelInput,
} from "../schema/channel.js";
import { ValidationError } from "../services/errors.js";
import { connectChannel, deleteChannel, listChannels, setChannelStatus, updateChannel, type ChannelSettingsInputs, type RoutingInput, type TicketDefaultsInput } from "../services/channels.js";
import { moveChannelToHelpDesk } from "../services/help-desk-move.js";

/** Decodes one optional global id: undefined stays undefined (keep), null stays null (clear). */
function optionalId(id: string | null | undefined, typename: string, path: string[]): string | null | undefined {
  if (id == null) return id;
  try {
    return fromGlobalId(id, typename);
  } catch {
    throw ValidationError.field(path, `Not a ${typename} id`);
  }
}

function decodeRouting(routing: RoutingInput | null | undefined): RoutingInput | null | undefined {
  if (!routing) return routing;
  return {
    ...routing,
    userIds: routing.userIds == null ? routing.userIds : fromGlobalIds(routing.userIds, "User", ["input", "routing", "userIds"]),
    teamIds: routing.teamIds == null ? routing.teamIds : fromGlobalIds(routing.teamIds, "Team", ["input", "routing", "teamIds"]),
  };
}

function decodeTicketDefaults(d: TicketDefaultsInput | null | undefined): TicketDefaultsInput | null | undefined {
  if (!d) return d;
  const path = (f: string) => ["input", "ticketDefaults", f];
  return {
    ...d,
    pipelineId: optionalId(d.pipelineId, "Pipeline", path("pipelineId")),
    statusId: optionalId(d.statusId, "PipelineStatus", path("statusId")),
    ownerId: optionalId(d.ownerId, "User", path("ownerId")),
  };
}

type Obj = Record<string, unknown>;

/** The per-type parts with their global ids decoded (the services take database ids). */
function decodeSettings(input: ChannelSettingsInputs): ChannelSettingsInputs {
  const out: ChannelSettingsInputs = { ...input };
  const heading = (input.chat as Obj | null | undefined)?.heading as Record<string, string[] | null | undefined> | null | undefined;
  if (input.chat && heading) {
    const ids = (key: string, typename: string) => (heading[key] == null ? heading[key] : fromGlobalIds(heading[key], typename, ["input", "chat", "heading", key]));
    out.chat = {
      ...input.chat,
      heading: { ...heading, userIds: ids("userIds", "User"), teamIds: ids("teamIds", "Team"), fallbackUserIds: ids("fallbackUserIds", "User"), fallbackTeamIds: ids("fallbackTeamIds", "Team") },
    };
  }
  if (input.form) out.form = { ...input.form, formId: optionalId(input.form.formId as string | null | undefined, "Form", ["input", "form", "formId"]) };
  if (input.custom) out.custom = { ...input.custom, channelAppId: optionalId(input.custom.channelAppId as string | null | undefined, "ChannelApp", ["input", "custom", "channelAppId"]) };
  return out;
}

builder.queryFields((t) => ({
  channels: t.withAuth({ agent: true }).prismaField({
    type: [ChannelObject],
    description: "Live channels of the inboxes (and help desk) the caller can see, oldest first.",
    args: {
      inboxId: t.arg.id({ description: "An inbox or the help desk." }),
      type: t.arg({ type: ChannelTypeEnum, description: "Only channels of this type." }),
      status: t.arg({ type: ChannelStatusEnum, description: "Only ON or only OFF channels." }),
    },
    resolve: (query, _root, args, ctx) =>
      listChannels(ctx, { inboxId: args.inboxId ? fromGlobalId(args.inboxId, "Inbox") : null, type: args.type, status: args.status }, query),
  }),
}));

builder.mutationFields((t) => ({
  connectChannel: t.withAuth({ agent: true }).field({
    type: ConnectChannelResult,
    description: "Connects a channel to an inbox or the help desk (SUPER_ADMIN for custom channels, ADMIN+ otherwise).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "ConnectChannelPayload" } },
    args: { input: t.arg({ type: ConnectChannelInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: (_root, { input }, ctx) =>
      connectChannel(ctx, {
        ...decodeSettings(input as ChannelSettingsInputs),
        inboxId: fromGlobalId(input.inboxId, "Inbox"),
        name: input.name,
        routing: decodeRouting(input.routing),
        ticketDefaults: decodeTicketDefaults(input.ticketDefaults),
        conversationDefaults: input.conversationDefaults,
      }),
  }),
  updateChannel: t.withAuth({ agent: true }).field({
    type: ChannelResult,
    description: "Edits a channel (same roles as connectChannel); only the given blocks change, and the channel keeps its type.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "UpdateChannelPayload" } },
    args: { input: t.arg({ type: UpdateChannelInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => ({
      channel: await updateChannel(ctx, fromGlobalId(input.channelId, "Channel"), {
        ...decodeSettings(input as ChannelSettingsInputs),
        name: input.name,
        routing: decodeRouting(input.routing),
        ticketDefaults: decodeTicketDefaults(input.ticketDefaults),
        conversationDefaults: input.conversationDefaults,
      }),
    }),
  }),
  setChannelStatus: t.withAuth({ agent: true }).field({
    type: ChannelResult,
    description: "ON or OFF: an OFF channel refuses new inbound messages and keeps everything it has.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "SetChannelStatusPayload" } },
    args: { input: t.arg({ type: SetChannelStatusInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => ({ channel: await setChannelStatus(ctx, fromGlobalId(input.channelId, "Channel"), input.status) }),
  }),
  deleteChannel: t.withAuth({ agent: true }).field({
    type: DeleteChannelResult,
    description: "The channel disappears from lists; its conversations and messages stay readable.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "DeleteChannelPayload" } },
    args: { input: t.arg({ type: ChannelIdInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: (_root, { input }, ctx) => deleteChannel(ctx, fromGlobalId(input.channelId, "Channel")),
  }),
  moveChannelToHelpDesk: t.withAuth({ agent: true }).field({
    type: MoveChannelToHelpDeskResult,
    description: "Irreversible. Only chat, team email, form and calling channels move.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "MoveChannelToHelpDeskPayload" } },
    args: { input: t.arg({ type: MoveChannelToHelpDeskInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: (_root, { input }, ctx) =>
      moveChannelToHelpDesk(ctx, fromGlobalId(input.channelId, "Channel"), { bringHistory: input.bringHistory, createTicketsForHistory: input.createTicketsForHistory }),
  }),
}));
