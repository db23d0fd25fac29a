import { builder } from "../schema/builder.js";
import { fromGlobalId } from "../schema/ids.js";
import { SetTypingInput, TypingIndicatorType, VisitorTypingType } from "../schema/typing.js";
import { NotFoundError, ValidationError } from "../services/errors.js";
import { agentTypingStream, setAgentTyping, setVisitorTyping, visitorTypingStream } from "../services/typing.js";
import type { TypingSignal } from "../realtime/pubsub.js";

builder.mutationFields((t) => ({
  setTyping: t.withAuth({ agent: true }).field({
    type: TypingIndicatorType,
    description:
      "The caller is typing (or stopped) in a conversation: the other agents of it are told, and the chat visitor too unless `private`. Call again every few seconds while typing; an indicator lapses after 6 seconds.",
    errors: { types: [ValidationError, NotFoundError], directResult: true, union: { name: "SetTypingPayload" } },
    args: { input: t.arg({ type: SetTypingInput, required: true, description: "Conversation and typing state." }) },
    resolve: (_root, { input }, ctx) => setAgentTyping(ctx, { ...input, conversationId: fromGlobalId(input.conversationId, "Conversation") }),
  }),
  setVisitorTyping: t.withAuth({ visitor: true }).field({
    type: VisitorTypingType,
    description: "Visitor token only: the visitor is typing (or stopped) in their chat; the agents of the conversation are told. Renew every few seconds while typing.",
    errors: { types: [NotFoundError], directResult: true, union: { name: "SetVisitorTypingPayload" } },
    args: { typing: t.arg.boolean({ required: true, description: "True while typing; false when stopped or sent." }) },
    resolve: (_root, args, ctx) => setVisitorTyping(ctx, { typing: args.typing }),
  }),
}));

builder.subscriptionFields((t) => ({
  typingChanged: t.withAuth({ agent: true }).field({
    type: TypingIndicatorType,
    description: "Who starts or stops typing in one conversation the caller can see: the visitor, and the other agents (the caller's own typing is left out). Live only: nothing is replayed.",
    args: { conversationId: t.arg.id({ required: true, description: "The conversation to watch." }) },
    subscribe: (_root, args, ctx) => agentTypingStream(ctx, fromGlobalId(String(args.conversationId), "Conversation")),
    resolve: (signal) => signal as TypingSignal,
  }),
  visitorTypingChanged: t.withAuth({ visitor: true }).field({
    type: VisitorTypingType,
    description: "Visitor token only: an agent starts or stops typing a reply in the visitor's chat. Live only: nothing is replayed.",
    subscribe: (_root, _args, ctx) => visitorTypingStream(ctx),
    resolve: async (signal, _args, ctx) => {
      const s = signal as TypingSignal;
      const author = s.userId ? await ctx.prisma.user.findFirst({ where: { id: s.userId, accountId: ctx.accountId }, select: { firstName: true } }) : null;
      return { ...s, authorName: author?.firstName ?? null };
    },
  }),
}));
