import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { decodeAnyGlobalId, fromGlobalId } from "../schema/ids.js";
import { ChannelAppObject, ChannelAppResult, PartnerChannelType, RegisterChannelAppInput, RegisterChannelAppResult, UpdateChannelAppInput } from "../schema/channel-app.js";
import { listChannelApps, listMyChannelApps, partnerAppChannels, partnerChannel, registerChannelApp, updateChannelApp, type ChannelAppInput } from "../services/channel-apps.js";

builder.queryFields((t) => ({
  channelApps: t.withAuth({ agent: true }).prismaField({
    type: [ChannelAppObject],
    description: "Custom channel apps this account can connect (every registered app).",
    resolve: (query, _root, _args, ctx) => listChannelApps(ctx, query),
  }),
  myChannelApps: t.withAuth({ partner: true }).prismaField({
    type: [ChannelAppObject],
    description: "Partners: the caller's own channel apps.",
    resolve: (query, _root, _args, ctx) => listMyChannelApps(ctx, query),
  }),
  partnerChannel: t.withAuth({ partner: true }).field({
    type: PartnerChannelType,
    nullable: true,
    description: "Partners: one live channel connected to one of the caller's apps (as named by a channel.connected webhook), with its credentials; null for any other id.",
    args: { id: t.arg.id({ required: true, description: "The channel's global id." }) },
    resolve: (_root, args, ctx) => {
      // An id that does not decode to a channel is an unknown id, like a foreign one.
      const decoded = decodeAnyGlobalId(args.id);
      return decoded?.typename === "Channel" ? partnerChannel(ctx, decoded.id) : null;
    },
  }),
}));

builder.prismaObjectFields(ChannelAppObject, (t) => ({
  connectedChannels: t.withAuth({ partner: true }).field({
    type: [PartnerChannelType],
    description: "Partners: live channels connected to this app, across accounts (channel id, name, status and the account's id and name only).",
    resolve: (app, _args, ctx) => partnerAppChannels(ctx, app.id),
  }),
}));

builder.mutationFields((t) => ({
  registerChannelApp: t.withAuth({ partner: true }).field({
    type: RegisterChannelAppResult,
    description: "Partners: registers a channel app. The webhook signing secret is returned this once.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "RegisterChannelAppPayload" } },
    args: { input: t.arg({ type: RegisterChannelAppInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: (_root, { input }, ctx) => registerChannelApp(ctx, input as ChannelAppInput),
  }),
  updateChannelApp: t.withAuth({ partner: true }).field({
    type: ChannelAppResult,
    description: "Partners: changes one of the caller's apps (only the given fields).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "UpdateChannelAppPayload" } },
    args: { input: t.arg({ type: UpdateChannelAppInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => {
      const { appId, ...fields } = input;
      return { app: await updateChannelApp(ctx, fromGlobalId(appId, "ChannelApp"), fields as Partial<ChannelAppInput>) };
    },
  }),
}));
