/**
 * One event reaches many subscribers with the same selection: load its row once per server, not
 * once per subscriber. Entries live for a few seconds, keyed by account, event cursor and the
 * selection, so a subscriber never gets another account's row or a differently shaped one.
 */
const TTL_MS = 5_000;
const entries = new Map<string, { at: number; value: Promise<unknown> }>();
let lastSweep = 0;

export function sharedLoad<T>(key: string, load: () => Promise<T>): Promise<T> {
  const now = Date.now();
  if (now - lastSweep > TTL_MS) {
    lastSweep = now;
    for (const [k, e] of entries) if (now - e.at > TTL_MS) entries.delete(k);
  }
  const hit = entries.get(key);
  if (hit) return hit.value as Promise<T>;
  const value = load();
  entries.set(key, { at: now, value });
  value.catch(() => entries.delete(key));
  return value;
}
