/**
 * TrafficCounter: one shard of the per-connection callback counters, per minute
 * (kept MINUTE_RETENTION_MS) and per hour (kept HOUR_RETENTION_MS), plus the last
 * callback seen per connection. Keys, columns and retention: docs/storage.md.
 *
 * Why a sharded Durable Object rather than Workers Analytics Engine: the same
 * code runs in production, `wrangler dev` and the tests (Analytics Engine can
 * only be read through Cloudflare's SQL API with an account token, so it has no
 * local read path); counts are exact; and the Worker reads them without any
 * extra credential. Hot keys are avoided twice over: each isolate batches its
 * counts (src/stats/recorder.ts) and each batch goes to a random shard.
 *
 * Bounded by the route table, not by what strangers send: a batch's rows for a
 * connection name that has no route are added to the one `(not in table)` row
 * (NOT_IN_TABLE) and the name only sets a bit of that hour's distinct-names bitmap
 * (src/stats/sketch.ts). Every read has a key window and a row limit.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { log } from "../log";
import { writerOf } from "../writer/handle";
import { NOT_A_CALLBACK, UNIDENTIFIED, type MarkedBounce, type OutcomeKind } from "./outcome";
import { SpentMarks } from "./spent-marks";
import {
  COLUMNS,
  countRowOf,
  merged,
  rowsOf,
  NEWER_COLUMNS,
  only,
  valuesOf,
  type PackedSums,
  type StoredRow as Row,
  type Sums,
} from "./columns";
import {
  HOUR_RETENTION_MS,
  MINUTE_RETENTION_MS,
  NOT_IN_TABLE,
  type CountRow,
  type LastSeen,
  type Resolution,
} from "./rows";
import type { EvidenceRow } from "./evidence";
import { SealedSums } from "./sealed-sums";
import { addName, mergeBits, NAME_BYTES } from "./sketch";

export type { CountRow, LastSeen, Resolution } from "./rows";
export type { PackedSums } from "./columns";

const HOUR_MS = 3_600_000;

const TABLE: Record<Resolution, string> = { minute: "minutes", hour: "hours" };
const SUMS = COLUMNS.map((c) => `SUM(${c}) AS ${c}`).join(", ");

/** At most this many rows answer one read (the table has far fewer connections; see docs/storage.md). */
export const MAX_READ_ROWS = 20_000;
/** A known connection is re-checked with the writer after this long (a deleted route then counts as not in table). */
const KNOWN_TTL_MS = 10 * 60_000;
/** Names per statement: a Durable Object's SQLite binds at most 100 parameters, and reads add two or three. */
const NAMES_PER_STATEMENT = 90;
/** Beyond this many names, byConnection scans the window once and filters, instead of IN lists. */
const GROUPED_SCAN_NAMES = 4 * NAMES_PER_STATEMENT;
/** Connections whose counts are kept under their own name without asking the writer. */
const SPECIAL = new Set([UNIDENTIFIED, NOT_A_CALLBACK, NOT_IN_TABLE]);

/** Rows of `connection (or at), SUM(column)…` (COLUMNS' order) as Sums; more than MAX_READ_ROWS is truncated. */
function sumsOf(cursor: SqlStorageCursor<Record<string, SqlStorageValue>>): Sums {
  const names: string[] = [];
  const values: number[] = [];
  for (const row of cursor.raw()) {
    if (names.length === MAX_READ_ROWS) return { names, values: Float64Array.from(values), truncated: true };
    names.push(String(row[0]));
    for (let j = 1; j < row.length; j++) values.push(Number(row[j] ?? 0));
  }
  return { names, values: Float64Array.from(values), truncated: false };
}

/** The key of `ms` at a resolution (`2026-11-23T13:05` or `2026-11-23T13`). */
function keyOf(resolution: Resolution, ms: number): string {
  return new Date(ms).toISOString().slice(0, resolution === "minute" ? 16 : 13);
}

