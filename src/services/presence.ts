import type { User } from "../generated/prisma/client.js";
import type { AgentContext, Services } from "../context.js";
import { acquireSubscriptionSlot, releasingOnEnd } from "../realtime/limits.js";
import { presenceStoreFor } from "../realtime/presence-store.js";
import { consume, signalStream } from "../realtime/signal-stream.js";

/**
 * Presence: ONLINE while the agent has at least one authenticated WebSocket connection (on any
 * server) and their availability is AVAILABLE, AWAY while connected with availability AWAY,
 * OFFLINE once their last socket closes. Availability stays the agent's own choice
 * (setAvailability); presence only adds whether they are connected.
 */

export type Presence = "ONLINE" | "AWAY" | "OFFLINE";

export interface PresenceChange {
  user: User;
  presence: Presence;
}

function presenceOf(user: Pick<User, "availability">, connected: boolean): Presence {
  if (!connected) return "OFFLINE";
  return user.availability === "AWAY" ? "AWAY" : "ONLINE";
}

/** Tells every server that the user's presence may have changed. */
export function announcePresence(services: Pick<Services, "pubsub">, accountId: string, userId: string) {
  services.pubsub.publish("account:presence", accountId, { userId });
}

/**
 * An agent's socket was authenticated (src/http/websocket.ts). Returns what to call when it
 * closes: the last close on every server records lastSeenAt, clears the agent's conversation
 * activities ("viewing") and announces OFFLINE.
 */
export async function agentSocketOpened(services: Services, accountId: string, userId: string): Promise<() => Promise<void>> {
  const store = presenceStoreFor(services.pubsub);
  if (await store.run(() => store.connect(accountId, userId))) announcePresence(services, accountId, userId);
  let closed = false;
  return async () => {
    if (closed) return;
    closed = true;
    // Tracked: the server's close waits for it before closing the database.
    await store.run(async () => {
      if (await store.disconnect(accountId, userId)) await wentOffline(services, accountId, userId);
    });
  };
}

/** The user has no socket left anywhere (closed, or a crashed server's lapsed). */
export async function wentOffline(services: Pick<Services, "pubsub" | "prisma" | "logger">, accountId: string, userId: string) {
  const store = presenceStoreFor(services.pubsub);
  announcePresence(services, accountId, userId);
  try {
    await services.prisma.user.updateMany({ where: { accountId, id: userId }, data: { lastSeenAt: new Date() } });
    for (const conversationId of await store.clearActivities(accountId, userId)) services.pubsub.publish("account:activity", accountId, { conversationId });
  } catch (err) {
    services.logger.error({ component: "presence", err }, "recording an agent going offline failed");
  }
}

/** The presence of users of the caller's account, by id. */
export async function presenceOfUsers(ctx: Pick<AgentContext, "pubsub">, accountId: string, users: Pick<User, "id" | "availability">[]): Promise<Map<string, Presence>> {
  const connected = await presenceStoreFor(ctx.pubsub).connected(accountId, users.map((u) => u.id));
  return new Map(users.map((u) => [u.id, presenceOf(u, connected.has(u.id))]));
}

/**
 * Every presence change of the account's users (removed users excepted), as { user, presence },
 * each change once: a signal that leaves a user's presence as this subscriber last saw it is
 * not pushed (a second socket opening, the same availability set twice).
 */
export function presenceStream(ctx: AgentContext): AsyncIterable<PresenceChange> {
  const release = acquireSubscriptionSlot(`user:${ctx.user.id}`);
  const last = new Map<string, Presence>();
  const stream = signalStream<PresenceChange>((push, fail) => {
    // Signals are handled one after another, so a user's pushes follow the order they were read.
    let chain = Promise.resolve();
    return consume(
      ctx.pubsub.subscribe("account:presence", ctx.accountId),
      (signal) => {
        chain = chain.then(async () => {
          const user = await ctx.prisma.user.findFirst({ where: { accountId: ctx.accountId, id: signal.userId, removedAt: null } });
          if (!user) return;
          const presence = (await presenceOfUsers(ctx, ctx.accountId, [user])).get(user.id)!;
          if (last.get(user.id) === presence) return;
          last.set(user.id, presence);
          push({ user, presence });
        }).catch(fail);
      },
      fail,
    );
  });
  return releasingOnEnd(stream, release);
}
