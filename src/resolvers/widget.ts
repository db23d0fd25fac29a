import { builder } from "../schema/builder.js";
import { fromGlobalId } from "../schema/ids.js";
import {
  ChatWidgetStatusType,
  EndChatInput,
  EndChatResult,
  ChatWidgetType,
  SendVisitorMessageInput,
  SendVisitorMessageResult,
  StartChatInput,
  StartChatResult,
  VisitorConversationType,
  VisitorMessageType,
} from "../schema/widget.js";
import type { RealtimeEvent } from "../realtime/pubsub.js";
import { chatAvailability } from "../services/chat-availability.js";
import { loadVisitorMessage, sendVisitorMessage, startChat, visitorConversation, visitorMessageStream } from "../services/chat-widget.js";
import { chatWidgetChanges, chatWidgetConfig } from "../services/chat-widget-config.js";
import { endVisitorChat } from "../services/chat-transcript.js";
import { ChannelOffError, ForbiddenError, NotFoundError, ValidationError } from "../services/errors.js";
import { requestOrigin } from "../schema/request-origin.js";

/** A channel id from the widget; a malformed one names no channel (the widget then stays hidden). */
function widgetChannelId(id: string): string {
  try {
    return fromGlobalId(id, "Channel");
  } catch {
    return "";
  }
}

builder.queryFields((t) => ({
  chatAvailability: t.field({
    type: ChatWidgetStatusType,
    description: "Public: whether a chat widget shows its launcher and what it says. Unknown, OFF, deleted or unpublished chats: showLauncher false.",
    args: { channelId: t.arg.id({ required: true, description: "The CHAT channel's global id, as in the embed snippet." }) },
    resolve: (_root, args, ctx) => chatAvailability(ctx.prisma, widgetChannelId(String(args.channelId))),
  }),
  chatWidget: t.field({
    type: ChatWidgetType,
    nullable: true,
    description: "Public: what the chat widget of a channel renders (null: an unknown, OFF, deleted or unpublished chat shows nothing). With the visitor's token, a contact-owner heading names the owner.",
    args: { channelId: t.arg.id({ required: true, description: "The CHAT channel's global id, as in the embed snippet." }) },
    resolve: (_root, args, ctx) => {
      const channelId = widgetChannelId(String(args.channelId));
      return chatWidgetConfig(ctx.prisma, channelId, ctx.kind === "visitor" && ctx.channelId === channelId ? ctx.conversationId : undefined);
    },
  }),
  visitorConversation: t.withAuth({ visitor: true }).field({
    type: VisitorConversationType,
    description: "Visitor token only: the visitor's own chat (comments never included).",
    resolve: (_root, _args, ctx) => visitorConversation(ctx),
  }),
}));

builder.mutationFields((t) => ({
  startChat: t.field({
    type: StartChatResult,
    description:
      "Public: starts a chat on a CHAT channel, posts its welcome message and returns a visitor token for that one conversation. The widget calls it when the visitor first writes. ForbiddenError when the channel lists allowed origins and the request's Origin is not one of them.",
    errors: { types: [ValidationError, NotFoundError, ChannelOffError, ForbiddenError], directResult: true, union: { name: "StartChatPayload" } },
    args: { input: t.arg({ type: StartChatInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: (_root, { input }, ctx) => startChat(ctx, { ...input, channelId: fromGlobalId(input.channelId, "Channel"), origin: requestOrigin(ctx), chatflowId: input.chatflowId ? fromGlobalId(input.chatflowId, "Chatflow") : null }, ctx.config.outbound),
  }),
  sendVisitorMessage: t.withAuth({ visitor: true }).field({
    type: SendVisitorMessageResult,
    description: "Visitor token only: the visitor writes into their chat (idempotent on clientMessageId).",
    errors: { types: [ValidationError, NotFoundError, ChannelOffError], directResult: true, union: { name: "SendVisitorMessagePayload" } },
    args: { input: t.arg({ type: SendVisitorMessageInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: async (_root, { input }, ctx) => {
      const { message, duplicate } = await sendVisitorMessage(ctx, input);
      return { message: await loadVisitorMessage(ctx, message.id), duplicate };
    },
  }),
  endChat: t.withAuth({ visitor: true }).field({
    type: EndChatResult,
    description:
      "Visitor token only: the visitor ends the chat (the widget then forgets it). A transcript is emailed, from the channel's transcript address through the outbound queue, when an address is given or known.",
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: "EndChatPayload" } },
    args: { input: t.arg({ type: EndChatInput, required: true, description: "The mutation's arguments as one input object (see the input type for each field)." }) },
    resolve: (_root, { input }, ctx) => endVisitorChat(ctx, input),
  }),
}));

builder.subscriptionFields((t) => ({
  chatWidgetChanged: t.field({
    type: ChatWidgetType,
    nullable: true,
    description: "Public: the chat widget's settings again each time an admin changes them (null: the chat is now unpublished, OFF or deleted). Over SSE or WebSocket.",
    args: { channelId: t.arg.id({ required: true, description: "The CHAT channel's global id, as in the embed snippet." }) },
    subscribe: (_root, args, ctx) => chatWidgetChanges(ctx, widgetChannelId(String(args.channelId))),
    resolve: (_root, args, ctx) => chatWidgetConfig(ctx.prisma, widgetChannelId(String(args.channelId))),
  }),
  visitorMessageAdded: t.withAuth({ visitor: true }).field({
    type: VisitorMessageType,
    description: "Visitor token only: agents' (and the bot's) replies in the visitor's chat, never comments. Over WebSocket or SSE.",
    args: { after: t.arg.string({ description: "Resume: the `eventCursor` of the last message received.", extensions: { streamOnly: true } }) },
    subscribe: (_root, args, ctx) => visitorMessageStream(ctx, { after: args.after }),
    resolve: async (event, _args, ctx) => {
      const e = event as unknown as RealtimeEvent;
      return { ...(await loadVisitorMessage(ctx, String(e.payload.messageId))), eventCursor: e.seq };
    },
  }),
}));
