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
import { targetConfigFor, type TargetConfig } from "../config";
import type { Env } from "../env";
import { log } from "../log";
import { findMatchConflicts, matchesOf } from "../table/matches";
import { planConnectionsSync } from "../sync/connections-sync";
import { planFlagMirror } from "../sync/flag-sync";
import type { ConnectionsSyncReport, FlagSyncReport } from "../sync/reports";
import type { FlagSnapshot, ProviderConnection } from "../sync/workos-client";
import {
  providerSettingsOf,
  RouteInput,
  Settings,
  type ProviderSettings,
  type Route,
  type RouteState,
} from "../table/schema";
import { validateRoute, validateSettings, zodErrors, type FieldError } from "../table/validate";
import { diffRoutes, inputOf, settingsDiffer, type ImportDiff } from "./diff";
import { inactiveReason, keepSyncedFields } from "./provider-fields";
import { TableDb, type AuditEntry, type RouteFilter, type VersionedSettings } from "./table-db";

export type Failure = {
  ok: false;
  status: 404 | 409 | 412 | 422 | 502 | 503;
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

/** Settings fields to change; null removes one. `provider` is merged field by field onto the current one. */
export type SettingsPatch = { [K in Exclude<keyof Settings, "provider">]?: Settings[K] | null } & {
  provider?: Partial<ProviderSettings> | null;
};

export interface SyncOptions {
  actor: string;
  /** true: report what would change, write nothing. */
  dryRun: boolean;
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

  /** The state of each named connection that has a route (for /stats; bounded by the caller's list). */
  statesOf(connections: string[]): Record<string, RouteState> {
    return this.db.statesOf(connections);
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
    const before = this.db.getRoute(checked.value.connection);
    const stale = this.staleVersion(before?.version, options.ifMatch, checked.value.connection);
    if (stale !== undefined) return stale;
    const written = await this.commitRoute(checked.value, before, options.actor);
    return written.ok ? { ...written, value: { route: written.value, created: before === null } } : written;
  }

  async patchRoute(connection: string, patch: RoutePatch, options: WriteOptions): Promise<Result<Route>> {
    const before = this.db.getRoute(connection);
    if (before === null) return notFound(connection);
    const stale = this.staleVersion(before.version, options.ifMatch, connection);
    if (stale !== undefined) return stale;
    const checked = this.checkRoute(mergePatch(inputOf(before), patch));
    if (!checked.ok) return checked;
    return this.commitRoute(checked.value, before, options.actor);
  }

  /** The shared end of PUT and PATCH: synced fields kept, the provider guard, write + audit, flush. */
  private async commitRoute(input: RouteInput, before: Route | null, actor: string): Promise<Result<Route>> {
    const kept = keepSyncedFields(input, before);
    const refused = this.refuseInactive(kept);
    if (refused !== undefined) return refused;
    const route = this.ctx.storage.transactionSync(() => {
      const written = this.db.writeRoute(kept, now());
      this.audit(actor, before === null ? "route.create" : "route.update", kept.connection, before, written);
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
    patch: SettingsPatch,
    options: WriteOptions & { action: "settings.update" | "rollout.update" },
  ): Promise<Result<VersionedSettings>> {
    const config = this.targetConfig();
    if (!config.ok) return config;
    const before = this.db.getSettings();
    if (options.ifMatch !== undefined && options.ifMatch !== before.version) {
      return precondition(`settings are at version ${before.version}, not ${options.ifMatch}`);
    }
    const merged = mergePatch(before.settings, patch);
    // `provider` merges field by field, so changing one of its settings keeps the others.
    if (patch.provider !== undefined && patch.provider !== null) {
      merged["provider"] = { ...before.settings.provider, ...patch.provider };
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
    const current = this.db.allRoutes();
    const stored = new Map(current.map((r) => [r.connection, r]));
    const valid: Array<{ route: RouteInput; row: number }> = [];
    plan.routes.forEach((raw, row) => {
      const checked = validateRoute(raw, config.value, `routes.${row}`);
      if (checked.ok) {
        const route = keepSyncedFields(checked.route, stored.get(checked.route.connection) ?? null);
        valid.push({ route, row });
      } else errors.push(...checked.errors);
    });
    // The table as it would be afterwards: routes kept from the table first, so a
    // conflict is reported against the imported row that causes it.
    const incoming = new Set(valid.map((v) => v.route.connection));
    const kept = plan.replace ? [] : current.filter((r) => !incoming.has(r.connection)).map(inputOf);
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
    // requireActive (as the settings will be after the import) applies to every row the import writes.
    const routes = valid.map((v) => v.route);
    const rowsWritten = diffRoutes(current, routes, false);
    const written = new Set([...rowsWritten.added, ...rowsWritten.changed.map((c) => c.connection)]);
    const after = settings ?? this.db.getSettings().settings;
    for (const { route, row } of valid) {
      const reason = written.has(route.connection) ? inactiveReason(route, after) : null;
      if (reason !== null) errors.push({ field: `routes.${row}.state`, reason });
    }
    if (errors.length > 0)
      return invalid(errors, "Nothing was imported: fix every listed row and send the whole file again.");

    const diff: ImportDiff = {
      ...diffRoutes(current, routes, plan.replace),
      settingsChanged: settings !== undefined && settingsDiffer(settings, this.db.getSettings().settings),
    };
    if (options.dryRun) return { ok: true, value: diff, kvPending: this.db.pendingCount() };

    const changedNames = new Set([...diff.added, ...diff.changed.map((c) => c.connection)]);
    this.ctx.storage.transactionSync(() => {
      const at = now();
      for (const name of diff.removed) this.db.deleteRoute(name);
      for (const route of routes) if (changedNames.has(route.connection)) this.db.writeRoute(route, at);
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

  // ---- provider sync (src/sync) -----------------------------------------------

  /**
   * Applies the provider's connections to the table as it is now, in one
   * transaction with one audit entry. Planning here, not in the caller, means
   * no route can change between the plan and the write.
   */
  async applyConnectionsSync(
    connections: ProviderConnection[],
    options: SyncOptions,
  ): Promise<Result<ConnectionsSyncReport>> {
    const at = now();
    const { autoMigrate } = providerSettingsOf(this.db.getSettings().settings);
    const plan = planConnectionsSync(this.db.allRoutes(), connections, { autoMigrate, at });
    const errors = plan.writes.flatMap((route) => {
      const parsed = RouteInput.safeParse(route);
      return parsed.success ? [] : zodErrors(parsed.error, `routes.${route.connection}`);
    });
    if (errors.length > 0) return unusable(errors);
    const report: ConnectionsSyncReport = { ...plan.report, dryRun: options.dryRun };
    if (options.dryRun || plan.writes.length === 0) {
      return { ok: true, value: report, kvPending: this.db.pendingCount() };
    }
    this.ctx.storage.transactionSync(() => {
      for (const route of plan.writes) this.db.writeRoute(route, at);
      this.audit(options.actor, "sync.workos", null, null, {
        providerConnections: report.providerConnections,
        updated: report.updated.map((u) => u.connection),
        migrated: report.migrated,
        flagged: report.flagged.map((f) => f.connection),
        unmatchedProviderConnections: report.unmatchedProviderConnections.length,
        routesWithoutProviderConnection: report.routesWithoutProviderConnection.length,
      });
    });
    return { ok: true, value: report, kvPending: await this.flush() };
  }

  /** Mirrors a flag's targets into the rollout lists, in one transaction with one audit entry. */
  async applyFlagSync(flag: FlagSnapshot, options: SyncOptions): Promise<Result<FlagSyncReport>> {
    const before = this.db.getSettings();
    const { flagSlug } = providerSettingsOf(before.settings);
    if (flag.slug !== flagSlug) {
      return {
        ok: false,
        status: 409,
        title: "Settings changed",
        detail: `settings.provider.flagSlug changed to "${flagSlug}" during the sync; run it again`,
      };
    }
    const plan = planFlagMirror(this.db.allRoutes(), before.settings.rollout, flag);
    const next = Settings.safeParse({ ...before.settings, rollout: plan.rollout });
    if (!next.success) return unusable(zodErrors(next.error, "settings"));
    const report: FlagSyncReport = { ...plan.report, dryRun: options.dryRun };
    if (options.dryRun || !plan.report.changed) {
      return { ok: true, value: report, kvPending: this.db.pendingCount() };
    }
    this.ctx.storage.transactionSync(() => {
      this.db.writeSettings(next.data, now());
      this.audit(options.actor, "sync.flags", null, before.settings.rollout, {
        rollout: plan.rollout,
        flag: flag.slug,
        unknownOrganizations: report.unknownOrganizations,
        conflicts: report.conflicts,
      });
    });
    return { ok: true, value: report, kvPending: await this.flush() };
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

  private targetConfig(): { ok: true; value: TargetConfig } | Failure {
    const targets = targetConfigFor(this.env);
    if (targets.ok) return { ok: true, value: targets.config };
    return {
      ok: false,
      status: 503,
      title: "Writer misconfigured",
      detail: targets.problems.map((p) => `${p.variable} ${p.message}`).join("; "),
    };
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

  /** settings.provider.requireActive: a route is never written as migrated unless its provider connection is active. */
  private refuseInactive(route: RouteInput): Failure | undefined {
    const reason = inactiveReason(route, this.db.getSettings().settings);
    if (reason === null) return undefined;
    return {
      ok: false,
      status: 409,
      title: "Provider connection not active",
      detail: reason,
      errors: [{ field: "state", reason }],
    };
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

/** `base` with `patch` applied: null removes a field, undefined leaves it as it was. */
function mergePatch(base: object, patch: object): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) delete merged[field];
    else if (value !== undefined) merged[field] = value;
  }
  return merged;
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

/** The provider's data would make records the table refuses: nothing is applied. */
function unusable(errors: FieldError[]): Failure {
  return {
    ok: false,
    status: 502,
    title: "WorkOS data unusable",
    detail: "The provider's answer would make invalid table records; nothing was applied.",
    errors,
  };
}

function invalid(errors: FieldError[], detail = "The request has invalid fields."): Failure {
  return { ok: false, status: 422, title: "Invalid route table data", detail, errors };
}
