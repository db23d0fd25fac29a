import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { fromGlobalId } from "../schema/ids.js";
import { ReplyAndUpdateTicketStatusInput, ReplyAndUpdateTicketStatusResult } from "../schema/reply-and-status.js";
import { ChannelOffError, ConditionalStatusError, ConflictError, MessagingWindowClosedError } from "../services/errors.js";
import { replyAndUpdateTicketStatus } from "../services/reply-and-status.js";
import { replyInputFromArgs } from "./messages.js";

builder.mutationField("replyAndUpdateTicketStatus", (t) =>
  t.withAuth({ agent: true }).field({
    type: ReplyAndUpdateTicketStatusResult,
    description: "Replies and updates the conversation's ticket status in one action: both happen or neither.",
    errors: {
      types: [...COMMON_ERRORS, ConditionalStatusError, MessagingWindowClosedError, ChannelOffError, ConflictError],
      directResult: true,
      union: { name: "ReplyAndUpdateTicketStatusPayload" },
    },
    args: { input: t.arg({ type: ReplyAndUpdateTicketStatusInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => {
      const { message, ticket } = await replyAndUpdateTicketStatus(ctx, {
        ...replyInputFromArgs(input),
        ticketStatusId: fromGlobalId(input.ticketStatusId, "PipelineStatus"),
        ticketProperties: input.ticketProperties,
      });
      return { messageId: message.id, ticket };
    },
  }),
);
