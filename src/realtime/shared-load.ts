import { BoundedLru } from "../bounded-lru.js";

/**
 * One event reaches many subscribers with the same selection: load its row once per server, not
 * once per subscriber. Entries live for a few seconds, keyed by account, event cursor and the
 * selection, so a subscriber never gets another account's row or a differently shaped one; at
 * most MAX_ENTRIES are kept (the least recently used go first), however many selections arrive.
 */
const TTL_MS = 5_000;
export const SHARED_LOAD_MAX_ENTRIES = 10_000;
const entries = new BoundedLru<string, { at: number; value: Promise<unknown> }>("shared loads", SHARED_LOAD_MAX_ENTRIES);

export function sharedLoad<T>(key: string, load: () => Promise<T>): Promise<T> {
  const now = Date.now();
  // Read without refreshing: entries stay in the order they were loaded, so the expired ones are first.
  entries.dropWhile((e) => now - e.at > TTL_MS);
  const hit = entries.peek(key);
  if (hit) return hit.value as Promise<T>;
  const value = load();
  const entry = { at: now, value };
  entries.set(key, entry);
  value.catch(() => entries.peek(key) === entry && entries.delete(key));
  return value;
}
