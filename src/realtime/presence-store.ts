import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import type { AppPubSub } from "./pubsub.js";
import type { Logger } from "../log.js";

/**
 * Who is connected, and who is viewing or replying in which conversation, across every server.
 *
 * Connections: each server counts its own authenticated agent sockets per user. Without Redis
 * that count is the truth. With Redis, every server with at least one socket of a user holds an
 * entry in the user's sorted set `presence:{account}:{user}` (member: the server's id, score:
 * when the entry lapses). A heartbeat renews the entries every HEARTBEAT_MS; a crashed server's
 * entries lapse after TTL_MS, and the first live server to notice the crash (its id lapsed in
 * `presence:servers`) removes them and reports the users that are left with no server.
 * Connect and disconnect run as one MULTI each, so exactly one server sees a user's first
 * socket open and exactly one sees the last close.
 *
 * Activities ("viewing", "replying"): per conversation, a hash user -> {activity, expiresAt},
 * each entry lapsing by itself unless renewed; without Redis, a map in this process.
 */

export type ActivityKind = "VIEWING" | "REPLYING";
export interface ActivityEntry {
  userId: string;
  activity: ActivityKind;
  expiresAt: number;
}

export interface PresenceStore {
  /** One more socket of the user on this server; true when the user had none on any server before. */
  connect(accountId: string, userId: string): Promise<boolean>;
  /** One socket less; true when that was the user's last one on every server. */
  disconnect(accountId: string, userId: string): Promise<boolean>;
  /** Which of `userIds` have at least one socket on some server. */
  connected(accountId: string, userIds: string[]): Promise<Set<string>>;
  /** Sets (or with null clears) the user's activity in a conversation for `ttlMs`. */
  setActivity(accountId: string, conversationId: string, userId: string, activity: ActivityKind | null, ttlMs: number): Promise<void>;
  /** The conversation's current (unexpired) activities. */
  activities(accountId: string, conversationId: string): Promise<ActivityEntry[]>;
  /** Clears every activity of the user; returns the conversations that had one. */
  clearActivities(accountId: string, userId: string): Promise<string[]>;
  /**
   * Runs presence work (a socket's deregistration and what follows) so that close() waits for
   * it; after close() it does not run (resolves undefined): the server is going away.
   */
  run<T>(work: () => Promise<T>): Promise<T | undefined>;
  close(): Promise<void>;
}

/** Tracks work for PresenceStore.run: close() waits for what is in flight and refuses the rest. */
function workTracker() {
  const pending = new Set<Promise<unknown>>();
  let closed = false;
  return {
    get closed() {
      return closed;
    },
    run<T>(work: () => Promise<T>): Promise<T | undefined> {
      if (closed) return Promise.resolve(undefined);
      const p = work();
      pending.add(p);
      const done = () => void pending.delete(p);
      p.then(done, done);
      return p;
    },
    /** Waits for the work in flight, at most `limitMs`: a close never hangs on a stalled store. */
    async drain(limitMs = 5_000) {
      closed = true;
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, limitMs)));
      await Promise.race([Promise.allSettled([...pending]), limit]);
      clearTimeout(timer);
    },
  };
}

/** Called when a crashed server's sockets lapse and leave a user with none. */
export type LapsedListener = (accountId: string, userId: string) => Promise<void> | void;

/** How often a server renews its entries, and how long an entry lives without renewal. */
export const PRESENCE_HEARTBEAT_MS = Number(process.env.PRESENCE_HEARTBEAT_MS ?? 10_000);
export const PRESENCE_TTL_MS = Number(process.env.PRESENCE_TTL_MS ?? 30_000);

const userKey = (accountId: string, userId: string) => `${accountId}:${userId}`;

