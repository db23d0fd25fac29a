import type { AgentContext, VisitorContext } from "../context.js";
import { hubFor } from "../realtime/hub.js";
import { acquireSubscriptionSlot, releasingOnEnd } from "../realtime/limits.js";
import type { TypingSignal } from "../realtime/pubsub.js";
import { findVisibleConversation } from "./conversations.js";
import { NotFoundError } from "./errors.js";

/**
 * Typing indicators, both ways: the chat visitor typing reaches the agents of the conversation,
 * an agent typing a reply reaches the visitor, and an agent typing anything (reply or internal
 * comment) reaches the other agents ("is replying"). Signals are ephemeral: published on their own
 * pubsub topic (Redis across servers), never written to the database or replayed on resume.
 */

/** How long one signal holds: clients renew it while the person keeps typing (every few seconds). */
export const TYPING_TTL_MS = 6_000;

function signal(base: Omit<TypingSignal, "expiresAt">): TypingSignal {
  return { ...base, expiresAt: new Date(Date.now() + (base.typing ? TYPING_TTL_MS : 0)).toISOString() };
}

/**
 * An agent starts (or stops) typing in a conversation they can see (NotFoundError otherwise).
 * `private`: typing an internal comment, which the visitor is never told about.
 */
export async function setAgentTyping(ctx: AgentContext, input: { conversationId: string; typing: boolean; private?: boolean | null }): Promise<TypingSignal> {
  const conversation = await findVisibleConversation(ctx.prisma, ctx, input.conversationId);
  const s = signal({ conversationId: conversation.id, inboxId: conversation.inboxId, typing: input.typing, actor: "AGENT", userId: ctx.user.id, private: input.private === true });
  ctx.pubsub.publish("account:typing", ctx.accountId, s);
  return s;
}

/** The visitor starts (or stops) typing in their own chat. */
export async function setVisitorTyping(ctx: VisitorContext, input: { typing: boolean }): Promise<TypingSignal> {
  const conversation = await ctx.prisma.conversation.findFirst({
    where: { accountId: ctx.accountId, id: ctx.conversationId, channelId: ctx.channelId },
    select: { id: true, inboxId: true },
  });
  if (!conversation) throw new NotFoundError("Conversation", ctx.conversationId);
  const s = signal({ conversationId: conversation.id, inboxId: conversation.inboxId, typing: input.typing, actor: "VISITOR", userId: null, private: false });
  ctx.pubsub.publish("account:typing", ctx.accountId, s);
  return s;
}

/**
 * The account's typing signals that `accept` lets through, until the subscriber leaves. A plain
 * iterator rather than an async generator: a generator waiting for the next signal would run its
 * cleanup only when one arrives, while this ends the pubsub subscription at once on return().
 */
function typingStream(ctx: AgentContext | VisitorContext, accept: (s: TypingSignal) => boolean, onEnd: () => void): AsyncIterable<TypingSignal> {
  return {
    [Symbol.asyncIterator]() {
      const source = ctx.pubsub.subscribe("account:typing", ctx.accountId)[Symbol.asyncIterator]();
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        onEnd();
      };
      const done = { done: true as const, value: undefined };
      return {
        async next(): Promise<IteratorResult<TypingSignal>> {
          for (;;) {
            const r = await source.next();
            if (r.done) {
              end();
              return done;
            }
            if (accept(r.value)) return { done: false, value: r.value };
          }
        },
        async return(): Promise<IteratorResult<TypingSignal>> {
          end();
          await source.return?.();
          return done;
        },
        async throw(err?: unknown): Promise<IteratorResult<TypingSignal>> {
          end();
          await source.return?.();
          throw err;
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
    },
  };
}

/**
 * What an agent sees typing in one conversation: the visitor, and the other agents (their own
 * typing is left out). Access is checked when subscribing and again at every access change of the
 * account (an agent removed from the inbox stops seeing who types there).
 */
export async function agentTypingStream(ctx: AgentContext, conversationId: string): Promise<AsyncIterable<TypingSignal>> {
  await findVisibleConversation(ctx.prisma, ctx, conversationId);
  const release = acquireSubscriptionSlot(`user:${ctx.user.id}`);
  let allowed = true;
  const unlisten = hubFor(ctx.pubsub).listen(ctx.accountId, (event) => {
    if (event.type !== "access.changed") return;
    void (async () => {
      const user = await ctx.prisma.user.findUnique({ where: { id: ctx.user.id } });
      if (!user || user.removedAt) return void (allowed = false);
      allowed = await findVisibleConversation(ctx.prisma, { ...ctx, user, visibleInboxIds: undefined }, conversationId).then(
        () => true,
        () => false,
      );
    })().catch(() => (allowed = false));
  });
  const stream = typingStream(ctx, (s) => allowed && s.conversationId === conversationId && !(s.actor === "AGENT" && s.userId === ctx.user.id), unlisten);
  return releasingOnEnd(stream, release);
}

/** What the visitor sees typing in their chat: agents writing a reply (never an internal comment). */
export function visitorTypingStream(ctx: VisitorContext): AsyncIterable<TypingSignal> {
  const release = acquireSubscriptionSlot(`visitor:${ctx.conversationId}`);
  const stream = typingStream(ctx, (s) => s.conversationId === ctx.conversationId && s.actor === "AGENT" && !s.private, () => {});
  return releasingOnEnd(stream, release);
}
