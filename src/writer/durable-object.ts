/**
 * RouteTableWriter: the one place the route table is changed.
 *
 * KV has no compare-and-swap and takes about one write per second per key, so
 * a read-modify-write from many Worker isolates would lose updates. Every
 * change goes through this single Durable Object instead: it owns versions,
 * checks If-Match, keeps the audit log, and writes through to KV, which stays
 * the fast edge-read replica the callback router reads.
 *
 * SQLite calls do not yield, so each mutation (check + write + audit + outbox)
 * is atomic. Writing KV does yield; those writes run one flush at a time, and
 * an outbox entry is settled only if it did not change meanwhile, so KV always
 * converges on the latest value. Failed KV writes stay queued and an alarm
 * retries them; callbacks never wait for this object.
 */
import { DurableObject } from "cloudflare:workers";
import { parseConfig } from "../config";
import type { Env } from "../env";
import { log } from "../log";
import { findMatchConflicts, matchesOf } from "../table/matches";
import type { Route, RouteInput, RouteState, Settings } from "../table/schema";
import { validateRoute, validateSettings, type FieldError } from "../table/validate";
import { diffRoutes, inputOf, settingsDiffer, type ImportDiff } from "./diff";
import { TableDb, type AuditEntry, type RouteFilter, type VersionedSettings } from "./table-db";

export type Failure = {
  ok: false;
  status: 404 | 409 | 412 | 422 | 503;
  title: string;
  detail: string;
  errors?: FieldError[];
};
export type Result<T> = { ok: true; value: T; kvPending: number } | Failure;

export interface WriteOptions {
  actor: string;
  /** The version the client last saw (If-Match); a different current version answers 412. */
  ifMatch?: number | undefined;
}

/** Fields a PATCH may change; null removes an optional field. */
export type RoutePatch = Partial<{
  [K in Exclude<keyof RouteInput, "connection">]: RouteInput[K] | null;
}>;

export interface ImportPlan {
  routes: RouteInput[];
  /** Settings fields to change (merged onto the current settings). */
  settings?: Partial<Settings> | undefined;
  /** true: routes absent from the import are deleted. */
  replace: boolean;
}

/** KV writes done inside one request; the rest go to the alarm. */
const FLUSH_BATCH = 500;
const FLUSH_PARALLELISM = 25;
const RETRY_MS = 2_000;