/** The in-process store (no Redis): one server, so its counts are the whole truth. */
export function memoryPresenceStore(): PresenceStore {
  const counts = new Map<string, number>();
  const byConversation = new Map<string, Map<string, { activity: ActivityKind; expiresAt: number }>>();
  const byUser = new Map<string, Set<string>>();
  const work = workTracker();
  return {
    run: (fn) => work.run(fn),
    async connect(accountId, userId) {
      const key = userKey(accountId, userId);
      const n = counts.get(key) ?? 0;
      counts.set(key, n + 1);
      return n === 0;
    },
    async disconnect(accountId, userId) {
      const key = userKey(accountId, userId);
      const n = (counts.get(key) ?? 0) - 1;
      if (n > 0) {
        counts.set(key, n);
        return false;
      }
      return counts.delete(key);
    },
    async connected(accountId, userIds) {
      return new Set(userIds.filter((id) => (counts.get(userKey(accountId, id)) ?? 0) > 0));
    },
    async setActivity(accountId, conversationId, userId, activity, ttlMs) {
      const conv = userKey(accountId, conversationId);
      const user = userKey(accountId, userId);
      let entries = byConversation.get(conv);
      if (activity) {
        if (!entries) byConversation.set(conv, (entries = new Map()));
        entries.set(userId, { activity, expiresAt: Date.now() + ttlMs });
        let convs = byUser.get(user);
        if (!convs) byUser.set(user, (convs = new Set()));
        convs.add(conversationId);
      } else {
        entries?.delete(userId);
        if (entries?.size === 0) byConversation.delete(conv);
        byUser.get(user)?.delete(conversationId);
      }
    },
    async activities(accountId, conversationId) {
      const entries = byConversation.get(userKey(accountId, conversationId));
      const now = Date.now();
      const live: ActivityEntry[] = [];
      for (const [userId, e] of entries ?? []) {
        if (e.expiresAt > now) live.push({ userId, ...e });
        else entries!.delete(userId);
      }
      return live;
    },
    async clearActivities(accountId, userId) {
      const user = userKey(accountId, userId);
      const convs = [...(byUser.get(user) ?? [])];
      byUser.delete(user);
      for (const c of convs) {
        const entries = byConversation.get(userKey(accountId, c));
        entries?.delete(userId);
        if (entries?.size === 0) byConversation.delete(userKey(accountId, c));
      }
      return convs;
    },
    async close() {
      await work.drain();
    },
  };
}

