/**
 * The KV outbox: keys whose KV value must be (re)written. A change queues its
 * keys in its own transaction; the writer's flush writes them and settles each
 * one only if it did not change meanwhile (the sequence number), so KV always
 * converges on the latest value.
 */
type Row = Record<string, SqlStorageValue>;

export class Outbox {
  /** The tables are created with the others, by TableDb. */
  constructor(private readonly sql: SqlStorage) {}

  /** Marks a KV key as needing a write; the sequence number makes a newer change win. */
  enqueue(key: string): void {
    const seq = this.nextSeq();
    this.sql.exec("INSERT OR REPLACE INTO outbox (key, seq) VALUES (?, ?)", key, seq);
  }

  pending(limit: number): Array<{ key: string; seq: number }> {
    return this.sql
      .exec<Row>("SELECT key, seq FROM outbox ORDER BY seq LIMIT ?", limit)
      .toArray()
      .map((row) => ({ key: String(row["key"]), seq: Number(row["seq"]) }));
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
