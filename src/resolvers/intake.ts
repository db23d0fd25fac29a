import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { fromGlobalId } from "../schema/ids.js";
import { PublishInboundMessageInput, PublishInboundMessageResult } from "../schema/message.js";
import { ChannelOffError } from "../services/errors.js";
import { publishInboundMessage } from "../services/partner-intake.js";

builder.mutationFields((t) => ({
  publishInboundMessage: t.withAuth({ partner: true }).field({
    type: PublishInboundMessageResult,
    description: "A partner app publishes a customer's message into one of its custom channels (idempotent on externalId).",
    errors: { types: [...COMMON_ERRORS, ChannelOffError], directResult: true, union: { name: "PublishInboundMessagePayload" } },
    args: { input: t.arg({ type: PublishInboundMessageInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => {
      const result = await publishInboundMessage(ctx, { ...input, channelId: fromGlobalId(input.channelId, "Channel") });
      return { messageId: result.message.id, conversationId: result.conversation.id, duplicate: result.duplicate, conversationCreated: result.conversationCreated };
    },
  }),
}));
