/**
 * Spent bounce marks: the record that makes each of the router's hand-offs count as at most
 * one verified bounce (src/callback/bounce-mark.ts, docs/design.md "Bounce marks"). It lives
 * in the TrafficCounter shard that owns a mark's id (recorder.ts markShard), off the callback's path:
 * the callback only logs and batches the id, and the batch's flush spends it here.
 *
 * Table `spent_marks(id PK, until)`: `id` is the mark's id (hex of 16 bytes of SHA-256 of its
 * nonce; never the cookie), `until` the time (ms) after which the mark is refused as expired
 * anyway (the bounce's time + SPENT_KEEP_MS), so the record may go: every spend, and the shard's hourly alarm, delete the
 * records past their `until` (indexed). SQLite storage: it holds across restarts.
 */
import { SPENT_KEEP_MS } from "../callback/bounce-mark";
import { Batch } from "./recorder";
import type { MarkedBounce } from "./outcome";

type Row = Record<string, SqlStorageValue>;

export class SpentMarks {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`
      CREATE TABLE IF NOT EXISTS spent_marks (id TEXT PRIMARY KEY, until INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS spent_marks_until ON spent_marks(until);`);
  }

  /** Drops the records of marks past their life (also run by the shard's hourly alarm). */
  prune(now: number): void {
    this.sql.exec("DELETE FROM spent_marks WHERE until < ?", now);
  }

  /**
   * Spends each bounce's mark, in order, inside the caller's transaction: the first bounce
   * with an id is counted as a bounce; any later one with the same id (a replay, in this
   * batch or any before it within the mark's life) as `fallback-unverified`, never an error.
   * Returns their counts as a batch (rows and last-seen) and the ids replayed.
   */
  spend(bounces: readonly MarkedBounce[], now: number): { counted: Batch; replayed: string[] } {
    this.prune(now);
    const counted = new Batch();
    const replayed: string[] = [];
    for (const { outcome, at, markId } of bounces) {
      const spent = this.sql.exec<Row>("SELECT 1 FROM spent_marks WHERE id = ?", markId).toArray().length > 0;
      if (spent) {
        replayed.push(markId);
        counted.add({ ...outcome, kind: "fallback-unverified", error: false }, at);
      } else {
        this.sql.exec("INSERT INTO spent_marks (id, until) VALUES (?, ?)", markId, Math.max(at, now) + SPENT_KEEP_MS);
        counted.add(outcome, at);
      }
    }
    return { counted, replayed };
  }
}