/** The Redis store: see the file's header. `onLapsed` hears users left offline by a crashed server. */
export function redisPresenceStore(
  redisUrl: string,
  opts: { logger: Logger; onLapsed: LapsedListener; ttlMs?: number; heartbeatMs?: number },
): PresenceStore & { serverId: string; abandon(): void } {
  const ttlMs = opts.ttlMs ?? PRESENCE_TTL_MS;
  const heartbeatMs = opts.heartbeatMs ?? PRESENCE_HEARTBEAT_MS;
  // While Redis is unreachable a command fails after one reconnect attempt instead of queueing
  // forever (memory, and a close() that never ends): presence is best effort, a lease lapses.
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: true, connectTimeout: 2000 });
  redis.on("error", (err) => opts.logger.error({ component: "presence", err: { message: err.message } }, "redis connection error"));
  const serverId = randomUUID();
  const local = new Map<string, number>();
  const work = workTracker();
  const zkey = (member: string) => `presence:${member}`;
  const serverSet = (id: string) => `presence:server:${id}`;
  const SERVERS = "presence:servers";
  const convKey = (accountId: string, conversationId: string) => `activity:${accountId}:${conversationId}`;
  const userConvs = (accountId: string, userId: string) => `activity:user:${accountId}:${userId}`;

  async function beat() {
    const expiry = Date.now() + ttlMs;
    const multi = redis.multi().zadd(SERVERS, expiry, serverId).pexpire(serverSet(serverId), ttlMs * 4);
    for (const member of local.keys()) multi.zadd(zkey(member), expiry, serverId).pexpire(zkey(member), ttlMs * 2);
    await multi.exec();
    await sweepCrashed();
  }

  /** Claims each lapsed server once (ZREM returns 1 to one caller) and removes its entries. */
  async function sweepCrashed() {
    const dead = await redis.zrangebyscore(SERVERS, "-inf", Date.now());
    for (const id of dead) {
      if ((await redis.zrem(SERVERS, id)) !== 1) continue;
      const members = await redis.smembers(serverSet(id));
      for (const member of members) {
        const results = await redis.multi().zrem(zkey(member), id).zremrangebyscore(zkey(member), "-inf", Date.now()).zcard(zkey(member)).exec();
        const left = Number(results?.[2]?.[1] ?? 1);
        const [accountId, userId] = member.split(":");
        if (left === 0) await work.run(async () => opts.onLapsed(accountId, userId));
      }
      await redis.del(serverSet(id));
    }
  }

  const timer = setInterval(() => void beat().catch((err) => opts.logger.error({ component: "presence", err }, "presence heartbeat failed")), heartbeatMs);
  timer.unref();
  void beat().catch(() => {});

  return {
    serverId,
    run: (fn) => work.run(fn),
    async connect(accountId, userId) {
      const member = userKey(accountId, userId);
      const n = local.get(member) ?? 0;
      local.set(member, n + 1);
      if (n > 0) return false;
      const now = Date.now();
      const results = await redis
        .multi()
        .zremrangebyscore(zkey(member), "-inf", now)
        .zcard(zkey(member))
        .zadd(zkey(member), now + ttlMs, serverId)
        .pexpire(zkey(member), ttlMs * 2)
        .sadd(serverSet(serverId), member)
        .exec();
      return Number(results?.[1]?.[1] ?? 1) === 0;
    },
    async disconnect(accountId, userId) {
      const member = userKey(accountId, userId);
      const n = (local.get(member) ?? 0) - 1;
      if (n > 0) {
        local.set(member, n);
        return false;
      }
      if (!local.delete(member)) return false;
      const results = await redis
        .multi()
        .zrem(zkey(member), serverId)
        .zremrangebyscore(zkey(member), "-inf", Date.now())
        .zcard(zkey(member))
        .srem(serverSet(serverId), member)
        .exec();
      return Number(results?.[2]?.[1] ?? 1) === 0;
    },
    async connected(accountId, userIds) {
      if (userIds.length === 0) return new Set();
      const now = Date.now();
      const multi = redis.multi();
      for (const id of userIds) multi.zcount(zkey(userKey(accountId, id)), now, "+inf");
      const results = (await multi.exec()) ?? [];
      return new Set(userIds.filter((_, i) => Number(results[i]?.[1] ?? 0) > 0));
    },
    async setActivity(accountId, conversationId, userId, activity, activityTtlMs) {
      const multi = redis.multi();
      if (activity) {
        multi
          .hset(convKey(accountId, conversationId), userId, JSON.stringify({ activity, expiresAt: Date.now() + activityTtlMs }))
          .pexpire(convKey(accountId, conversationId), activityTtlMs * 2)
          .sadd(userConvs(accountId, userId), conversationId)
          .pexpire(userConvs(accountId, userId), activityTtlMs * 2);
      } else {
        multi.hdel(convKey(accountId, conversationId), userId).srem(userConvs(accountId, userId), conversationId);
      }
      await multi.exec();
    },
    async activities(accountId, conversationId) {
      const all = await redis.hgetall(convKey(accountId, conversationId));
      const now = Date.now();
      const live: ActivityEntry[] = [];
      for (const [userId, raw] of Object.entries(all)) {
        const e = JSON.parse(raw) as { activity: ActivityKind; expiresAt: number };
        if (e.expiresAt > now) live.push({ userId, ...e });
      }
      return live;
    },
    async clearActivities(accountId, userId) {
      const convs = await redis.smembers(userConvs(accountId, userId));
      const multi = redis.multi().del(userConvs(accountId, userId));
      for (const c of convs) multi.hdel(convKey(accountId, c), userId);
      await multi.exec();
      return convs;
    },
    /** Stops heartbeats and drops the connection without withdrawing anything: what a crash leaves behind (tests). */
    abandon() {
      clearInterval(timer);
      local.clear();
      redis.disconnect();
    },
    async close() {
      clearInterval(timer);
      await work.drain();
      // Sockets whose close was not counted down yet are withdrawn here; users left with no
      // server are reported (the other servers' subscribers hear OFFLINE).
      const members = [...local.keys()];
      local.clear();
      try {
        const multi = redis.multi().zrem(SERVERS, serverId).del(serverSet(serverId));
        for (const member of members) multi.zrem(zkey(member), serverId).zcount(zkey(member), Date.now(), "+inf");
        const results = (await multi.exec()) ?? [];
        for (let i = 0; i < members.length; i++) {
          if (Number(results[3 + 2 * i]?.[1] ?? 1) !== 0) continue;
          const [accountId, userId] = members[i].split(":");
          await opts.onLapsed(accountId, userId);
        }
      } catch (err) {
        opts.logger.error({ component: "presence", err }, "withdrawing this server's presence failed");
      }
      redis.disconnect();
    },
  };
}

const stores = new WeakMap<AppPubSub, PresenceStore>();

/** Registers a server's store (server.ts), found through the server's pubsub like its hub. */
export function registerPresenceStore(pubsub: AppPubSub, store: PresenceStore) {
  stores.set(pubsub, store);
}

/** The store of a server's pubsub (an in-process one if none was registered). */
export function presenceStoreFor(pubsub: AppPubSub): PresenceStore {
  let store = stores.get(pubsub);
  if (!store) stores.set(pubsub, (store = memoryPresenceStore()));
  return store;
}
