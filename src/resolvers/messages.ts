import { builder } from "../schema/builder.js";
import { COMMON_ERRORS } from "../schema/errors.js";
import { fromGlobalId, fromGlobalIds } from "../schema/ids.js";
import { AddCommentInput, MessageResult, ReplyInput, UpdateDeliveryStatusInput } from "../schema/message.js";
import { ChannelOffError, ConflictError, MessagingWindowClosedError } from "../services/errors.js";
import { addComment, reply, type ReplyInput as ReplyData } from "../services/replies.js";
import { updateDeliveryStatus } from "../services/deliveries.js";

/** Decodes the global ids of a ReplyInput (shared with replyAndUpdateTicketStatus). */
export function replyInputFromArgs(input: typeof ReplyInput.$inferInput): ReplyData {
  return {
    conversationId: fromGlobalId(input.conversationId, "Conversation"),
    text: input.text,
    richText: input.richText,
    attachments: input.attachments,
    inReplyToId: input.inReplyToId ? fromGlobalId(input.inReplyToId, "Message") : null,
    channelId: input.channelId ? fromGlobalId(input.channelId, "Channel") : null,
    idempotencyKey: input.idempotencyKey,
    overrideAssignee: input.overrideAssignee,
  };
}

builder.mutationFields((t) => ({
  reply: t.withAuth({ agent: true }).field({
    type: MessageResult,
    description: "Replies to the latest message (or inReplyToId) through the conversation's channel (or channelId).",
    errors: { types: [...COMMON_ERRORS, ChannelOffError, MessagingWindowClosedError, ConflictError], directResult: true, union: { name: "ReplyPayload" } },
    args: { input: t.arg({ type: ReplyInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => ({ messageId: (await reply(ctx, replyInputFromArgs(input))).id }),
  }),
  addComment: t.withAuth({ agent: true }).field({
    type: MessageResult,
    description: "Adds an internal comment: agents only, never delivered to the customer or a partner.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "AddCommentPayload" } },
    args: { input: t.arg({ type: AddCommentInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => ({ messageId: (await addComment(ctx, { conversationId: fromGlobalId(input.conversationId, "Conversation"), text: input.text, mentionUserIds: fromGlobalIds(input.mentionUserIds, "User", ["input", "mentionUserIds"]) })).id }),
  }),
  updateDeliveryStatus: t.withAuth({ partner: true }).field({
    type: MessageResult,
    description: "A partner reports the delivery status of an agent's message on its channel.",
    errors: { types: COMMON_ERRORS, directResult: true, union: { name: "UpdateDeliveryStatusPayload" } },
    args: { input: t.arg({ type: UpdateDeliveryStatusInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => ({
      messageId: (await updateDeliveryStatus(ctx, { messageId: fromGlobalId(input.messageId, "Message"), status: input.status, reason: input.reason })).id,
    }),
  }),
}));