export class TrafficCounter extends DurableObject<Env> {
  /** Connections the writer said have a route, and until when that answer is trusted (ms). */
  private readonly known = new Map<string, number>();
  /** Every connection's sums over past keys (src/stats/sealed-sums.ts). */
  private readonly sealed = new SealedSums();
  /** Bounce marks already counted (src/stats/spent-marks.ts). */
  private readonly spent: SpentMarks;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    this.spent = new SpentMarks(sql);
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
          PRIMARY KEY (at, connection)
        );`);
      // Columns newer than the table (affinity, then the Auth0 classes) start at 0 for the rows it holds.
      const columns = new Set(
        sql
          .exec<{ name: string }>(`SELECT name FROM pragma_table_info('${table}')`)
          .toArray()
          .map((c) => c.name),
      );
      for (const column of NEWER_COLUMNS) {
        if (!columns.has(column)) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} INTEGER NOT NULL DEFAULT 0`);
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
      );
      CREATE INDEX IF NOT EXISTS last_seen_at ON last_seen(at);
      CREATE TABLE IF NOT EXISTS unknown_names (hour TEXT PRIMARY KEY, bits BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS evidence (
        at TEXT NOT NULL,
        connection TEXT NOT NULL,
        shape TEXT NOT NULL,
        started TEXT NOT NULL,
        identified_by TEXT NOT NULL,
        logins INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (at, connection, shape, started, identified_by)
      );`);
    // The hourly table of the first release (callbacks in disjoint buckets, `unidentified`
    // apart from auth0/new) becomes today's `hours`: its unidentified callbacks were
    // logins sent to Auth0 (the default `unknown` policy).
    const old = sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'counts'").toArray();
    if (old.length > 0) {
      ctx.storage.transactionSync(() => {
        sql.exec(`INSERT OR IGNORE INTO hours (at, connection, auth0, new, fallback, unidentified, errors, auth0_other)
                  SELECT hour, connection, auth0 + unidentified, new, fallback, unidentified, errors, auth0 + unidentified FROM counts`);
        sql.exec("DROP TABLE counts");
      });
    }
  }

  /**
   * Bounces with a valid mark, sent here because this shard owns their marks' ids
   * (recorder.ts markShard): each mark is counted as a bounce the first time, as
   * `fallback-unverified` after (a replay; logged), then added like any batch.
   */
  async spendBounces(bounces: MarkedBounce[]): Promise<void> {
    let spent: ReturnType<SpentMarks["spend"]> | undefined;
    // Spending writes only spent_marks: no kept sum changes (src/stats/sealed-sums.ts).
    this.sealed.around(
      () => this.totalChanges(),
      () => {
        spent = this.ctx.storage.transactionSync(() => this.spent.spend(bounces, Date.now()));
        return new Map();
      },
    );
    if (spent === undefined) return;
    const { counted, replayed } = spent;
    if (replayed.length > 0) {
      log({
        event: "bounce-mark-replayed",
        message: `${replayed.length} replayed bounce mark(s) counted unverified`,
        marks: replayed.slice(0, 20),
      });
    }
    await this.add([...counted.rows.values()], [...counted.last.values()]);
  }

  /**
   * Adds a batch of per-minute counts (to the minute and the hour rows) and last-seen
   * entries, in one transaction. Rows of a connection without a route go to NOT_IN_TABLE
   * (the writer is asked which names have one; its yes is cached KNOWN_TTL_MS). If the
   * writer cannot answer, unconfirmed names count as not in table (and a stats-error is logged).
   */
  async add(rows: CountRow[], last: LastSeen[] = [], evidence: EvidenceRow[] = []): Promise<void> {
    const known = await this.knownOf(new Set([...rows.map((r) => r.connection), ...last.map((l) => l.connection)]));
    const touched = new Map<Resolution, Set<string>>([
      ["minute", new Set(rows.map((r) => r.at))],
      ["hour", new Set(rows.map((r) => r.at.slice(0, 13)))],
    ]);
    this.sealed.around(
      () => this.totalChanges(),
      () => {
        this.write(rows, last, evidence, known);
        return touched;
      },
    );
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + HOUR_MS);
  }

  /** add()'s writes, in one transaction. */
  private write(rows: CountRow[], last: LastSeen[], evidence: EvidenceRow[], known: Set<string>): void {
    const sql = this.ctx.storage.sql;
    const upsert = (table: string, at: string, connection: string, r: CountRow): void => {
      sql.exec(
        `INSERT INTO ${table} (at, connection, ${COLUMNS.join(", ")}) VALUES (?, ?, ${COLUMNS.map(() => "?").join(", ")})
         ON CONFLICT(at, connection) DO UPDATE SET ${COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(", ")}`,
        at,
        connection,
        ...valuesOf(r),
      );
    };
    this.ctx.storage.transactionSync(() => {
      const bitmaps = new Map<string, Uint8Array>();
      for (const r of rows) {
        const connection = known.has(r.connection) ? r.connection : NOT_IN_TABLE;
        upsert(TABLE.minute, r.at, connection, r);
        upsert(TABLE.hour, r.at.slice(0, 13), connection, r);
        if (connection === NOT_IN_TABLE && r.connection !== NOT_IN_TABLE) {
          const hour = r.at.slice(0, 13);
          let bits = bitmaps.get(hour);
          if (bits === undefined) {
            bits = new Uint8Array(NAME_BYTES);
            const stored = sql.exec<Row>("SELECT bits FROM unknown_names WHERE hour = ?", hour).toArray()[0];
            if (stored !== undefined) mergeBits(bits, new Uint8Array(stored["bits"] as ArrayBuffer));
            bitmaps.set(hour, bits);
          }
          addName(bits, r.connection);
        }
      }
      // Evidence (src/stats/evidence.ts): per hour, like `hours`; names without a route share NOT_IN_TABLE.
      for (const e of evidence) {
        sql.exec(
          `INSERT INTO evidence (at, connection, shape, started, identified_by, logins) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(at, connection, shape, started, identified_by) DO UPDATE SET logins = logins + excluded.logins`,
          e.at.slice(0, 13),
          known.has(e.connection) ? e.connection : NOT_IN_TABLE,
          e.shape,
          e.started,
          e.identifiedBy,
          e.logins,
        );
      }
      for (const [hour, bits] of bitmaps) {
        sql.exec("INSERT OR REPLACE INTO unknown_names (hour, bits) VALUES (?, ?)", hour, bits);
      }
      for (const l of last) {
        sql.exec(
          `INSERT INTO last_seen (connection, at, kind, destination, status, reason) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT(connection) DO UPDATE SET at = excluded.at, kind = excluded.kind,
             destination = excluded.destination, status = excluded.status, reason = excluded.reason
           WHERE excluded.at >= last_seen.at`,
          known.has(l.connection) ? l.connection : NOT_IN_TABLE,
          l.at,
          l.kind,
          l.destination,
          l.status,
          l.reason,
        );
      }
    });
  }

  /** Which of `names` may keep their own rows: the specials and those with a route. */
  private async knownOf(names: Set<string>): Promise<Set<string>> {
    const now = Date.now();
    const known = new Set<string>();
    const ask: string[] = [];
    for (const name of names) {
      if (SPECIAL.has(name) || (this.known.get(name) ?? 0) > now) known.add(name);
      else ask.push(name);
    }
    if (ask.length === 0) return known;
    try {
      const states = await writerOf(this.env).statesOf(ask);
      for (const name of Object.keys(states)) {
        known.add(name);
        this.known.set(name, now + KNOWN_TTL_MS);
      }
    } catch (err) {
      log({
        event: "stats-error",
        message: `route names unconfirmed, counted as not in table: ${err instanceof Error ? err.message.slice(0, 200) : "error"}`,
      });
    }
    // Bounded by the route table: names seen, asked for and not found are not remembered.
    if (this.known.size > MAX_READ_ROWS) {
      for (const [name, until] of this.known) if (until <= now) this.known.delete(name);
    }
    return known;
  }

  /**
   * Rows with `from <= at <= to` (keys of the resolution's form), optionally for one
   * connection; at most `limit` (MAX_READ_ROWS), oldest first.
   */
  query(resolution: Resolution, from: string, to: string, connection?: string, limit = MAX_READ_ROWS): CountRow[] {
    const table = TABLE[resolution];
    const n = Math.min(limit, MAX_READ_ROWS);
    const cursor =
      connection === undefined
        ? this.ctx.storage.sql.exec<Row>(
            `SELECT * FROM ${table} WHERE at >= ? AND at <= ? ORDER BY at LIMIT ?`,
            from,
            to,
            n,
          )
        : this.ctx.storage.sql.exec<Row>(
            `SELECT * FROM ${table} WHERE at >= ? AND at <= ? AND connection = ? ORDER BY at LIMIT ?`,
            from,
            to,
            connection,
            n,
          );
    return cursor.toArray().map(countRowOf);
  }

  /** Sums per key (`at`) over every connection, `from <= at <= to`: the series (connection ""). */
  byTime(resolution: Resolution, from: string, to: string): CountRow[] {
    return rowsOf(this.grouped("at", resolution, from, to), "at").sort((a, b) => (a.at < b.at ? -1 : 1));
  }

  /**
   * Sums per connection over `from <= at <= to`, for the named connections or all, packed
   * so that the answer crosses RPC as three arrays rather than one object per connection
   * (10 000 connections × 8 shards were 80 000 cloned objects): `values[i * columns.length + j]`
   * is connection `names[i]`'s sum of `columns[j]`. At most `limit` (MAX_READ_ROWS)
   * connections, and `truncated` when there were more. Many names are read as one grouped
   * scan and filtered here: cheaper than a statement per NAMES_PER_STATEMENT names.
   */
  byConnection(
    resolution: Resolution,
    from: string,
    to: string,
    connections?: string[],
    limit = MAX_READ_ROWS,
  ): PackedSums {
    const n = Math.min(limit, MAX_READ_ROWS);
    const sql = this.ctx.storage.sql;
    const head = `SELECT connection, ${SUMS} FROM ${TABLE[resolution]} WHERE at >= ? AND at <= ?`;
    let sums: Sums;
    if (connections !== undefined && connections.length <= GROUPED_SCAN_NAMES) {
      const parts: Sums[] = [];
      for (let i = 0; i < connections.length; i += NAMES_PER_STATEMENT) {
        const chunk = connections.slice(i, i + NAMES_PER_STATEMENT);
        const marks = chunk.map(() => "?").join(", ");
        parts.push(sumsOf(sql.exec(`${head} AND connection IN (${marks}) GROUP BY connection`, from, to, ...chunk)));
      }
      sums = merged(parts);
    } else {
      sums = this.grouped("connection", resolution, from, to);
      if (connections !== undefined) sums = only(sums, new Set(connections));
    }
    const width = COLUMNS.length;
    const truncated = sums.truncated || sums.names.length > n;
    return {
      columns: [...COLUMNS],
      names: sums.names.slice(0, n),
      values: sums.names.length > n ? sums.values.slice(0, n * width) : sums.values,
      truncated,
    };
  }

  /**
   * Sums over `from <= at <= to` grouped by connection or by key: the keys before the
   * current one from the sealed sums (scanned once, then kept: src/stats/sealed-sums.ts),
   * the current key's rows scanned on each read.
   */
  private grouped(by: "connection" | "at", resolution: Resolution, from: string, to: string): Sums {
    const sql = this.ctx.storage.sql;
    const head = `SELECT ${by}, ${SUMS} FROM ${TABLE[resolution]} WHERE at >= ? AND at <= ?`;
    const current = keyOf(resolution, Date.now());
    const parts: Sums[] = [];
    if (from < current) {
      const id = { by, resolution, from, to, before: current };
      let past = this.sealed.get(id, this.totalChanges());
      if (past === undefined) {
        past = sumsOf(sql.exec(`${head} AND at < ? GROUP BY ${by} LIMIT ?`, from, to, current, MAX_READ_ROWS + 1));
        this.sealed.set(id, past);
      }
      parts.push(past);
    }
    if (to >= current) {
      parts.push(sumsOf(sql.exec(`${head} AND at >= ? GROUP BY ${by} LIMIT ?`, from, to, current, MAX_READ_ROWS + 1)));
    }
    return merged(parts);
  }

  /** SQLite's count of rows changed on this store since it opened (any write moves it). */
  private totalChanges(): number {
    return Number(this.ctx.storage.sql.exec<{ n: number }>("SELECT total_changes() AS n").one().n);
  }

  /** The newest callback since `sinceMs` of each named connection (at most one row per name). */
  lastSeen(connections: string[], sinceMs = 0): LastSeen[] {
    const out: LastSeen[] = [];
    for (let i = 0; i < connections.length && i < MAX_READ_ROWS; i += NAMES_PER_STATEMENT) {
      const chunk = connections.slice(i, Math.min(i + NAMES_PER_STATEMENT, MAX_READ_ROWS));
      const marks = chunk.map(() => "?").join(", ");
      for (const r of this.ctx.storage.sql
        .exec<Row>(`SELECT * FROM last_seen WHERE connection IN (${marks}) AND at >= ?`, ...chunk, sinceMs)
        .toArray()) {
        out.push({
          connection: String(r["connection"]),
          at: Number(r["at"]),
          kind: String(r["kind"]) as OutcomeKind,
          destination: r["destination"] === "new" ? "new" : "auth0",
          status: Number(r["status"]),
          reason: String(r["reason"]),
        });
      }
    }
    return out;
  }

  /** The distinct-names bitmap (NAME_BYTES) of the hours `fromHour <= hour <= toHour`, OR-ed; null if none. */
  unknownNames(fromHour: string, toHour: string): Uint8Array | null {
    const rows = this.ctx.storage.sql
      .exec<Row>(
        "SELECT bits FROM unknown_names WHERE hour >= ? AND hour <= ? LIMIT ?",
        fromHour,
        toHour,
        Math.ceil(HOUR_RETENTION_MS / HOUR_MS) + 1,
      )
      .toArray();
    if (rows.length === 0) return null;
    const bits = new Uint8Array(NAME_BYTES);
    for (const r of rows) mergeBits(bits, new Uint8Array(r["bits"] as ArrayBuffer));
    return bits;
  }

  /**
   * Evidence summed per connection × shape × started × identified_by over the hours
   * `fromHour <= at <= toHour` (at ""), for the named connections or all; at most
   * MAX_READ_ROWS rows (a connection has at most 8 × 3 × 6 keys).
   */
  evidence(fromHour: string, toHour: string, connections?: string[]): EvidenceRow[] {
    const sql = this.ctx.storage.sql;
    const select = (where: string, ...bindings: SqlStorageValue[]): EvidenceRow[] =>
      sql
        .exec<Row>(
          `SELECT connection, shape, started, identified_by, SUM(logins) AS logins FROM evidence
           WHERE at >= ? AND at <= ?${where} GROUP BY connection, shape, started, identified_by LIMIT ?`,
          fromHour,
          toHour,
          ...bindings,
          MAX_READ_ROWS,
        )
        .toArray()
        .map((r) => ({
          at: "",
          connection: String(r["connection"]),
          shape: String(r["shape"]) as EvidenceRow["shape"],
          started: String(r["started"]) as EvidenceRow["started"],
          identifiedBy: String(r["identified_by"]) as EvidenceRow["identifiedBy"],
          logins: Number(r["logins"]),
        }));
    if (connections === undefined) return select("");
    const out: EvidenceRow[] = [];
    for (let i = 0; i < connections.length && out.length < MAX_READ_ROWS; i += NAMES_PER_STATEMENT) {
      const chunk = connections.slice(i, i + NAMES_PER_STATEMENT);
      out.push(...select(` AND connection IN (${chunk.map(() => "?").join(", ")})`, ...chunk));
    }
    return out.slice(0, MAX_READ_ROWS);
  }

  /** Hourly: drops minute rows past MINUTE_RETENTION_MS, hour rows, bitmaps and last-seen entries past HOUR_RETENTION_MS. */
  override async alarm(): Promise<void> {
    this.prune(Date.now());
    await this.ctx.storage.setAlarm(Date.now() + HOUR_MS);
  }

  prune(now: number): void {
    const sql = this.ctx.storage.sql;
    const hour = new Date(now - HOUR_RETENTION_MS).toISOString().slice(0, 13);
    sql.exec("DELETE FROM minutes WHERE at < ?", new Date(now - MINUTE_RETENTION_MS).toISOString().slice(0, 16));
    sql.exec("DELETE FROM hours WHERE at < ?", hour);
    sql.exec("DELETE FROM unknown_names WHERE hour < ?", hour);
    sql.exec("DELETE FROM evidence WHERE at < ?", hour);
    sql.exec("DELETE FROM last_seen WHERE at < ?", now - HOUR_RETENTION_MS);
    this.spent.prune(now);
    this.sealed.clear(this.totalChanges());
  }
}