export class RouteTableWriter extends DurableObject<Env> {
  private readonly db: TableDb;
  private flushQueue: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = new TableDb(ctx.storage.sql);
  }

  // ---- reads ----------------------------------------------------------------

  getRoute(connection: string): Route | null {
    return this.db.getRoute(connection);
  }

  listRoutes(filter: RouteFilter): { routes: Route[]; next: string | null } {
    const routes = this.db.listRoutes({ ...filter, limit: filter.limit + 1 });
    const more = routes.length > filter.limit;
    const page = more ? routes.slice(0, filter.limit) : routes;
    return { routes: page, next: more ? (page[page.length - 1]?.connection ?? null) : null };
  }

  exportTable(): { settings: Settings; routes: RouteInput[] } {
    return { settings: this.db.getSettings().settings, routes: this.db.allRoutes().map(inputOf) };
  }

  getSettings(): VersionedSettings {
    return this.db.getSettings();
  }

  listAudit(limit: number, before?: number, subject?: string): AuditEntry[] {
    return this.db.listAudit(limit, before, subject);
  }

  status(): { routes: Record<RouteState, number>; settingsVersion: number; kvPending: number } {
    return {
      routes: this.db.countRoutes(),
      settingsVersion: this.db.getSettings().version,
      kvPending: this.db.pendingCount(),
    };
  }

  // ---- writes ---------------------------------------------------------------

  async putRoute(raw: RouteInput, options: WriteOptions): Promise<Result<{ route: Route; created: boolean }>> {
    const checked = this.checkRoute(raw);
    if (!checked.ok) return checked;
    const input = checked.value;
    const before = this.db.getRoute(input.connection);
    const stale = this.staleVersion(before?.version, options.ifMatch, input.connection);
    if (stale !== undefined) return stale;
    const route = this.ctx.storage.transactionSync(() => {
      const written = this.db.writeRoute(input, now());
      this.audit(options.actor, before === null ? "route.create" : "route.update", input.connection, before, written);
      return written;
    });
    return { ok: true, value: { route, created: before === null }, kvPending: await this.flush() };
  }

  async patchRoute(connection: string, patch: RoutePatch, options: WriteOptions): Promise<Result<Route>> {
    const before = this.db.getRoute(connection);
    if (before === null) return notFound(connection);
    const stale = this.staleVersion(before.version, options.ifMatch, connection);
    if (stale !== undefined) return stale;
    const merged: Record<string, unknown> = { ...inputOf(before) };
    for (const [field, value] of Object.entries(patch)) {
      if (value === null) delete merged[field];
      else if (value !== undefined) merged[field] = value;
    }
    const checked = this.checkRoute(merged);
    if (!checked.ok) return checked;
    const route = this.ctx.storage.transactionSync(() => {
      const written = this.db.writeRoute(checked.value, now());
      this.audit(options.actor, "route.update", connection, before, written);
      return written;
    });
    return { ok: true, value: route, kvPending: await this.flush() };
  }

  async deleteRoute(connection: string, options: WriteOptions): Promise<Result<Route>> {
    const before = this.db.getRoute(connection);
    if (before === null) return notFound(connection);
    const stale = this.staleVersion(before.version, options.ifMatch, connection);
    if (stale !== undefined) return stale;
    this.ctx.storage.transactionSync(() => {
      this.db.deleteRoute(connection);
      this.audit(options.actor, "route.delete", connection, before, null);
    });
    return { ok: true, value: before, kvPending: await this.flush() };
  }

  /** Merges `patch` onto the current settings (null removes a field), atomically. */
  async updateSettings(
    patch: { [K in keyof Settings]?: Settings[K] | null },
    options: WriteOptions & { action: "settings.update" | "rollout.update" },
  ): Promise<Result<VersionedSettings>> {
    const config = this.targetConfig();
    if (!config.ok) return config;
    const before = this.db.getSettings();
    if (options.ifMatch !== undefined && options.ifMatch !== before.version) {
      return precondition(`settings are at version ${before.version}, not ${options.ifMatch}`);
    }
    const merged: Record<string, unknown> = { ...before.settings };
    for (const [field, value] of Object.entries(patch)) {
      if (value === null) delete merged[field];
      else if (value !== undefined) merged[field] = value;
    }
    const checked = validateSettings(merged, config.value);
    if (!checked.ok) return invalid(checked.errors);
    const next = this.ctx.storage.transactionSync(() => {
      const written = this.db.writeSettings(checked.settings, now());
      this.audit(options.actor, options.action, null, before.settings, written.settings);
      return written;
    });
    return { ok: true, value: next, kvPending: await this.flush() };
  }

  /**
   * Applies a whole table, all or nothing: every row is checked first (schema,
   * targets, no two routes claiming one match value); one bad row writes none.
   */
  async importTable(plan: ImportPlan, options: { actor: string; dryRun: boolean }): Promise<Result<ImportDiff>> {
    const config = this.targetConfig();
    if (!config.ok) return config;
    const errors: FieldError[] = [];
    const valid: Array<{ route: RouteInput; row: number }> = [];
    plan.routes.forEach((raw, row) => {
      const checked = validateRoute(raw, config.value, `routes.${row}`);
      if (checked.ok) valid.push({ route: checked.route, row });
      else errors.push(...checked.errors);
    });
    // The table as it would be afterwards: routes kept from the table first, so a
    // conflict is reported against the imported row that causes it.
    const incoming = new Set(valid.map((v) => v.route.connection));
    const kept = plan.replace
      ? []
      : this.db
          .allRoutes()
          .filter((r) => !incoming.has(r.connection))
          .map(inputOf);
    const seen = new Map<string, number>();
    for (const { route, row } of valid) {
      const first = seen.get(route.connection);
      if (first !== undefined)
        errors.push({ field: `routes.${row}.connection`, reason: `duplicate of routes.${first}` });
      else seen.set(route.connection, row);
    }
    for (const conflict of findMatchConflicts([...kept, ...valid.map((v) => v.route)])) {
      const row = valid[conflict.index - kept.length]?.row;
      if (row !== undefined) errors.push({ field: `routes.${row}.${conflict.field}`, reason: conflict.message });
    }
    let settings: Settings | undefined;
    if (plan.settings !== undefined) {
      const checked = validateSettings(
        { ...this.db.getSettings().settings, ...plan.settings },
        config.value,
        "settings",
      );
      if (checked.ok) settings = checked.settings;
      else errors.push(...checked.errors);
    }
    if (errors.length > 0)
      return invalid(errors, "Nothing was imported: fix every listed row and send the whole file again.");

    const current = this.db.allRoutes();
    const diff: ImportDiff = {
      ...diffRoutes(current, plan.routes, plan.replace),
      settingsChanged: settings !== undefined && settingsDiffer(settings, this.db.getSettings().settings),
    };
    if (options.dryRun) return { ok: true, value: diff, kvPending: this.db.pendingCount() };

    const changedNames = new Set([...diff.added, ...diff.changed.map((c) => c.connection)]);
    this.ctx.storage.transactionSync(() => {
      const at = now();
      for (const name of diff.removed) this.db.deleteRoute(name);
      for (const route of plan.routes) if (changedNames.has(route.connection)) this.db.writeRoute(route, at);
      if (diff.settingsChanged && settings !== undefined) this.db.writeSettings(settings, at);
      this.audit(options.actor, "import", null, null, {
        added: diff.added,
        changed: diff.changed.map((c) => c.connection),
        removed: diff.removed,
        settingsChanged: diff.settingsChanged,
      });
    });
    return { ok: true, value: diff, kvPending: await this.flush() };
  }

  // ---- KV write-through -----------------------------------------------------

  override async alarm(): Promise<void> {
    await this.flush();
  }

  /** Writes queued keys to KV (one flush at a time); returns how many are still queued. */
  flush(): Promise<number> {
    const run = this.flushQueue.then(() => this.flushOnce());
    this.flushQueue = run.catch(() => undefined);
    return run;
  }

  private async flushOnce(): Promise<number> {
    const batch = this.db.pending(FLUSH_BATCH);
    for (let i = 0; i < batch.length; i += FLUSH_PARALLELISM) {
      await Promise.all(
        batch.slice(i, i + FLUSH_PARALLELISM).map(async ({ key, seq }) => {
          const value = this.db.kvValue(key);
          try {
            if (value === null) await this.env.ROUTES.delete(key);
            else await this.env.ROUTES.put(key, value);
            this.db.settle(key, seq);
          } catch (err) {
            log({
              event: "kv-error",
              message: `KV write of ${key.split(":")[0]} key failed: ${err instanceof Error ? err.message.slice(0, 200) : "error"}`,
            });
          }
        }),
      );
    }
    const left = this.db.pendingCount();
    if (left > 0) await this.ctx.storage.setAlarm(Date.now() + RETRY_MS);
    return left;
  }

  // ---- helpers --------------------------------------------------------------

  private targetConfig():
    | {
        ok: true;
        value: { environment: "development" | "staging" | "production"; allowedTargetHosts: ReadonlySet<string> };
      }
    | Failure {
    const parsed = parseConfig(this.env);
    const blocking = parsed.ok
      ? []
      : parsed.problems.filter((p) => p.variable === "ENVIRONMENT" || p.variable === "ALLOWED_TARGET_HOSTS");
    if (!parsed.ok && blocking.length > 0) {
      return {
        ok: false,
        status: 503,
        title: "Writer misconfigured",
        detail: blocking.map((p) => `${p.variable} ${p.message}`).join("; "),
      };
    }
    if (parsed.ok) return { ok: true, value: parsed.config };
    const hosts = new Set(
      (this.env.ALLOWED_TARGET_HOSTS ?? "")
        .split(",")
        .map((h) => h.trim().toLowerCase())
        .filter((h) => h !== ""),
    );
    return { ok: true, value: { environment: parsed.environment, allowedTargetHosts: hosts } };
  }

  private checkRoute(raw: unknown): { ok: true; value: RouteInput } | Failure {
    const config = this.targetConfig();
    if (!config.ok) return config;
    const checked = validateRoute(raw, config.value);
    if (!checked.ok) return invalid(checked.errors);
    const route = checked.route;
    for (const [kind, value] of matchesOf(route)) {
      const owner = this.db.matchOwner(kind, value, route.connection);
      if (owner !== null) {
        const field = kind === "sp" ? "spEntityId" : kind === "idp" ? "idpEntityId" : "oidcIssuer";
        return {
          ok: false,
          status: 409,
          title: "Match value already claimed",
          detail: `"${value}" is already matched by connection "${owner}"`,
          errors: [{ field: `match.${field}`, reason: `already matched by connection "${owner}"` }],
        };
      }
    }
    return { ok: true, value: route };
  }

  private staleVersion(
    current: number | undefined,
    ifMatch: number | undefined,
    connection: string,
  ): Failure | undefined {
    if (ifMatch === undefined) return undefined;
    if (current === undefined)
      return precondition(`connection "${connection}" does not exist (If-Match: "${ifMatch}")`);
    if (current !== ifMatch) return precondition(`connection "${connection}" is at version ${current}, not ${ifMatch}`);
    return undefined;
  }

  private audit(actor: string, action: string, subject: string | null, before: unknown, after: unknown): void {
    this.db.addAudit({ at: now(), actor, action, subject, before, after });
  }
}

function now(): string {
  return new Date().toISOString();
}

function notFound(connection: string): Failure {
  return {
    ok: false,
    status: 404,
    title: "No such route",
    detail: `connection "${connection}" is not in the route table`,
  };
}

function precondition(detail: string): Failure {
  return {
    ok: false,
    status: 412,
    title: "Version mismatch",
    detail: `${detail}; read the route again and retry with its ETag`,
  };
}

function invalid(errors: FieldError[], detail = "The request has invalid fields."): Failure {
  return { ok: false, status: 422, title: "Invalid route table data", detail, errors };
}
