/**
 * Mirrors the router's per-isolate cache (src/table/store.ts) to estimate how
 * often it hits. Each scenario counts into its own tally, so two scenarios
 * that share a Worker (and so its cache) can be interleaved.
 */

/** Mirrors src/table/store.ts MAX_CACHE_ENTRIES, for the cache-hit estimate only. */
export const ISOLATE_CACHE_MAX_ENTRIES = 20_000;

export class CacheTally {
  hits = 0;
  misses = 0;
  readonly distinct = new Set<string>();

  get hitRate(): number {
    const total = this.hits + this.misses;
    return total === 0 ? NaN : this.hits / total;
  }
}

export class CacheSimulation {
  private readonly readAt = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number = ISOLATE_CACHE_MAX_ENTRIES,
  ) {}

  /** One read of `key` by the Worker at `now` (ms since the epoch); counted into `tally` when given. */
  access(key: string, tally: CacheTally | undefined, now: number = Date.now()): void {
    const at = this.readAt.get(key);
    const hit = at !== undefined && now - at < this.ttlMs;
    if (!hit) {
      this.readAt.delete(key);
      this.readAt.set(key, now);
      if (this.readAt.size > this.maxEntries) {
        const oldest = this.readAt.keys().next();
        if (oldest.done !== true) this.readAt.delete(oldest.value);
      }
    }
    if (tally !== undefined) {
      if (hit) tally.hits++;
      else tally.misses++;
      tally.distinct.add(key);
    }
  }
}
