/**
 * TrafficCounter: one shard of the per-connection callback counters, per minute
 * (kept MINUTE_RETENTION_MS) and per hour (kept HOUR_RETENTION_MS), plus the last
 * callback seen per connection. Keys and retention: docs/storage.md.
 *
 * Why a sharded Durable Object rather than Workers Analytics Engine: the same
 * code runs in production, `wrangler dev` and the tests (Analytics Engine can
 * only be read through Cloudflare's SQL API with an account token, so it has no
 * local read path); counts are exact; and the Worker reads them without any
 * extra credential. Hot keys are avoided twice over: each isolate batches its
 * counts (src/stats/recorder.ts) and each batch goes to a random shard.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import type { OutcomeKind } from "./outcome";
import { HOUR_RETENTION_MS, MINUTE_RETENTION_MS, type CountRow, type LastSeen, type Resolution } from "./rows";

export type { CountRow, LastSeen, Resolution } from "./rows";

const HOUR_MS = 3_600_000;

const TABLE: Record<Resolution, string> = { minute: "minutes", hour: "hours" };
const COLUMNS = ["auth0", "new", "fallback", "unidentified", "errors", "affinity"] as const;

export class TrafficCounter extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    for (const table of Object.values(TABLE)) {
      sql.exec(`
        CREATE TABLE IF NOT EXISTS ${table} (
          at TEXT NOT NULL,
          connection TEXT NOT NULL,
          auth0 INTEGER NOT NULL DEFAULT 0,
          new INTEGER NOT NULL DEFAULT 0,
          fallback INTEGER NOT NULL DEFAULT 0,
          unidentified INTEGER NOT NULL DEFAULT 0,
          errors INTEGER NOT NULL DEFAULT 0,
          affinity INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (at, connection)
        );`);
      // Tables made before transaction affinity get its column (0 for the rows they hold).
      const columns = sql.exec<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`).toArray();
      if (!columns.some((c) => c.name === "affinity")) {
        sql.exec(`ALTER TABLE ${table} ADD COLUMN affinity INTEGER NOT NULL DEFAULT 0`);
      }
    }
    sql.exec(`
      CREATE TABLE IF NOT EXISTS last_seen (
        connection TEXT PRIMARY KEY,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        destination TEXT NOT NULL,
        status INTEGER NOT NULL,
        reason TEXT NOT NULL
      );`);
    // The hourly table of the first release (callbacks in disjoint buckets, `unidentified`
    // apart from auth0/new) becomes today's `hours`: its unidentified callbacks were
    // logins sent to Auth0 (the default `unknown` policy).
    const old = sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'counts'").toArray();
    if (old.length > 0) {
      ctx.storage.transactionSync(() => {
        sql.exec(`INSERT OR IGNORE INTO hours (at, connection, auth0, new, fallback, unidentified, errors)
                  SELECT hour, connection, auth0 + unidentified, new, fallback, unidentified, errors FROM counts`);
        sql.exec("DROP TABLE counts");
      });
    }
  }

  /** Adds a batch of per-minute counts (to the minute and the hour rows) and last-seen entries, in one transaction. */
  async add(rows: CountRow[], last: LastSeen[] = []): Promise<void> {
    const sql = this.ctx.storage.sql;
    const upsert = (table: string, at: string, r: CountRow): void => {
      sql.exec(
        `INSERT INTO ${table} (at, connection, ${COLUMNS.join(", ")}) VALUES (?, ?, ${COLUMNS.map(() => "?").join(", ")})
         ON CONFLICT(at, connection) DO UPDATE SET ${COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(", ")}`,
        at,
        r.connection,
        ...COLUMNS.map((c) => r[c]),
      );
    };
    this.ctx.storage.transactionSync(() => {
      for (const r of rows) {
        upsert(TABLE.minute, r.at, r);
        upsert(TABLE.hour, r.at.slice(0, 13), r);
      }
      for (const l of last) {
        sql.exec(
          `INSERT INTO last_seen (connection, at, kind, destination, status, reason) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(connection) DO UPDATE SET at = excluded.at, kind = excluded.kind,
             destination = excluded.destination, status = excluded.status, reason = excluded.reason
           WHERE excluded.at >= last_seen.at`,
          l.connection,
          l.at,
          l.kind,
          l.destination,
          l.status,
          l.reason,
        );
      }
    });
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + HOUR_MS);
  }

  /** Rows with `from <= at <= to` (keys of the resolution's form), optionally for one connection. */
  query(resolution: Resolution, from: string, to: string, connection?: string): CountRow[] {
    const table = TABLE[resolution];
    const cursor =
      connection === undefined
        ? this.ctx.storage.sql.exec<Record<string, SqlStorageValue>>(
            `SELECT * FROM ${table} WHERE at >= ? AND at <= ?`,
            from,
            to,
          )
        : this.ctx.storage.sql.exec<Record<string, SqlStorageValue>>(
            `SELECT * FROM ${table} WHERE at >= ? AND at <= ? AND connection = ?`,
            from,
            to,
            connection,
          );
    return cursor.toArray().map((r) => ({
      at: String(r["at"]),
      connection: String(r["connection"]),
      auth0: Number(r["auth0"]),
      new: Number(r["new"]),
      fallback: Number(r["fallback"]),
      unidentified: Number(r["unidentified"]),
      errors: Number(r["errors"]),
      affinity: Number(r["affinity"] ?? 0),
    }));
  }

  /** The newest callback this shard saw, per connection (or for one). */
  lastSeen(connection?: string): LastSeen[] {
    const cursor =
      connection === undefined
        ? this.ctx.storage.sql.exec<Record<string, SqlStorageValue>>("SELECT * FROM last_seen")
        : this.ctx.storage.sql.exec<Record<string, SqlStorageValue>>(
            "SELECT * FROM last_seen WHERE connection = ?",
            connection,
          );
    return cursor.toArray().map((r) => ({
      connection: String(r["connection"]),
      at: Number(r["at"]),
      kind: String(r["kind"]) as OutcomeKind,
      destination: r["destination"] === "new" ? "new" : "auth0",
      status: Number(r["status"]),
      reason: String(r["reason"]),
    }));
  }

  /** Hourly: drops minute rows past MINUTE_RETENTION_MS, hour rows and last-seen entries past HOUR_RETENTION_MS. */
  override async alarm(): Promise<void> {
    this.prune(Date.now());
    await this.ctx.storage.setAlarm(Date.now() + HOUR_MS);
  }

  prune(now: number): void {
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM minutes WHERE at < ?", new Date(now - MINUTE_RETENTION_MS).toISOString().slice(0, 16));
    sql.exec("DELETE FROM hours WHERE at < ?", new Date(now - HOUR_RETENTION_MS).toISOString().slice(0, 13));
    sql.exec("DELETE FROM last_seen WHERE at < ?", now - HOUR_RETENTION_MS);
  }
}
