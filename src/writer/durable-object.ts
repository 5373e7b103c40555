/**
 * RouteTableWriter: the one place the route table is changed.
 *
 * KV has no compare-and-swap and takes about one write per second per key, so
 * a read-modify-write from many Worker isolates would lose updates. Every
 * change goes through this single Durable Object instead: it owns versions,
 * checks If-Match, keeps the audit log, and writes through to KV, which stays
 * the fast edge-read replica the callback router reads.
 *
 * Every mutation reads the same way: check (checks.ts and the *-plan.ts
 * modules, pure, before anything is touched) → write in one transaction →
 * audit (same transaction) → flush the outbox to KV. SQLite calls do not
 * yield, so check + write + audit + outbox is atomic. Writing KV does yield; those writes run one flush at a time, and
 * an outbox entry is settled only if it did not change meanwhile, so KV always
 * converges on the latest value. Settings go first: a settings change is
 * written at once, beside any flush, and a batch writes settings before its
 * routes (kv-write-through.ts). Failed KV writes stay queued and an alarm retries them; callbacks
 * never wait for this object.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import type { FlagSnapshot, ProviderConnection } from "../sync/workos-client";
import { isRetired, Settings, type Route, type RouteInput, type RouteState } from "../table/schema";
import { retiredModeErrors, validateSettings } from "../table/validate";
import { METADATA_PREFIX, metadataKey, type MetadataSnapshotInfo } from "../table/kv-layout";
import type { AuditEntry } from "./audit-log";
import { checkRoute, refuseInactive, staleVersion, targetConfig } from "./checks";
import { checkConnectionsSync } from "./connections-plan";
import { inputOf, type ImportDiff } from "./diff";
import { checkFlagSync } from "./flag-plan";
import { checkImport, type CheckedImport, type ImportPlan } from "./import-plan";
import { mergePatch, mergeSettingsPatch, type RoutePatch, type SettingsPatch } from "./patch";
import { KvWriteThrough } from "./kv-write-through";
import { settingsAction } from "./kill-switch";
import { keepSyncedFields } from "./provider-fields";
import type { KvOverlay } from "../table/overlay-kv";
import {
  invalid,
  notFound,
  precondition,
  type Failure,
  type Result,
  type DryRunOptions,
  type WriteOptions,
} from "./result";
import { tableBlockers, trafficBlockers, type Auth0Traffic, type RetirementBlocker } from "./retirement";
import type { ConnectionsSyncReport, FlagSyncReport } from "./sync-reports";
import { TableDb, type LeverTimes, type RouteFilter, type StateSince, type VersionedSettings } from "./table-db";

/** A rehearsed change: its answer and the KV values it would queue (table/overlay-kv.ts). */
export interface Rehearsal<T> {
  value: T;
  kv: KvOverlay;
}

/** updateSettings' options: PUT /settings or /rollout; `retirement` when the patch retires Auth0. */
type SettingsWriteOptions = WriteOptions & {
  action: "settings.update" | "rollout.update";
  retirement?: { traffic: Auth0Traffic[]; force: boolean };
};

/** A settings change that passed its checks (planSettings), ready to write or rehearse. */
interface SettingsPlan {
  before: VersionedSettings;
  settings: Settings;
  action: SettingsWriteOptions["action"];
  retiring: boolean;
  blockers: RetirementBlocker[];
}

/** Thrown inside a rehearsal's transaction to roll it back. */
class RolledBack extends Error {
  override readonly name = "RolledBack";
}

