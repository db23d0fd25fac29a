import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { fromGlobalId } from "../schema/ids.js";
import { ChannelAppObject, ChannelAppResult, PartnerChannelType, RegisterChannelAppInput, RegisterChannelAppResult, UpdateChannelAppInput } from "../schema/channel-app.js";
import { listChannelApps, listMyChannelApps, partnerAppChannels, registerChannelApp, updateChannelApp, type ChannelAppInput } from "../services/channel-apps.js";

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
    args: { input: t.arg({ type: RegisterChannelAppInput, required: true }) },
    resolve: (_root, { input }, ctx) => registerChannelApp(ctx, input as ChannelAppInput),
  }),
  updateChannelApp: t.withAuth({ partner: true }).field({
    type: ChannelAppResult,
    description: "Partners: changes one of the caller's apps (only the given fields).",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "UpdateChannelAppPayload" } },
    args: { input: t.arg({ type: UpdateChannelAppInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { appId, ...fields } = input;
      return { app: await updateChannelApp(ctx, fromGlobalId(appId, "ChannelApp"), fields as Partial<ChannelAppInput>) };
    },
  }),
}));
