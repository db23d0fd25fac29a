import type { Plugin } from "@envelop/core";
import { RedisStore, Store, useRateLimiter } from "@envelop/rate-limiter";
import { GraphQLError, type ExecutionResult } from "graphql";
import { Redis } from "ioredis";
import type { RateLimits } from "../config.js";
import type { Context } from "../context.js";
import { BoundedLru } from "../bounded-lru.js";

/** The caller as the rate limits see it: the context may carry the client address (`ip`) from the transport. */
export type LimitedContext = Context & { ip?: string };

/** One bucket per signed-in principal; anonymous callers share one per client address. */
export function callerIdentity(ctx: LimitedContext): string {
  switch (ctx.kind) {
    case "agent":
      return `user:${ctx.user.id}`;
    case "partner":
      return `partner:${ctx.partnerId}`;
    case "visitor":
      return `visitor:${ctx.conversationId}`;
    default:
      return `ip:${ctx.ip ?? "unknown"}`;
  }
}

/** The typed error both budgets answer with; `http` makes Yoga reply 429 with Retry-After (it is not sent in the body). */
export function rateLimitedError(message: string, retryAfterSeconds: number, like?: GraphQLError): GraphQLError {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return new GraphQLError(message, {
    nodes: like?.nodes,
    path: like?.path,
    extensions: { code: "RATE_LIMITED", retryAfterSeconds: seconds, http: { status: 429, headers: { "Retry-After": String(seconds) } } },
  });
}

/** Fixed-window counter per caller for the general budget. */
interface Counter {
  /** Counts one hit; returns the window's count and the milliseconds until it resets. */
  hit(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }>;
}

/**
 * Callers this server counts in memory, per budget: anonymous callers are counted by address and
 * visitors by conversation, so a client can bring new identities at will. Past this many, the
 * least recently seen caller is forgotten (its next request starts a fresh window).
 */
export const MAX_COUNTED_CALLERS = 50_000;

function memoryCounter(): Counter {
  const windows = new BoundedLru<string, { count: number; resetAt: number }>("rate-limit windows", MAX_COUNTED_CALLERS);
  return {
    async hit(key, windowMs) {
      const now = Date.now();
      let w = windows.get(key);
      if (!w || w.resetAt <= now) windows.set(key, (w = { count: 0, resetAt: now + windowMs }));
      w.count++;
      return { count: w.count, resetInMs: w.resetAt - now };
    },
  };
}

/**
 * @envelop/rate-limiter's store in memory, bounded: its own InMemoryStore keeps every identity
 * forever and copies all of them on each call. Timestamps are kept per caller and field, for at
 * most MAX_COUNTED_CALLERS pairs (least recently used forgotten first).
 */
class BoundedMemoryStore extends Store {
  private readonly calls = new BoundedLru<string, readonly number[]>("rate-limit field calls", MAX_COUNTED_CALLERS);

  setForIdentity(identity: Parameters<Store["setForIdentity"]>[0], timestamps: readonly number[]) {
    const key = `${identity.contextIdentity}\u0000${identity.fieldIdentity}`;
    if (timestamps.length === 0) this.calls.delete(key);
    else this.calls.set(key, [...timestamps]);
  }

  getForIdentity(identity: Parameters<Store["getForIdentity"]>[0]): readonly number[] {
    return this.calls.get(`${identity.contextIdentity}\u0000${identity.fieldIdentity}`) ?? [];
  }
}

function redisCounter(redis: Redis): Counter {
  return {
    async hit(key, windowMs) {
      // INCR then set the expiry only on the window's first hit, atomically, so all servers share one window.
      const [count, ttl] = (await redis.eval(
        "local c = redis.call('INCR', KEYS[1]) if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return {c, redis.call('PTTL', KEYS[1])}",
        1,
        key,
        windowMs,
      )) as [number, number];
      return { count, resetInMs: ttl > 0 ? ttl : windowMs };
    },
  };
}

/** Redis while it is connected, this server's memory while it is not. */
function fallbackCounter(redis: Redis, shared: Counter, local: Counter): Counter {
  return {
    async hit(key: string, windowMs: number) {
      if (redis.status !== "ready") return local.hit(key, windowMs);
      try {
        return await shared.hit(key, windowMs);
      } catch {
        return local.hit(key, windowMs);
      }
    },
  };
}