export class RouteTableWriter extends DurableObject<Env> {
  private readonly db: TableDb;
  private readonly kvWrites: KvWriteThrough;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = new TableDb(ctx.storage.sql);
    this.kvWrites = new KvWriteThrough(this.db, env.ROUTES, ctx.storage);
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
    return this.db.audit.list(limit, before, subject);
  }

  /** The state of each named connection that has a route (for /stats; bounded by the caller's list). */
  statesOf(connections: string[]): Record<string, RouteState> {
    return this.db.statesOf(connections);
  }

  /**
   * For /stats' flags: each named connection's state and when it last changed, and when
   * the kill switch and shadow mode last ended (docs/storage.md, "Flag windows").
   */
  statesSince(connections: string[]): { routes: Record<string, StateSince>; levers: LeverTimes } {
    return { routes: this.db.statesSince(connections), levers: this.db.leverTimes() };
  }

  status(): { routes: Record<RouteState, number>; settingsVersion: number; kvPending: number } {
    return {
      routes: this.db.countRoutes(),
      settingsVersion: this.db.getSettings().version,
      kvPending: this.db.outbox.pendingCount(),
    };
  }

  // ---- writes ---------------------------------------------------------------

  async putRoute(raw: RouteInput, options: WriteOptions): Promise<Result<{ route: Route; created: boolean }>> {
    const checked = checkRoute(this.env, this.db, raw);
    if (!checked.ok) return checked;
    const before = this.db.getRoute(checked.value.connection);
    const stale = staleVersion(before?.version, options.ifMatch, checked.value.connection);
    if (stale !== undefined) return stale;
    const written = await this.commitRoute(checked.value, before, options.actor);
    return written.ok ? { ...written, value: { route: written.value, created: before === null } } : written;
  }

  async patchRoute(connection: string, patch: RoutePatch, options: WriteOptions): Promise<Result<Route>> {
    const planned = this.planPatch(connection, patch, options);
    if (!planned.ok) return planned;
    return this.commitRoute(planned.value.input, planned.value.before, options.actor);
  }

  /**
   * PATCH's dry run: exactly what patchRoute would do (the same checks, version, audit and
   * KV values, rehearsed in a transaction that is rolled back). Nothing is written.
   */
  previewPatchRoute(
    connection: string,
    patch: RoutePatch,
    options: WriteOptions,
  ): Result<Rehearsal<Route> & { before: Route }> {
    const planned = this.planPatch(connection, patch, options);
    if (!planned.ok) return planned;
    const { input, before } = planned.value;
    const refused = this.refuseRoute(input, before);
    if (refused !== undefined) return refused;
    const rehearsal = this.rehearse(() => this.writeRouteAudited(input, before, options.actor));
    return { ok: true, value: { ...rehearsal, before }, kvPending: this.db.outbox.pendingCount() };
  }

  /** PATCH's checks: If-Match, the route exists, the merged route is valid. */
  private planPatch(
    connection: string,
    patch: RoutePatch,
    options: WriteOptions,
  ): Result<{ input: RouteInput; before: Route }> {
    const before = this.db.getRoute(connection);
    // The precondition is evaluated first (RFC 9110 §13.2.2): a missing route under If-Match is a 412.
    const stale = staleVersion(before?.version, options.ifMatch, connection);
    if (stale !== undefined) return stale;
    if (before === null) return notFound(connection);
    const checked = checkRoute(this.env, this.db, mergePatch(inputOf(before), patch));
    if (!checked.ok) return checked;
    return { ok: true, value: { input: checked.value, before }, kvPending: 0 };
  }

  /** The shared end of PUT and PATCH: synced fields kept, the provider guard, write + audit, flush. */
  private async commitRoute(input: RouteInput, before: Route | null, actor: string): Promise<Result<Route>> {
    const refused = this.refuseRoute(input, before);
    if (refused !== undefined) return refused;
    const route = this.ctx.storage.transactionSync(() => this.writeRouteAudited(input, before, actor));
    return { ok: true, value: route, kvPending: await this.flush() };
  }

  /** The provider guard, on the route as it would be stored (synced fields kept). */
  private refuseRoute(input: RouteInput, before: Route | null): Failure | undefined {
    return refuseInactive(keepSyncedFields(input, before), this.db.getSettings().settings);
  }

  /** Write + audit, inside the caller's transaction. */
  private writeRouteAudited(input: RouteInput, before: Route | null, actor: string): Route {
    const kept = keepSyncedFields(input, before);
    const written = this.db.writeRoute(kept, now());
    this.audit(actor, before === null ? "route.create" : "route.update", kept.connection, before, written);
    return written;
  }

  /**
   * `change` (write + audit) run in a transaction as a write would run it, then rolled back:
   * its answer and the KV value of every key it queued (what the router would read once the
   * change lands). Nothing stays written: not the change, its audit entry or its outbox keys.
   */
  private rehearse<T>(change: () => T): Rehearsal<T> {
    let rehearsal: Rehearsal<T> | undefined;
    try {
      this.ctx.storage.transactionSync(() => {
        const from = this.db.outbox.lastSeq();
        const value = change();
        const kv = this.db.outbox.keysAfter(from).map((key) => ({ key, value: this.db.kvValue(key) }));
        rehearsal = { value, kv };
        throw new RolledBack();
      });
    } catch (err) {
      if (!(err instanceof RolledBack)) throw err;
    }
    if (rehearsal === undefined) throw new Error("the rehearsal did not run");
    return rehearsal;
  }

  async deleteRoute(connection: string, options: WriteOptions): Promise<Result<Route>> {
    const before = this.db.getRoute(connection);
    // The precondition is evaluated first (RFC 9110 §13.2.2): a missing route under If-Match is a 412.
    const stale = staleVersion(before?.version, options.ifMatch, connection);
    if (stale !== undefined) return stale;
    if (before === null) return notFound(connection);
    this.ctx.storage.transactionSync(() => {
      this.db.deleteRoute(connection);
      this.audit(options.actor, "route.delete", connection, before, null);
    });
    return { ok: true, value: before, kvPending: await this.flush() };
  }

  /** What blocks retiring Auth0 in the table and settings as they are now (GET /retirement). */
  retirementBlockers(): RetirementBlocker[] {
    return tableBlockers(this.db.allRoutes(), this.db.getSettings().settings);
  }

  /**
   * Merges `patch` onto the current settings (null removes a field), atomically. A change
   * that retires Auth0 is checked (./retirement.ts): the table's blockers, found here in the
   * same transaction, and `retirement.traffic` (the counters, read by the caller) refuse it
   * with 409 listing every blocker, unless `retirement.force`; either way the audit records
   * an `auth0.retire` entry with the blockers it overrode. Without `retirement` a retiring
   * change is refused: only PUT /settings, which reads the counters, may retire.
   */
  async updateSettings(patch: SettingsPatch, options: SettingsWriteOptions): Promise<Result<VersionedSettings>> {
    const planned = this.planSettings(patch, options);
    if (!planned.ok) return planned;
    const next = this.ctx.storage.transactionSync(() => this.writeSettingsAudited(planned.value, options.actor));
    return { ok: true, value: next, kvPending: await this.kvWrites.flushSettings() };
  }

  /**
   * updateSettings' dry run (PUT /settings or /rollout ?dryRun=true): the same checks (If-Match,
   * retirement, validation), version, audit and KV values, rehearsed in a transaction that is
   * rolled back. Nothing is written. `before` is the settings now.
   */
  previewSettings(
    patch: SettingsPatch,
    options: SettingsWriteOptions,
  ): Result<Rehearsal<VersionedSettings> & { before: Settings }> {
    const planned = this.planSettings(patch, options);
    if (!planned.ok) return planned;
    const rehearsal = this.rehearse(() => this.writeSettingsAudited(planned.value, options.actor));
    const value = { ...rehearsal, before: planned.value.before.settings };
    return { ok: true, value, kvPending: this.db.outbox.pendingCount() };
  }

  /** updateSettings' checks, before anything is touched: the settings to write, or why not. */
  private planSettings(patch: SettingsPatch, options: SettingsWriteOptions): Result<SettingsPlan> {
    const config = targetConfig(this.env);
    if (!config.ok) return config;
    const before = this.db.getSettings();
    // Settings always exist, so If-Match: * always holds.
    if (typeof options.ifMatch === "number" && options.ifMatch !== before.version) {
      return precondition(`settings are at version ${before.version}, not ${options.ifMatch}`);
    }
    const merged = mergeSettingsPatch(before.settings, patch);
    const retiring = !isRetired(before.settings) && merged["auth0"] === "retired";
    let blockers: RetirementBlocker[] = [];
    if (retiring) {
      if (options.retirement === undefined) return notRetirable("Retire Auth0 with PUT /settings (it is checked).", []);
      // Mode and kill switch as they will be: `{auth0: retired, mode: route}` ends shadow mode and retires at once.
      const mode = Settings.shape.mode.safeParse(merged["mode"]).data ?? before.settings.mode;
      const killSwitch = Settings.shape.killSwitch.safeParse(merged["killSwitch"]).data ?? before.settings.killSwitch;
      blockers = [
        ...tableBlockers(this.db.allRoutes(), { mode, killSwitch }),
        ...trafficBlockers(options.retirement.traffic),
      ];
      if (blockers.length > 0 && !options.retirement.force) {
        return notRetirable(
          `${blockers.length} thing${blockers.length === 1 ? "" : "s"} still need${blockers.length === 1 ? "s" : ""} Auth0: ${blockers.map((b) => b.field).join(", ")}. Fix them, or retire anyway with force=true (audited).`,
          blockers,
        );
      }
    }
    // Once retired, the kill switch and shadow mode have nothing to send callbacks to: a conflict with the state.
    const modeErrors = retiredModeErrors(merged);
    if (modeErrors.length > 0) {
      return {
        ok: false,
        status: 409,
        title: "Auth0 is retired",
        detail: `${modeErrors.map((e) => e.reason).join("; ")}. Nothing was changed.`,
        errors: modeErrors,
      };
    }
    const checked = validateSettings(merged, config.value);
    if (!checked.ok) return invalid(checked.errors);
    const plan = { before, settings: checked.settings, action: options.action, retiring, blockers };
    return { ok: true, value: plan, kvPending: 0 };
  }

  /** Write + audit of a planned settings change, inside the caller's transaction. */
  private writeSettingsAudited(plan: SettingsPlan, actor: string): VersionedSettings {
    const { before, retiring, blockers } = plan;
    const written = this.db.writeSettings(plan.settings, now(), actor);
    this.audit(
      actor,
      settingsAction(before.settings, written.settings, plan.action),
      null,
      before.settings,
      written.settings,
    );
    const forced = retiring && blockers.length > 0;
    if (retiring) this.audit(actor, "auth0.retire", null, { auth0: "active" }, { forced, blockers });
    return written;
  }

  /**
   * Applies a whole table, all or nothing: every row is checked first (schema,
   * targets, no two routes claiming one match value); one bad row writes none.
   */
  async importTable(plan: ImportPlan, options: DryRunOptions): Promise<Result<ImportDiff>> {
    const checked = this.checkImportPlan(plan);
    if (!checked.ok) return checked;
    const { diff } = checked.value;
    if (options.dryRun) return { ok: true, value: diff, kvPending: this.db.outbox.pendingCount() };
    this.ctx.storage.transactionSync(() => {
      this.writeImport(checked.value, options.actor);
      this.audit(options.actor, "import", null, null, {
        added: diff.added,
        changed: diff.changed.map((c) => c.connection),
        removed: diff.removed,
        settingsChanged: diff.settingsChanged,
      });
    });
    return { ok: true, value: diff, kvPending: await this.flush() };
  }

  /** An import's checks against the table as it is (all or nothing). */
  private checkImportPlan(plan: ImportPlan): ReturnType<typeof checkImport> | Failure {
    const config = targetConfig(this.env);
    if (!config.ok) return config;
    return checkImport(plan, this.db.allRoutes(), this.db.getSettings().settings, config.value);
  }

  /** A checked import's writes, inside the caller's transaction. */
  private writeImport({ routes, settings, diff }: CheckedImport, actor: string): void {
    const changedNames = new Set([...diff.added, ...diff.changed.map((c) => c.connection)]);
    const at = now();
    for (const name of diff.removed) this.db.deleteRoute(name);
    for (const route of routes) if (changedNames.has(route.connection)) this.db.writeRoute(route, at);
    if (diff.settingsChanged && settings !== undefined) this.db.writeSettings(settings, at, actor);
  }

  /**
   * An import's rehearsal (POST /rehearse): exactly what importTable would check and write,
   * run in a transaction that is rolled back, with the KV value of every key it would queue
   * (table/overlay-kv.ts). Nothing is written: not the table, KV or the audit log.
   */
  rehearseImport(plan: ImportPlan): Result<Rehearsal<ImportDiff>> {
    const checked = this.checkImportPlan(plan);
    if (!checked.ok) return checked;
    const rehearsal = this.rehearse(() => {
      this.writeImport(checked.value, "rehearsal");
      return checked.value.diff;
    });
    return { ok: true, value: rehearsal, kvPending: this.db.outbox.pendingCount() };
  }

  // ---- provider sync (provider-sync.ts fetches, this applies) ----------------

  /**
   * Applies the provider's connections to the table as it is now, in one
   * transaction with one audit entry. Planning here, not in the caller, means
   * no route can change between the plan and the write.
   */
  async applyConnectionsSync(
    connections: ProviderConnection[],
    options: DryRunOptions,
  ): Promise<Result<ConnectionsSyncReport>> {
    const at = now();
    const checked = checkConnectionsSync(this.db.allRoutes(), this.db.getSettings().settings, connections, at);
    if (!checked.ok) return checked;
    const plan = checked.value;
    const report: ConnectionsSyncReport = { ...plan.report, dryRun: options.dryRun };
    if (options.dryRun || plan.writes.length === 0) {
      return { ok: true, value: report, kvPending: this.db.outbox.pendingCount() };
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
  async applyFlagSync(flag: FlagSnapshot, options: DryRunOptions): Promise<Result<FlagSyncReport>> {
    const before = this.db.getSettings();
    const checked = checkFlagSync(this.db.allRoutes(), before.settings, flag);
    if (!checked.ok) return checked;
    const plan = checked.value;
    const report: FlagSyncReport = { ...plan.report, dryRun: options.dryRun };
    if (options.dryRun || !plan.report.changed) {
      return { ok: true, value: report, kvPending: this.db.outbox.pendingCount() };
    }
    this.ctx.storage.transactionSync(() => {
      this.db.writeSettings(plan.settings, now(), options.actor);
      this.audit(options.actor, "sync.flags", null, before.settings.rollout, {
        rollout: plan.rollout,
        flag: flag.slug,
        unknownOrganizations: report.unknownOrganizations,
        conflicts: report.conflicts,
      });
    });
    return { ok: true, value: report, kvPending: await this.kvWrites.flushSettings() };
  }

  // ---- autopilot (src/autopilot) ---------------------------------------------

  /**
   * One step of an autopilot plan, at most once: `step.id` is recorded in its audit entry
   * (`autopilot.*`, with the numbers that justified it in `after`), and a step whose id is
   * already in the audit is not applied again (`applied: false`), so a plan that restarts
   * mid-step repeats nothing. With `state`, the route's state changes in the same transaction
   * (audited `route.update` as any change, through the same checks and provider guard); a
   * route already in that state is left as it is (`changed: false`; the entry says `unchanged`).
   * `since`: when the route's state last changed.
   */
  async autopilotStep(
    step: { id: string; action: string; connection: string | null; state?: RouteState; details: object },
    actor: string,
  ): Promise<Result<{ applied: boolean; changed: boolean; route: Route | null; since: string | null }>> {
    const done = this.db.audit.hasStep(actor, step.action, step.id);
    const current = (): { route: Route | null; since: string | null } => {
      if (step.connection === null) return { route: null, since: null };
      return {
        route: this.db.getRoute(step.connection),
        since: this.db.statesSince([step.connection])[step.connection]?.since ?? null,
      };
    };
    if (done) {
      return {
        ok: true,
        value: { applied: false, changed: false, ...current() },
        kvPending: this.db.outbox.pendingCount(),
      };
    }
    const record = { step: step.id, ...step.details };
    if (step.connection === null || step.state === undefined) {
      this.audit(actor, step.action, step.connection, null, record);
      return {
        ok: true,
        value: { applied: true, changed: false, ...current() },
        kvPending: this.db.outbox.pendingCount(),
      };
    }
    const connection = step.connection;
    const before = this.db.getRoute(connection);
    if (before !== null && before.state === step.state) {
      this.audit(actor, step.action, connection, null, { ...record, unchanged: `already ${step.state}` });
      return {
        ok: true,
        value: { applied: true, changed: false, ...current() },
        kvPending: this.db.outbox.pendingCount(),
      };
    }
    const planned = this.planPatch(connection, { state: step.state }, { actor });
    if (!planned.ok) return planned;
    const refused = this.refuseRoute(planned.value.input, planned.value.before);
    if (refused !== undefined) return refused;
    this.ctx.storage.transactionSync(() => {
      this.writeRouteAudited(planned.value.input, planned.value.before, actor);
      this.audit(actor, step.action, connection, { state: before?.state ?? null }, { ...record, state: step.state });
    });
    const kvPending = await this.flush();
    return { ok: true, value: { applied: true, changed: true, ...current() }, kvPending };
  }

  // ---- SP metadata snapshots (src/admin/metadata-api.ts stores them in KV) ------

  /**
   * Stores (or replaces) the SP metadata snapshot of `connection` in KV (`metadata:{connection}`,
   * its bytes, `info` as KV metadata) and audits it (`metadata.snapshot`). The caller checked the
   * document (src/admin/saml-metadata.ts); a connection without a route is refused (404).
   */
  async storeMetadataSnapshot(
    actor: string,
    connection: string,
    bytes: Uint8Array<ArrayBuffer>,
    info: MetadataSnapshotInfo,
  ): Promise<Result<MetadataSnapshotInfo>> {
    if (this.db.getRoute(connection) === null) return notFound(connection);
    const key = metadataKey(connection);
    const before = (await this.env.ROUTES.getWithMetadata<MetadataSnapshotInfo>(key, "text")).metadata;
    await this.env.ROUTES.put(key, bytes, { metadata: info });
    this.audit(actor, "metadata.snapshot", connection, before, info);
    return { ok: true, value: info, kvPending: this.db.outbox.pendingCount() };
  }

  /** Every stored SP metadata snapshot's info, by connection name. */
  async listMetadataSnapshots(): Promise<Array<MetadataSnapshotInfo & { connection: string }>> {
    const snapshots: Array<MetadataSnapshotInfo & { connection: string }> = [];
    let cursor: string | undefined;
    do {
      const page: KVNamespaceListResult<MetadataSnapshotInfo, string> =
        await this.env.ROUTES.list<MetadataSnapshotInfo>(
          cursor === undefined ? { prefix: METADATA_PREFIX } : { prefix: METADATA_PREFIX, cursor },
        );
      for (const key of page.keys) {
        if (key.metadata !== undefined && key.metadata !== null) {
          snapshots.push({ connection: key.name.slice(METADATA_PREFIX.length), ...key.metadata });
        }
      }
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor !== undefined);
    return snapshots;
  }

  // ---- KV write-through (kv-write-through.ts) ---------------------------------

  override async alarm(): Promise<void> {
    await this.kvWrites.flush();
  }

  /** Writes queued keys to KV (one flush at a time); returns how many are still queued. */
  flush(): Promise<number> {
    return this.kvWrites.flush();
  }

  // ---- helpers --------------------------------------------------------------

  private audit(actor: string, action: string, subject: string | null, before: unknown, after: unknown): void {
    this.db.audit.add({ at: now(), actor, action, subject, before, after });
  }
}

function notRetirable(detail: string, blockers: RetirementBlocker[]): Failure {
  return { ok: false, status: 409, title: "Auth0 cannot be retired yet", detail, errors: blockers };
}

function now(): string {
  return new Date().toISOString();
}
