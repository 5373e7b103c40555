/**
 * The authoritative route table inside the writer Durable Object (SQLite).
 * Every method is synchronous: SQLite calls in a Durable Object do not yield,
 * so a mutation cannot interleave with another one. Each mutation also queues
 * the KV keys it changed in the outbox (outbox.ts), in the same transaction,
 * so the KV replica can always be brought up to date (see kv-write-through.ts).
 */
import {
  matchKey,
  orgKey,
  routeKey,
  SETTINGS_KEY,
  type MatchKind,
  MATCH_PREFIX,
  ORG_PREFIX,
  ROUTE_PREFIX,
} from "../table/kv-layout";
import { matchesOf } from "../table/matches";
import {
  DEFAULT_SETTINGS,
  describeIssues,
  organizationsOf,
  parseStoredSettings,
  Route,
  type RouteInput,
  type RouteState,
  type Settings,
} from "../table/schema";
import { AuditLog } from "./audit-log";
import { stampKillSwitch } from "./kill-switch";
import { Outbox } from "./outbox";
import { SYNCED_FIELDS } from "./provider-fields";

export interface VersionedSettings {
  settings: Settings;
  version: number;
  updatedAt: string | null;
}

/** When each lever last ended (ISO times, null = not since these times were kept): src/stats flags start there. */
export interface LeverTimes {
  killSwitchEndedAt: string | null;
  shadowEndedAt: string | null;
}

/** A route's state and when it last changed (ISO time). */
export interface StateSince {
  state: RouteState;
  since: string;
}

/** The kill switch is on (settings.killSwitch, an override beside the mode). */
export function killSwitchOn(settings: Settings): boolean {
  return settings.killSwitch.on;
}

export interface RouteFilter {
  state?: RouteState | undefined;
  organization?: string | undefined;
  /** Exclusive: routes whose connection sorts after this one. */
  after?: string | undefined;
  limit: number;
}

/** Beyond this many names, statesSince reads the whole routes table once and filters. */
const STATES_SCAN_NAMES = 1_000;

type Row = Record<string, SqlStorageValue>;

export class TableDb {
  /** The audit log, in the same database (so an entry commits with its change). */
  readonly audit: AuditLog;
  /** KV keys still to write, in the same database (so a change and its queueing commit together). */
  readonly outbox: Outbox;

