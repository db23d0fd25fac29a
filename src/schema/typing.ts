import { builder } from "./builder.js";
import { toGlobalId } from "./ids.js";
import { UserType } from "./people.js";
import type { TypingSignal } from "../realtime/pubsub.js";

/** Typing indicators: who is writing in a conversation right now (ephemeral, never stored). */

export const TypingActorEnum = builder.enumType("TypingActor", {
  description: "Who a typing indicator is about.",
  values: {
    VISITOR: { description: "The customer: the chat visitor writing in the website widget." },
    AGENT: { description: "A user of the account writing a reply or an internal comment." },
  } as const,
});

export const TypingIndicatorType = builder.objectRef<TypingSignal>("TypingIndicator").implement({
  description:
    "Someone started or stopped typing in a conversation. An indicator holds until `expiresAt`: clients renew it (setTyping every few seconds) while typing, and hide it at expiry, at `typing: false`, or when that person's message arrives.",
  fields: (t) => ({
    conversationId: t.id({ description: "The conversation (global id).", resolve: (s) => toGlobalId("Conversation", s.conversationId) }),
    typing: t.exposeBoolean("typing", { description: "True: typing now (until expiresAt); false: stopped (hide the indicator)." }),
    actor: t.expose("actor", { type: TypingActorEnum, description: "The visitor or an agent." }),
    user: t.field({
      type: UserType,
      nullable: true,
      description: "The agent typing (null when the visitor is).",
      resolve: (s, _args, ctx) => (s.userId && "accountId" in ctx ? ctx.prisma.user.findFirst({ where: { id: s.userId, accountId: ctx.accountId } }) : null),
    }),
    private: t.exposeBoolean("private", { description: "An agent writing an internal comment: other agents see it, the visitor never does." }),
    expiresAt: t.field({ type: "DateTime", description: "When the indicator lapses unless renewed.", resolve: (s) => new Date(s.expiresAt) }),
  }),
});

export const VisitorTypingType = builder.objectRef<TypingSignal & { authorName?: string | null }>("VisitorTyping").implement({
  description: "An agent started or stopped typing a reply in the visitor's chat (internal comments are never announced).",
  fields: (t) => ({
    typing: t.exposeBoolean("typing", { description: "True: an agent is typing (until expiresAt); false: stopped." }),
    authorName: t.string({ nullable: true, description: "First name of the agent typing, as on their messages.", resolve: (s) => s.authorName ?? null }),
    expiresAt: t.field({ type: "DateTime", description: "When the indicator lapses unless renewed.", resolve: (s) => new Date(s.expiresAt) }),
  }),
});

export const SetTypingInput = builder.inputType("SetTypingInput", {
  description: "An agent's typing state in one conversation.",
  fields: (t) => ({
    conversationId: t.id({ required: true, description: "A conversation the caller can see." }),
    typing: t.boolean({ required: true, description: "True while typing (send again every few seconds to renew); false when stopped or sent." }),
    private: t.boolean({ description: "True when writing an internal comment (not shown to the visitor). Default false." }),
  }),
});
