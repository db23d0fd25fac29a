/**
 * A map that forgets its least recently used entries past `maxEntries` entries or `maxWeight`
 * total weight (what `weigh` says an entry costs, e.g. estimated bytes). For caches whose keys a
 * client chooses (documents, identities): however many distinct keys arrive, the cache stays
 * within its bounds. An entry heavier than `maxWeight` on its own is not stored.
 */
export class BoundedLru<K, V> {
  private readonly entries = new Map<K, { value: V; weight: number }>();
  private totalWeight = 0;

  /** `name`: the cache's name in cacheStats(). */
  constructor(
    name: string,
    readonly maxEntries: number,
    readonly maxWeight = Infinity,
    private readonly weigh: (key: K, value: V) => number = () => 1,
  ) {
    let list = named.get(name);
    if (!list) named.set(name, (list = []));
    for (let i = list.length - 1; i >= 0; i--) if (!list[i].deref()) list.splice(i, 1);
    list.push(new WeakRef<Measured>(this));
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Most recently used last: Map keeps insertion order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** The value without refreshing its recency. */
  peek(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  set(key: K, value: V): void {
    this.delete(key);
    const weight = this.weigh(key, value);
    if (weight > this.maxWeight || this.maxEntries <= 0) return;
    this.entries.set(key, { value, weight });
    this.totalWeight += weight;
    while (this.entries.size > this.maxEntries || this.totalWeight > this.maxWeight) this.delete(this.entries.keys().next().value as K);
  }

  delete(key: K): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    this.totalWeight -= entry.weight;
    return true;
  }

  /** Forgets entries from the least recently used on while `stale` says so (e.g. expired ones, for a cache read with peek: oldest first). */
  dropWhile(stale: (value: V) => boolean) {
    for (const [key, entry] of this.entries) {
      if (!stale(entry.value)) return;
      this.delete(key);
    }
  }

  clear() {
    this.entries.clear();
    this.totalWeight = 0;
  }

  /** Entries from least to most recently used. */
  keys(): IterableIterator<K> {
    return this.entries.keys();
  }

  get size(): number {
    return this.entries.size;
  }

  get weight(): number {
    return this.totalWeight;
  }
}

export interface CacheStats {
  /** Live caches of this name (one per server, or one per process). */
  instances: number;
  entries: number;
  weight: number;
  maxEntries: number;
  maxWeight: number;
}

type Measured = Pick<BoundedLru<unknown, unknown>, "size" | "weight" | "maxEntries" | "maxWeight">;
const named = new Map<string, WeakRef<Measured>[]>();

/** Every live BoundedLru of this process by name, summed over its instances (for tests, the benchmark and operators). */
export function cacheStats(): Record<string, CacheStats> {
  const stats: Record<string, CacheStats> = {};
  for (const [name, refs] of named) {
    for (const ref of refs) {
      const cache = ref.deref();
      if (!cache) continue;
      const s = (stats[name] ??= { instances: 0, entries: 0, weight: 0, maxEntries: 0, maxWeight: 0 });
      s.instances++;
      s.entries += cache.size;
      s.weight += cache.weight;
      s.maxEntries += cache.maxEntries;
      s.maxWeight += cache.maxWeight;
    }
  }
  return stats;
}
