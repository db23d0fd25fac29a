import { createPubSub, type PubSub } from "graphql-yoga";
import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import { Redis } from "ioredis";
import { setMaxListeners } from "node:events";
import { getProcessLogger, type Logger } from "../log.js";

/** What one real-time event says: ids only, subscribers load what their selection needs. */
export interface RealtimeEvent {
  /** Per-account cursor, in commit order. */
  seq: string;
  type: string;
  accountId: string;
  inboxId: string | null;
  payload: Record<string, unknown>;
  /** Live events only: when the writing transaction recorded it (ms since epoch), for the delivery-lag metric. */
  committedAt?: number;
}

/**
 * Someone typing in a conversation: ephemeral (never stored, never replayed), so it travels on its
 * own topic beside the outbox's events. It holds until `expiresAt` unless renewed or cleared.
 */
export interface TypingSignal {
  conversationId: string;
  inboxId: string;
  typing: boolean;
  /** VISITOR: the customer (chat visitor); AGENT: a user of the account. */
  actor: "VISITOR" | "AGENT";
  userId: string | null;
  /** An agent writing an internal comment: shown to other agents only, never to the customer. */
  private: boolean;
  expiresAt: string;
}

/** A user's presence may have changed (first socket opened, last closed, availability set): subscribers re-read it. */
export interface PresenceSignal {
  userId: string;
}

/** Who is viewing or replying in a conversation may have changed: subscribers re-read it. */
export interface ActivitySignal {
  conversationId: string;
}

/** Topics, each keyed by account id so no event can reach another account's subscribers. */
export type Events = {
  "account:event": [accountId: string, event: RealtimeEvent];
  "account:typing": [accountId: string, signal: TypingSignal];
  "account:presence": [accountId: string, signal: PresenceSignal];
  "account:activity": [accountId: string, signal: ActivitySignal];
};

export type AppPubSub = PubSub<Events>;

export interface RealtimeBus {
  pubsub: AppPubSub;
  close(): Promise<void>;
}

/** One pubsub per process: Redis fan-out when redisUrl is set, in-memory otherwise. */
export function createRealtimeBus(redisUrl?: string, logger: Logger = getProcessLogger()): RealtimeBus {
  if (!redisUrl) {
    // Every live subscription is one listener on this target: thousands are expected, not a leak.
    const eventTarget = new EventTarget();
    setMaxListeners(0, eventTarget);
    return { pubsub: createPubSub<Events>({ eventTarget }), close: async () => {} };
  }
  const options = { maxRetriesPerRequest: null, enableOfflineQueue: true, lazyConnect: false };
  const publishClient = new Redis(redisUrl, options);
  const subscribeClient = new Redis(redisUrl, options);
  // Redis outages are survivable (the outbox replays from the database); log instead of crashing.
  const onError = (err: Error) => logger.error({ component: "realtime", err: { message: err.message } }, "redis connection error");
  publishClient.on("error", onError);
  subscribeClient.on("error", onError);
  const eventTarget = createRedisEventTarget({ publishClient: guarded(publishClient, onError), subscribeClient: guarded(subscribeClient, onError) });
  return {
    pubsub: createPubSub<Events>({ eventTarget }),
    async close() {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}

/**
 * The client as the Redis event target sees it, its publish/subscribe/unsubscribe promises
 * handled: the event target drops them, and while Redis is unreachable they wait in the offline
 * queue until close() rejects them ("Connection is closed"), which would be unhandled rejections.
 */
function guarded(client: Redis, onError: (err: Error) => void): Redis {
  const watched = new Set<PropertyKey>(["publish", "subscribe", "unsubscribe"]);
  return new Proxy(client, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (!watched.has(prop)) return value.bind(target);
      return (...args: unknown[]) => {
        const result = value.apply(target, args);
        if (result instanceof Promise) result.catch(onError);
        return result;
      };
    },
  });
}