/** The same fallback for @envelop/rate-limiter's store. */
function fallbackStore(redis: Redis, shared: RedisStore, local: Store): Store {
  return {
    async setForIdentity(identity: Parameters<Store["setForIdentity"]>[0], timestamps: readonly number[], windowMs?: number) {
      try {
        if (redis.status === "ready") await shared.setForIdentity(identity, timestamps, windowMs);
        else await local.setForIdentity(identity, timestamps);
      } catch {
        await local.setForIdentity(identity, timestamps);
      }
    },
    async getForIdentity(identity: Parameters<Store["getForIdentity"]>[0]) {
      try {
        return await (redis.status === "ready" ? shared.getForIdentity(identity) : local.getForIdentity(identity));
      } catch {
        return local.getForIdentity(identity);
      }
    },
  } as Store;
}

function isResult(value: unknown): value is ExecutionResult {
  return !!value && typeof value === "object" && !(Symbol.asyncIterator in value);
}

export interface RateLimitPlugins {
  plugins: Plugin[];
  /** Counts one operation against the caller's budget outside GraphQL (e.g. an upload); seconds to wait when over it. */
  spend(ctx: LimitedContext): Promise<{ retryAfterSeconds: number } | undefined>;
  close(): Promise<void>;
}

/**
 * Two budgets per caller: every operation counts against `operationsMax` per window, and each
 * intake-like root field (named in `intakeFields`, so fields added later are covered by name) has
 * its own stricter `intakeMax` (through @envelop/rate-limiter). In Redis when `redisUrl` is set,
 * so the limits hold across servers; in memory otherwise.
 */
export function createRateLimits(limits: RateLimits, redisUrl?: string): RateLimitPlugins {
  // No offline queue: while Redis is unreachable, commands fail at once and the limits fall back
  // to this server's memory, so an outage never blocks intake or replies.
  const redis = redisUrl ? new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 }) : undefined;
  redis?.on("error", () => {});
  const counter = redis ? fallbackCounter(redis, redisCounter(redis), memoryCounter()) : memoryCounter();
  const opsWindowMs = limits.operationsWindowSeconds * 1000;

  const spend = async (ctx: LimitedContext): Promise<{ retryAfterSeconds: number } | undefined> => {
    const { count, resetInMs } = await counter.hit(`${limits.keyPrefix}ops:${callerIdentity(ctx)}`, opsWindowMs);
    return count <= limits.operationsMax ? undefined : { retryAfterSeconds: Math.max(1, Math.ceil(resetInMs / 1000)) };
  };
  const budget = async (ctx: LimitedContext): Promise<ExecutionResult | undefined> => {
    const refused = await spend(ctx);
    if (!refused) return undefined;
    return { errors: [rateLimitedError(`Too many requests: at most ${limits.operationsMax} operations per ${limits.operationsWindowSeconds} s`, refused.retryAfterSeconds)] };
  };

  // @envelop/rate-limiter marks its refusals with extensions.http.statusCode 429 and a window
  // string as Retry-After; this rewrites them into our typed shape with seconds.
  const shapeRefusals: Plugin = {
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (!isResult(result) || !result.errors?.length) return;
          const shaped = result.errors.map((e) =>
            (e.extensions?.http as { statusCode?: number } | undefined)?.statusCode === 429
              ? rateLimitedError(`Too many requests: at most ${limits.intakeMax} calls of this field per ${limits.intakeWindowSeconds} s`, limits.intakeWindowSeconds, e)
              : e,
          );
          setResult({ ...result, errors: shaped });
        },
      };
    },
  };

  const generalBudget: Plugin = {
    async onExecute({ context, setResultAndStopExecution }) {
      const refused = await budget(context as LimitedContext);
      if (refused) setResultAndStopExecution(refused);
    },
    async onSubscribe({ context, setResultAndStopExecution }) {
      const refused = await budget(context as LimitedContext);
      if (refused) setResultAndStopExecution(refused);
    },
  };

  const intake = limits.intakeFields.length
    ? useRateLimiter({
        identifyFn: (ctx) => `${limits.keyPrefix}${callerIdentity(ctx as LimitedContext)}`,
        store: redis ? fallbackStore(redis, new RedisStore(redis), new BoundedMemoryStore()) : new BoundedMemoryStore(),
        configByField: [
          {
            type: "@(Query|Mutation)",
            field: `@(${limits.intakeFields.join("|")})`,
            max: limits.intakeMax,
            window: `${limits.intakeWindowSeconds}s`,
            message: "Too many requests",
          },
        ],
      })
    : undefined;

  return {
    // Order matters: the shaper must be registered before the limiter to see its stopped result.
    plugins: [generalBudget, shapeRefusals, ...(intake ? [intake as Plugin] : [])],
    spend,
    async close() {
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