  constructor(private readonly sql: SqlStorage) {
    // Before 2026-12 imports and syncs were findable only in the whole log: index them once.
    const indexOldAudit =
      sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_subjects'").toArray().length === 0;
    sql.exec(`
      CREATE TABLE IF NOT EXISTS routes (
        connection TEXT PRIMARY KEY,
        organization TEXT,
        state TEXT NOT NULL,
        json TEXT NOT NULL,
        version INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS routes_by_org ON routes(organization);
      CREATE INDEX IF NOT EXISTS routes_by_state ON routes(state, connection);
      CREATE TABLE IF NOT EXISTS matches (key TEXT PRIMARY KEY, connection TEXT NOT NULL);
      -- Every organization of a route (organization and organizations); routes.organization stays for old rows.
      CREATE TABLE IF NOT EXISTS route_orgs (organization TEXT NOT NULL, connection TEXT NOT NULL, PRIMARY KEY (organization, connection));
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, json TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT,
        before TEXT,
        after TEXT
      );
      -- The connections an import or sync entry touched (its subject is null), for per-connection audit queries.
      CREATE TABLE IF NOT EXISTS audit_subjects (subject TEXT NOT NULL, audit_id INTEGER NOT NULL, PRIMARY KEY (subject, audit_id));
      CREATE TABLE IF NOT EXISTS outbox (key TEXT PRIMARY KEY, seq INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
    // When the route's state last changed (ISO); routes written before this column read their updatedAt.
    const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('routes')").toArray();
    if (!columns.some((c) => c.name === "state_changed_at")) {
      sql.exec("ALTER TABLE routes ADD COLUMN state_changed_at TEXT");
    }
    this.audit = new AuditLog(sql, indexOldAudit);
    this.outbox = new Outbox(sql);
  }

  // ---- routes ---------------------------------------------------------------

  getRoute(connection: string): Route | null {
    const row = this.sql.exec<Row>("SELECT json FROM routes WHERE connection = ?", connection).toArray()[0];
    return row === undefined ? null : Route.parse(JSON.parse(String(row["json"])));
  }

  listRoutes(filter: RouteFilter): Route[] {
    const where: string[] = [];
    const args: SqlStorageValue[] = [];
    if (filter.state !== undefined) {
      where.push("state = ?");
      args.push(filter.state);
    }
    if (filter.organization !== undefined) {
      where.push("(organization = ? OR connection IN (SELECT connection FROM route_orgs WHERE organization = ?))");
      args.push(filter.organization, filter.organization);
    }
    if (filter.after !== undefined) {
      where.push("connection > ?");
      args.push(filter.after);
    }
    const clause = where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`;
    return this.sql
      .exec<Row>(`SELECT json FROM routes ${clause} ORDER BY connection LIMIT ?`, ...args, filter.limit)
      .toArray()
      .map((row) => Route.parse(JSON.parse(String(row["json"]))));
  }

  allRoutes(): Route[] {
    return this.sql
      .exec<Row>("SELECT json FROM routes ORDER BY connection")
      .toArray()
      .map((row) => Route.parse(JSON.parse(String(row["json"]))));
  }

  statesOf(connections: string[]): Record<string, RouteState> {
    const out: Record<string, RouteState> = {};
    // SQLite limits bound parameters per statement; ask in chunks.
    for (let i = 0; i < connections.length; i += 100) {
      const chunk = connections.slice(i, i + 100);
      const marks = chunk.map(() => "?").join(", ");
      for (const row of this.sql
        .exec<Row>(`SELECT connection, state FROM routes WHERE connection IN (${marks})`, ...chunk)
        .toArray()) {
        out[String(row["connection"])] = String(row["state"]) as RouteState;
      }
    }
    return out;
  }

  /**
   * Each named connection's state and when it last became that state (the writer's clock;
   * for a route stored before the time was kept, its updatedAt, which is no earlier).
   */
  statesSince(connections: string[]): Record<string, StateSince> {
    const out: Record<string, StateSince> = {};
    const select =
      "SELECT connection, state, COALESCE(state_changed_at, json_extract(json, '$.updatedAt')) AS since FROM routes";
    const take = (rows: Iterable<Row>, wanted?: Set<string>): void => {
      for (const row of rows) {
        const connection = String(row["connection"]);
        if (wanted !== undefined && !wanted.has(connection)) continue;
        out[connection] = { state: String(row["state"]) as RouteState, since: String(row["since"]) };
      }
    };
    // Many names (a /stats of thousands of connections): one pass over the table beats a statement per 100.
    if (connections.length > STATES_SCAN_NAMES) {
      take(this.sql.exec<Row>(select), new Set(connections));
      return out;
    }
    for (let i = 0; i < connections.length; i += 100) {
      const chunk = connections.slice(i, i + 100);
      take(this.sql.exec<Row>(`${select} WHERE connection IN (${chunk.map(() => "?").join(", ")})`, ...chunk));
    }
    return out;
  }

  leverTimes(): LeverTimes {
    const row = this.sql.exec<Row>("SELECT json FROM meta WHERE key = 'levers'").toArray()[0];
    if (row === undefined) return { killSwitchEndedAt: null, shadowEndedAt: null };
    return JSON.parse(String(row["json"])) as LeverTimes;
  }

  countRoutes(): Record<RouteState, number> {
    const counts: Record<RouteState, number> = { legacy: 0, migrated: 0, rollout: 0 };
    for (const row of this.sql.exec<Row>("SELECT state, COUNT(*) AS n FROM routes GROUP BY state").toArray()) {
      const state = String(row["state"]) as RouteState;
      if (state in counts) counts[state] = Number(row["n"]);
    }
    return counts;
  }

  /** Which connection (other than `except`) already claims a match value, if any. */
  matchOwner(kind: MatchKind, value: string, except: string): string | null {
    const row = this.sql
      .exec<Row>("SELECT connection FROM matches WHERE key = ? AND connection != ?", matchKey(kind, value), except)
      .toArray()[0];
    return row === undefined ? null : String(row["connection"]);
  }

  /** Writes a route (version = previous + 1) and its indexes; queues the KV keys. */
  writeRoute(input: RouteInput, now: string): Route {
    const before = this.getRoute(input.connection);
    const route: Route = { ...input, version: (before?.version ?? 0) + 1, updatedAt: now };
    const since =
      before === null || before.state !== route.state
        ? now
        : String(
            this.sql
              .exec<Row>(
                "SELECT COALESCE(state_changed_at, json_extract(json, '$.updatedAt')) AS since FROM routes WHERE connection = ?",
                route.connection,
              )
              .one()["since"],
          );
    this.sql.exec(
      "INSERT OR REPLACE INTO routes (connection, organization, state, json, version, state_changed_at) VALUES (?, ?, ?, ?, ?, ?)",
      route.connection,
      route.organization ?? null,
      route.state,
      JSON.stringify(route),
      route.version,
      since,
    );
    this.reindex(before, route);
    return route;
  }

  deleteRoute(connection: string): Route | null {
    const before = this.getRoute(connection);
    if (before === null) return null;
    this.sql.exec("DELETE FROM routes WHERE connection = ?", connection);
    this.reindex(before, null);
    return before;
  }

  private reindex(before: Route | null, after: Route | null): void {
    const connection = (after ?? before)?.connection;
    if (connection === undefined) return;
    this.outbox.enqueue(routeKey(connection));
    for (const [kind, value] of before === null ? [] : matchesOf(before)) {
      this.sql.exec("DELETE FROM matches WHERE key = ? AND connection = ?", matchKey(kind, value), connection);
      this.outbox.enqueue(matchKey(kind, value));
    }
    for (const [kind, value] of after === null ? [] : matchesOf(after)) {
      this.sql.exec(
        "INSERT OR REPLACE INTO matches (key, connection) VALUES (?, ?)",
        matchKey(kind, value),
        connection,
      );
      this.outbox.enqueue(matchKey(kind, value));
    }
    this.sql.exec("DELETE FROM route_orgs WHERE connection = ?", connection);
    for (const organization of after === null ? [] : organizationsOf(after)) {
      this.sql.exec(
        "INSERT OR REPLACE INTO route_orgs (organization, connection) VALUES (?, ?)",
        organization,
        connection,
      );
    }
    for (const organization of before === null ? [] : organizationsOf(before))
      this.outbox.enqueue(orgKey(organization));
    for (const organization of after === null ? [] : organizationsOf(after)) this.outbox.enqueue(orgKey(organization));
  }

  // ---- settings -------------------------------------------------------------

  getSettings(): VersionedSettings {
    const row = this.sql.exec<Row>("SELECT json FROM meta WHERE key = 'settings'").toArray()[0];
    if (row === undefined) return { settings: DEFAULT_SETTINGS, version: 0, updatedAt: null };
    const stored = JSON.parse(String(row["json"])) as { settings: unknown; version: number; updatedAt: string };
    // Settings an older version stored (mode "passthrough", no killSwitch) read as today's (table/schema.ts).
    const parsed = parseStoredSettings(stored.settings);
    if (!parsed.success) throw new Error(`stored settings refused: ${describeIssues(parsed.error).join("; ")}`);
    return { settings: parsed.data, version: stored.version, updatedAt: stored.updatedAt };
  }

  /**
   * Writes settings (version = previous + 1) and queues the KV key; when the kill switch or
   * shadow mode ends, that time. A change of the kill switch's `on` is stamped with `now` and
   * `actor` (kill-switch.ts); otherwise its stored since/by are kept.
   */
  writeSettings(input: Settings, now: string, actor: string): VersionedSettings {
    const before = this.getSettings();
    const settings = {
      ...input,
      killSwitch: stampKillSwitch(before.settings.killSwitch, input.killSwitch, actor, now),
    };
    const levers = this.leverTimes();
    const killEnded = killSwitchOn(before.settings) && !killSwitchOn(settings);
    const shadowEnded = before.settings.mode === "shadow" && settings.mode !== "shadow";
    if (killEnded || shadowEnded) {
      const next: LeverTimes = {
        killSwitchEndedAt: killEnded ? now : levers.killSwitchEndedAt,
        shadowEndedAt: shadowEnded ? now : levers.shadowEndedAt,
      };
      this.sql.exec("INSERT OR REPLACE INTO meta (key, json) VALUES ('levers', ?)", JSON.stringify(next));
    }
    const next: VersionedSettings = { settings, version: before.version + 1, updatedAt: now };
    this.sql.exec("INSERT OR REPLACE INTO meta (key, json) VALUES ('settings', ?)", JSON.stringify(next));
    this.outbox.enqueue(SETTINGS_KEY);
    return next;
  }

  /**
   * What KV should hold under `key` now: a string, or null for "delete".
   * KV gets only what the callback router reads: the provider sync's route
   * fields and `settings.provider` stay here. The router validates KV records
   * strictly, so a Worker version rolled back to one that predates those fields
   * would otherwise refuse every synced record (and send its callbacks to Auth0).
   */
  kvValue(key: string): string | null {
    if (key === SETTINGS_KEY) {
      const { provider: _provider, ...routerSettings } = this.getSettings().settings;
      return JSON.stringify(routerSettings);
    }
    if (key.startsWith(ROUTE_PREFIX)) {
      const connection = key.slice(ROUTE_PREFIX.length);
      const row = this.sql.exec<Row>("SELECT json FROM routes WHERE connection = ?", connection).toArray()[0];
      if (row === undefined) return null;
      const route = JSON.parse(String(row["json"])) as Record<string, unknown>;
      for (const field of SYNCED_FIELDS) delete route[field];
      // The router needs only the primary organization (the rollout bucket); the rest live in the org: index.
      delete route["organizations"];
      return JSON.stringify(route);
    }
    if (key.startsWith(MATCH_PREFIX)) {
      const row = this.sql.exec<Row>("SELECT connection FROM matches WHERE key = ?", key).toArray()[0];
      return row === undefined ? null : String(row["connection"]);
    }
    if (key.startsWith(ORG_PREFIX)) {
      const organization = key.slice(ORG_PREFIX.length);
      const rows = this.sql
        .exec<Row>(
          "SELECT connection FROM routes WHERE organization = ? UNION SELECT connection FROM route_orgs WHERE organization = ? ORDER BY connection",
          organization,
          organization,
        )
        .toArray();
      return rows.length === 0 ? null : JSON.stringify(rows.map((r) => String(r["connection"])));
    }
    return null;
  }
}
