import { RateLimitedError } from "../services/errors.js";
import { PUSH, type PushableIterator } from "./stream.js";

/** Most live subscriptions one caller may hold at once, across all its connections (this server). */
export const MAX_SUBSCRIPTIONS_PER_CALLER = Number(process.env.MAX_SUBSCRIPTIONS_PER_CALLER ?? 25);

const held = new Map<string, number>();

/** Takes one subscription slot for `callerId`; the returned release must run when it ends. */
export function acquireSubscriptionSlot(callerId: string): () => void {
  const count = held.get(callerId) ?? 0;
  if (count >= MAX_SUBSCRIPTIONS_PER_CALLER) throw new RateLimitedError(5, `At most ${MAX_SUBSCRIPTIONS_PER_CALLER} live subscriptions per caller`);
  held.set(callerId, count + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (held.get(callerId) ?? 1) - 1;
    if (left <= 0) held.delete(callerId);
    else held.set(callerId, left);
  };
}

/** Slots currently held (for leak tests). */
export function heldSubscriptionSlots(): number {
  let total = 0;
  for (const n of held.values()) total += n;
  return total;
}

/**
 * Wraps a subscription stream so that ending it (unsubscribe, disconnect, error) releases its slot.
 * A stream that can push its events (PUSH) still can through the wrapper.
 */
export function releasingOnEnd<T>(stream: AsyncIterable<T>, release: () => void): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const it = stream[Symbol.asyncIterator]() as PushableIterator<T>;
      const push = it[PUSH];
      return {
        ...(push ? { [PUSH]: push.bind(it) } : {}),
        next: () => it.next(),
        return: async (value?: unknown) => {
          release();
          return it.return ? it.return(value as never) : { done: true as const, value: undefined as never };
        },
        throw: async (err?: unknown) => {
          release();
          return it.throw ? it.throw(err) : Promise.reject(err);
        },
      };
    },
  };
}
