import type { User } from "../generated/prisma/client.js";
import type { AgentContext } from "../context.js";
import { hubFor } from "../realtime/hub.js";
import { acquireSubscriptionSlot, releasingOnEnd } from "../realtime/limits.js";
import { presenceStoreFor, type ActivityKind } from "../realtime/presence-store.js";
import { consume, signalStream } from "../realtime/signal-stream.js";
import { findVisibleConversation } from "./conversations.js";

/**
 * Collision detection: which other agents are viewing or replying in a conversation ("Bob is
 * viewing", "Bob is replying"). An agent's activity holds activityTtlMs() unless renewed, and
 * ends when they set NONE or when their last socket closes (presence.ts). An agent typing in the
 * conversation (setTyping) counts as REPLYING while the typing signal holds.
 */

/** How long one setConversationActivity holds (default 30 s; CONVERSATION_ACTIVITY_TTL_MS); clients renew it every 10-20 seconds. */
export function activityTtlMs(): number {
  return Number(process.env.CONVERSATION_ACTIVITY_TTL_MS ?? 30_000);
}

export interface AgentActivity {
  user: User;
  activity: ActivityKind;
}

export interface ConversationActivity {
  conversationId: string;
  /** Other agents than the subscriber, by first name then id. */
  agents: AgentActivity[];
}

/** Sets (or with NONE ends) the caller's activity in a conversation they can see. */
export async function setConversationActivity(ctx: AgentContext, input: { conversationId: string; activity: ActivityKind | "NONE" }) {
  const conversation = await findVisibleConversation(ctx.prisma, ctx, input.conversationId);
  const activity = input.activity === "NONE" ? null : input.activity;
  await presenceStoreFor(ctx.pubsub).setActivity(ctx.accountId, conversation.id, ctx.user.id, activity, activityTtlMs());
  ctx.pubsub.publish("account:activity", ctx.accountId, { conversationId: conversation.id });
  return { conversationId: conversation.id, activity: input.activity, expiresAt: activity ? new Date(Date.now() + activityTtlMs()) : new Date() };
}

/**
 * The other agents viewing or replying in one conversation the caller can see: the current list
 * at once, then the list again at each change (someone starts, stops, their activity lapses).
 * Access is re-checked at every access change of the account: an agent who loses the
 * conversation's inbox gets an empty list and nothing more.
 */
export async function conversationActivityStream(ctx: AgentContext, conversationId: string): Promise<AsyncIterable<ConversationActivity>> {
  await findVisibleConversation(ctx.prisma, ctx, conversationId);
  const release = acquireSubscriptionSlot(`user:${ctx.user.id}`);
  const store = presenceStoreFor(ctx.pubsub);
  const stream = signalStream<ConversationActivity>((push, fail) => {
    let allowed = true;
    let lastKey: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    /** Agents typing here (setTyping), until their signal lapses: REPLYING. */
    const typing = new Map<string, number>();
    let chain = Promise.resolve();
    const refresh = () => {
      chain = chain
        .then(async () => {
          if (stopped) return;
          clearTimeout(timer);
          const now = Date.now();
          const entries = allowed ? await store.activities(ctx.accountId, conversationId) : [];
          const byUser = new Map(entries.map((e) => [e.userId, e]));
          for (const [userId, expiresAt] of allowed ? typing : []) {
            if (expiresAt <= now) typing.delete(userId);
            else byUser.set(userId, { userId, activity: "REPLYING", expiresAt: Math.max(expiresAt, byUser.get(userId)?.expiresAt ?? 0) });
          }
          byUser.delete(ctx.user.id);
          const ids = [...byUser.keys()];
          const users = ids.length ? await ctx.prisma.user.findMany({ where: { accountId: ctx.accountId, id: { in: ids }, removedAt: null } }) : [];
          const agents = users
            .map((user) => ({ user, activity: byUser.get(user.id)!.activity }))
            .sort((a, b) => a.user.firstName.localeCompare(b.user.firstName) || a.user.id.localeCompare(b.user.id));
          // Wake up when the next activity lapses, so its end is pushed without anyone renewing.
          const next = Math.min(...[...byUser.values()].map((e) => e.expiresAt));
          if (Number.isFinite(next) && !stopped) {
            timer = setTimeout(refresh, Math.max(0, next - Date.now()) + 20);
            timer.unref();
          }
          const key = agents.map((a) => `${a.user.id}:${a.activity}`).join(",");
          if (key === lastKey) return;
          lastKey = key;
          push({ conversationId, agents });
        })
        .catch(fail);
    };
    const stopActivity = consume(ctx.pubsub.subscribe("account:activity", ctx.accountId), (s) => s.conversationId === conversationId && refresh(), fail);
    const stopTyping = consume(
      ctx.pubsub.subscribe("account:typing", ctx.accountId),
      (s) => {
        if (s.conversationId !== conversationId || s.actor !== "AGENT" || !s.userId) return;
        if (s.typing) typing.set(s.userId, new Date(s.expiresAt).getTime());
        else typing.delete(s.userId);
        refresh();
      },
      fail,
    );
    const unlisten = hubFor(ctx.pubsub).listen(ctx.accountId, (event) => {
      if (event.type !== "access.changed") return;
      chain = chain
        .then(async () => {
          const user = await ctx.prisma.user.findUnique({ where: { id: ctx.user.id } });
          allowed = !!user && !user.removedAt && (await findVisibleConversation(ctx.prisma, { ...ctx, user, visibleInboxIds: undefined }, conversationId).then(() => true, () => false));
        })
        .catch(() => void (allowed = false));
      refresh();
    });
    refresh();
    return () => {
      stopped = true;
      clearTimeout(timer);
      stopActivity();
      stopTyping();
      unlisten();
    };
  });
  return releasingOnEnd(stream, release);
}
