/**
 * TrafficCounter: one shard of the per-connection, per-hour callback counters.
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

export interface CountRow {
  hour: string;
  connection: string;
  auth0: number;
  new: number;
  fallback: number;
  unidentified: number;
  errors: number;
}

/** Rows older than this are dropped by a daily alarm. */
const RETENTION_DAYS = 35;
const DAY_MS = 86_400_000;

export class TrafficCounter extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS counts (
        hour TEXT NOT NULL,
        connection TEXT NOT NULL,
        auth0 INTEGER NOT NULL DEFAULT 0,
        new INTEGER NOT NULL DEFAULT 0,
        fallback INTEGER NOT NULL DEFAULT 0,
        unidentified INTEGER NOT NULL DEFAULT 0,
        errors INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (hour, connection)
      );
    `);
  }

  /** Adds a batch of counts (one row per hour × connection), in one transaction. */
  async add(rows: CountRow[]): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      for (const r of rows) {
        this.ctx.storage.sql.exec(
          `INSERT INTO counts (hour, connection, auth0, new, fallback, unidentified, errors) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(hour, connection) DO UPDATE SET
             auth0 = auth0 + excluded.auth0, new = new + excluded.new, fallback = fallback + excluded.fallback,
             unidentified = unidentified + excluded.unidentified, errors = errors + excluded.errors`,
          r.hour,
          r.connection,
          r.auth0,
          r.new,
          r.fallback,
          r.unidentified,
          r.errors,
        );
      }
    });
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + DAY_MS);
  }

  /** Rows from `sinceHour` on (inclusive), optionally for one connection. */
  query(sinceHour: string, connection?: string): CountRow[] {
    const rows =
      connection === undefined
        ? this.ctx.storage.sql.exec<Record<string, SqlStorageValue>>("SELECT * FROM counts WHERE hour >= ?", sinceHour)
        : this.ctx.storage.sql.exec<Record<string, SqlStorageValue>>(
            "SELECT * FROM counts WHERE hour >= ? AND connection = ?",
            sinceHour,
            connection,
          );
    return rows.toArray().map((r) => ({
      hour: String(r["hour"]),
      connection: String(r["connection"]),
      auth0: Number(r["auth0"]),
      new: Number(r["new"]),
      fallback: Number(r["fallback"]),
      unidentified: Number(r["unidentified"]),
      errors: Number(r["errors"]),
    }));
  }

  override async alarm(): Promise<void> {
    const cutoff = new Date(Date.now() - RETENTION_DAYS * DAY_MS).toISOString().slice(0, 13);
    this.ctx.storage.sql.exec("DELETE FROM counts WHERE hour < ?", cutoff);
    await this.ctx.storage.setAlarm(Date.now() + DAY_MS);
  }
}
