/**
 * The KV outbox: keys whose KV value must be (re)written. A change queues its
 * keys in its own transaction; the writer's flush writes them and settles each
 * one only if it did not change meanwhile (the sequence number), so KV always
 * converges on the latest value. The settings key comes out first, whatever
 * its age: the kill switch and an import's settings never wait behind routes.
 */
import { SETTINGS_KEY } from "../table/kv-layout";

type Row = Record<string, SqlStorageValue>;

export class Outbox {
  /** The tables are created with the others, by TableDb. */
  constructor(private readonly sql: SqlStorage) {}

  /** Marks a KV key as needing a write; the sequence number makes a newer change win. */
  enqueue(key: string): void {
    const seq = this.nextSeq();
    this.sql.exec("INSERT OR REPLACE INTO outbox (key, seq) VALUES (?, ?)", key, seq);
  }

  /** The oldest `limit` queued keys, the settings key first. */
  pending(limit: number): Array<{ key: string; seq: number }> {
    return this.sql
      .exec<Row>("SELECT key, seq FROM outbox ORDER BY key = ? DESC, seq LIMIT ?", SETTINGS_KEY, limit)
      .toArray()
      .map((row) => ({ key: String(row["key"]), seq: Number(row["seq"]) }));
  }

  /** The queued change of `key`, or undefined when KV already has its latest value. */
  seqOf(key: string): number | undefined {
    const row = this.sql.exec<Row>("SELECT seq FROM outbox WHERE key = ?", key).toArray()[0];
    return row === undefined ? undefined : Number(row["seq"]);
  }

  /** The sequence number of the newest queued change (0 before any). */
  lastSeq(): number {
    const row = this.sql.exec<Row>("SELECT value FROM counters WHERE name = 'outbox'").toArray()[0];
    return row === undefined ? 0 : Number(row["value"]);
  }

  /** The keys queued by changes after `seq` (a rehearsal's own keys: durable-object.ts). */
  keysAfter(seq: number): string[] {
    return this.sql
      .exec<Row>("SELECT key FROM outbox WHERE seq > ? ORDER BY seq", seq)
      .toArray()
      .map((row) => String(row["key"]));
  }

  pendingCount(): number {
    return Number(this.sql.exec<Row>("SELECT COUNT(*) AS n FROM outbox").one()["n"]);
  }

  /** Done with `key` — unless it changed again since `seq` was read. */
  settle(key: string, seq: number): void {
    this.sql.exec("DELETE FROM outbox WHERE key = ? AND seq = ?", key, seq);
  }

  private nextSeq(): number {
    this.sql.exec(
      "INSERT INTO counters (name, value) VALUES ('outbox', 1) ON CONFLICT(name) DO UPDATE SET value = value + 1",
    );
    return Number(this.sql.exec<Row>("SELECT value FROM counters WHERE name = 'outbox'").one()["value"]);
  }
}
