/**
 * Per-connection sums of a counter shard over keys that are already past (before the
 * current minute or hour), kept in the Durable Object's memory so that a /stats read
 * scans only the current key's rows. Past keys change only when a late flush lands in
 * them (TrafficCounter.add drops the sums it touches) or rows are pruned; any other
 * write to the store is caught by SQLite's total_changes(), which then drops them all.
 * Losing them (eviction) only costs one full scan.
 */
import type { Sums } from "./columns";
import type { Resolution } from "./rows";

/** A read over keys `from <= at <= to` and `at < before` (the current key), grouped by connection or key. */
export interface SealedRead {
  by: "connection" | "at";
  resolution: Resolution;
  from: string;
  to: string;
  before: string;
}

interface Entry extends SealedRead {
  sums: Sums;
}

/** At most this many reads are kept (each ≤ MAX_READ_ROWS × columns × 8 bytes). */
const MAX_ENTRIES = 8;

export class SealedSums {
  private entries = new Map<string, Entry>();
  /** total_changes() when every entry was last known to be exact. */
  private changes = -1;

  private static id(r: SealedRead): string {
    return `${r.by} ${r.resolution} ${r.from} ${r.to < r.before ? r.to : "~"} ${r.before}`;
  }

  /** The kept sums of a read, if exact as of `changes` (total_changes()). */
  get(read: SealedRead, changes: number): Sums | undefined {
    if (changes !== this.changes) {
      this.entries.clear();
      this.changes = changes;
      return undefined;
    }
    return this.entries.get(SealedSums.id(read))?.sums;
  }

  set(read: SealedRead, sums: Sums): void {
    const id = SealedSums.id(read);
    this.entries.delete(id);
    this.entries.set(id, { ...read, sums });
    while (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
  }

  /**
   * Around a write: `write` returns the keys it added to per resolution, and whether the
   * store was exact before is judged by `changes()` (total_changes()) before and after.
   */
  around(changes: () => number, write: () => Map<Resolution, Set<string>>): void {
    const exact = changes() === this.changes;
    const touched = write();
    if (!exact) {
      this.entries.clear();
    } else {
      for (const [id, e] of this.entries) {
        for (const key of touched.get(e.resolution) ?? []) {
          if (key >= e.from && key <= e.to && key < e.before) {
            this.entries.delete(id);
            break;
          }
        }
      }
    }
    this.changes = changes();
  }

  /** Drops every kept sum (rows were deleted). */
  clear(changes: number): void {
    this.entries.clear();
    this.changes = changes;
  }
}
