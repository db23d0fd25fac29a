import { builder } from "../schema/builder.js";
import { RotateChannelInboundSecretInput, RotateChannelInboundSecretResult } from "../schema/calls.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { fromGlobalId } from "../schema/ids.js";
import { rotateChannelInboundSecret } from "../services/calls.js";

builder.mutationFields((t) => ({
  rotateChannelInboundSecret: t.withAuth({ agent: true }).field({
    type: RotateChannelInboundSecretResult,
    description: "Issues a new inbound secret for a calling (or team email) channel; ADMIN+. The secret is returned this once.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "RotateChannelInboundSecretPayload" } },
    args: { input: t.arg({ type: RotateChannelInboundSecretInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => {
      const result = await rotateChannelInboundSecret(ctx, fromGlobalId(input.channelId, "Channel"));
      return { ...result, path: `/inbound/calls/${input.channelId}` };
    },
  }),
}));
