/**
 * Turns counter sums from every shard into what an operator reads: totals, the
 * shares, a series per step, per-connection counts with the route's state, and
 * flags, each over the window it is computed on. Pure: `now` and the times are
 * passed in. The definitions are src/stats/outcome.ts's; the flag windows are
 * docs/storage.md's "Flag windows".
 */
import type { RouteState } from "../table/schema";
import {
  AUTH0_WHY,
  emptyAuth0By,
  MINUTE_RETENTION_MS,
  NOT_IN_TABLE,
  type CountRow,
  type LastSeen,
  type Resolution,
  type Tally,
} from "./rows";
import { NOT_A_CALLBACK, UNIDENTIFIED } from "./outcome";
import type { DistinctNames } from "./sketch";
import { keyTime, type StatsWindow } from "./window";

export interface Counts extends Tally {
  /** Always present in a report (0 when nothing was unserved). */
  unserved: number;
  /** Logins, each counted once: auth0 + new. */
  logins: number;
  /** Requests to /login/callback: logins + bounces. */
  callbacks: number;
}

export interface Shares {
  /** Logins the new provider kept (new − fallback) / logins; null with no logins. */
  newShare: number | null;
  /** Bounced / sent to the new provider; null when nothing was sent there. */
  fallbackShare: number | null;
}

export type SeriesPoint = { at: string } & Counts & Shares;

export type Flag =
  /** Migrated, but the new provider bounces too many of the logins sent to it. */
  | "fallback-share-high"
  /** Migrated, yet logins reached Auth0 for a reason to act on: a refused record, an unreadable table, late propagation. */
  | "auth0-traffic-while-migrated"
  /** 5xx answers. */
  | "errors"
  /** Logins for connections that have no route (the one (not in table) bucket). */
  | "not-in-table"
  /** Auth0 retired: logins the new provider bounced and nobody could sign in. */
  | "unserved-logins";

/** What a flag's window starts at: the report's own start, or a later event. */
export type WindowStart = "window" | "state-change" | "kill-switch-off" | "shadow-off";

/** The Auth0 logins `auth0-traffic-while-migrated` counts, by what to act on. */
export interface ActOn {
  /** A refused record: the route or the settings failed validation, or no usable target. */
  invalid: number;
  /** The table could not be read (or only a stale copy after a KV error). */
  unavailable: number;
  /** The table still said Auth0 longer than ROUTE_CACHE_SECONDS + KV's 60 s after the change. */
  propagation: number;
}

export interface FlagDetail {
  flag: Flag;
  /** The window the flag was computed over (ISO times; minute or hour boundaries, see startsAt). */
  since: string;
  until: string;
  startsAt: WindowStart;
  /** What raised it: logins (auth0-traffic-while-migrated, not-in-table), bounces (fallback-share-high), 5xx answers (errors). */
  count: number;
  /** auth0-traffic-while-migrated: its logins by reason, and from when late propagation was counted. */
  actOn?: ActOn;
  propagationSince?: string;
}

export interface LastSeenView {
  at: string;
  kind: LastSeen["kind"];
  destination: LastSeen["destination"];
  status: number;
  reason: string;
}

/** The window a migrated connection's state flags are computed over (even when none is raised). */
export interface StateFlagWindow {
  since: string;
  until: string;
  startsAt: WindowStart;
  /** Logins the table still sent to Auth0 count as late propagation from here. */
  propagationSince: string;
}

export interface ConnectionStats extends Shares {
  connection: string;
  state: RouteState | null;
  /** When the route's state last changed (ISO), null without a route. */
  stateSince: string | null;
  /** Migrated connections: the window of fallback-share-high and auth0-traffic-while-migrated; else null. */
  flagWindow: StateFlagWindow | null;
  counts: Counts;
  flags: Flag[];
  /** Each flag with the window it used and what raised it. */
  flagDetails: FlagDetail[];
  /** The newest callback seen (kept 35 days), whatever the window. */
  lastSeen: LastSeenView | null;
  /** (not in table) only: how many distinct connection names it holds over the window (estimated, src/stats/sketch.ts). */
  distinctNames?: DistinctNames;
}

export interface StatsReport extends Shares {
  since: string;
  until: string;
  step: string;
  totals: Counts;
  /** One point per step, oldest first, zeros where nothing was counted. */
  series: SeriesPoint[];
  /** A page of the connections, busiest first. */
  connections: ConnectionStats[];
  /** Connections with counts in the window, and how many are flagged. */
  connectionsTotal: number;
  /** The flagged connections (at most `limit`, busiest first). */
  flagged: ConnectionStats[];
  flaggedTotal: number;
  /** The offset of the next page of `connections`, or null. */
  next: number | null;
  /** A shard had more rows than it answers (MAX_READ_ROWS): counts are partial. */
  truncated: boolean;
}

export function emptyCounts(): Counts {
  return {
    logins: 0,
    auth0: 0,
    new: 0,
    fallback: 0,
    unidentified: 0,
    errors: 0,
    affinity: 0,
    unserved: 0,
    auth0By: emptyAuth0By(),
    callbacks: 0,
  };
}

export function addRow(counts: Counts, row: Tally): void {
  counts.auth0 += row.auth0;
  counts.new += row.new;
  counts.fallback += row.fallback;
  counts.unidentified += row.unidentified;
  counts.errors += row.errors;
  counts.affinity += row.affinity;
  counts.unserved += row.unserved ?? 0;
  for (const why of AUTH0_WHY) counts.auth0By[why] += row.auth0By[why];
  counts.logins += row.auth0 + row.new;
  counts.callbacks += row.auth0 + row.new + row.fallback;
}

/** Rows summed per connection. */
export function sumByConnection(rows: CountRow[]): Map<string, Counts> {
  const out = new Map<string, Counts>();
  for (const row of rows) {
    let counts = out.get(row.connection);
    if (counts === undefined) out.set(row.connection, (counts = emptyCounts()));
    addRow(counts, row);
  }
  return out;
}

/**
 * The two shares. A bounce counted in a window whose login was sent just before
 * it began can make `fallback` exceed `new`: the shares stay within 0..1.
 */
export function sharesOf(c: Counts): Shares {
  return {
    newShare: c.logins === 0 ? null : Math.max(0, c.new - c.fallback) / c.logins,
    fallbackShare: c.new === 0 ? null : Math.min(1, c.fallback / c.new),
  };
}

/** A route's state and when it last changed (ms). */
export interface RouteStateSince {
  state: RouteState;
  since: number;
}

/** When the kill switch and shadow mode last ended (ms), null if not known to have. */
export interface Levers {
  killSwitchEndedAt: number | null;
  shadowEndedAt: number | null;
}

/**
 * The window of a migrated connection's flags: from the latest of the report's start, the
 * route's state change and the end of the kill switch or shadow mode (`start`); the
 * logins the table still sent to Auth0 (class `route`) count only from `staleStart`, the
 * state change + `graceMs` (ROUTE_CACHE_SECONDS + KV's 60 s) if that is later.
 */
export interface FlagBasis {
  start: number;
  startsAt: WindowStart;
  staleStart: number;
}

export function flagBasis(windowFrom: number, route: RouteStateSince, levers: Levers, graceMs: number): FlagBasis {
  let start = windowFrom;
  let startsAt: WindowStart = "window";
  const later = (at: number | null, why: WindowStart): void => {
    if (at !== null && at > start) {
      start = at;
      startsAt = why;
    }
  };
  later(route.since, "state-change");
  later(levers.killSwitchEndedAt, "kill-switch-off");
  later(levers.shadowEndedAt, "shadow-off");
  return { start, startsAt, staleStart: Math.max(start, route.since + graceMs) };
}

/**
 * One extra read of the counters: sums per connection from `from` (a key of the
 * resolution) to the end of the report's window. Minute keys while the minute rows
 * still hold the start (MINUTE_RETENTION_MS), else hour keys.
 */
export interface FlagRead {
  resolution: Resolution;
  from: string;
  connections: string[];
}

const RESOLUTION_MS: Record<Resolution, number> = { minute: 60_000, hour: 3_600_000 };
const KEY_LENGTH: Record<Resolution, number> = { minute: 16, hour: 13 };

export function readId(resolution: Resolution, from: string): string {
  return `${resolution} ${from}`;
}

/**
 * The key a flag read starts at. `inclusive`: the bucket holding `at` (a refused record or an
 * unreadable table is one to act on whenever it happened); otherwise the first bucket that
 * starts at or after `at` (so nothing counted before the change and its grace comes in).
 */
export function startKey(
  at: number,
  now: number,
  inclusive: boolean,
): { resolution: Resolution; key: string; at: number } {
  const resolution: Resolution = at >= now - MINUTE_RETENTION_MS + RESOLUTION_MS.minute ? "minute" : "hour";
  const size = RESOLUTION_MS[resolution];
  const bucket = inclusive ? Math.floor(at / size) * size : Math.ceil(at / size) * size;
  return { resolution, key: new Date(bucket).toISOString().slice(0, KEY_LENGTH[resolution]), at: bucket };
}

/** What buildReport needs besides the window's sums. */
export interface FlagInputs {
  routes: ReadonlyMap<string, RouteStateSince>;
  levers: Levers;
  graceMs: number;
  alertShare: number;
  now: number;
  /** Sums of the extra reads, by readId then connection. */
  reads?: ReadonlyMap<string, ReadonlyMap<string, Counts>>;
}

/** The plan of a migrated connection's flag window: which read answers it (null = the window's own sums). */
interface FlagPlan {
  basis: FlagBasis;
  since: number;
  staleSince: number;
  read: string | null;
  staleRead: string | null;
}

function planOf(route: RouteStateSince, w: StatsWindow, f: Omit<FlagInputs, "reads" | "routes">): FlagPlan {
  const basis = flagBasis(w.from, route, f.levers, f.graceMs);
  let since = w.from;
  let read: string | null = null;
  if (basis.start > w.from) {
    const k = startKey(basis.start, f.now, true);
    since = k.at;
    read = readId(k.resolution, k.key);
  }
  let staleSince = since;
  let staleRead = read;
  if (basis.staleStart > basis.start) {
    const k = startKey(basis.staleStart, f.now, false);
    staleSince = k.at;
    staleRead = readId(k.resolution, k.key);
  }
  return { basis, since, staleSince, read, staleRead };
}

/** The extra reads the flags of these connections need (one per distinct start). */
export function flagReads(connections: Iterable<string>, w: StatsWindow, f: Omit<FlagInputs, "reads">): FlagRead[] {
  const reads = new Map<string, { resolution: Resolution; from: string; connections: Set<string> }>();
  for (const connection of connections) {
    const route = f.routes.get(connection);
    if (route?.state !== "migrated") continue;
    const plan = planOf(route, w, f);
    for (const [id, since] of [
      [plan.read, plan.since],
      [plan.staleRead, plan.staleSince],
    ] as const) {
      // A start after the window's end reads nothing (flagsOf counts none there).
      if (id === null || since >= w.until) continue;
      const [resolution, from] = id.split(" ") as [Resolution, string];
      let read = reads.get(id);
      if (read === undefined) reads.set(id, (read = { resolution, from, connections: new Set() }));
      read.connections.add(connection);
    }
  }
  return [...reads.values()].map((r) => ({ ...r, connections: [...r.connections] }));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function stateFlagWindow(plan: FlagPlan, w: StatsWindow): StateFlagWindow {
  return {
    since: iso(Math.min(plan.since, w.until)),
    until: iso(w.until),
    startsAt: plan.basis.startsAt,
    propagationSince: iso(Math.min(plan.staleSince, w.until)),
  };
}

/**
 * The flags of one connection. State flags (fallback-share-high,
 * auth0-traffic-while-migrated) use the migrated connection's flag window; `errors` and
 * `not-in-table` do not depend on the route's state and use the report's window.
 */
export function flagsOf(
  connection: string,
  route: RouteStateSince | null,
  counts: Counts,
  w: StatsWindow,
  f: FlagInputs,
): FlagDetail[] {
  const details: FlagDetail[] = [];
  const until = iso(w.until);
  if (route?.state === "migrated") {
    const plan = planOf(route, w, f);
    const empty = emptyCounts();
    const since = plan.read === null ? counts : (f.reads?.get(plan.read)?.get(connection) ?? empty);
    const staleSince = plan.staleRead === null ? counts : (f.reads?.get(plan.staleRead)?.get(connection) ?? empty);
    const { propagationSince, ...window } = stateFlagWindow(plan, w);
    const { fallbackShare } = sharesOf(since);
    if (fallbackShare !== null && fallbackShare > f.alertShare) {
      details.push({ flag: "fallback-share-high", ...window, count: since.fallback });
    }
    // Before the window's start, or while the kill switch, shadow mode or affinity sent them, never.
    const actOn: ActOn = {
      invalid: plan.since < w.until ? since.auth0By.invalid : 0,
      unavailable: plan.since < w.until ? since.auth0By.unavailable : 0,
      propagation: plan.staleSince < w.until ? staleSince.auth0By.route : 0,
    };
    const count = actOn.invalid + actOn.unavailable + actOn.propagation;
    if (count > 0) {
      details.push({
        flag: "auth0-traffic-while-migrated",
        ...window,
        count,
        actOn,
        propagationSince,
      });
    }
  }
  const report = { since: iso(w.from), until, startsAt: "window" as const };
  if (counts.errors > 0) details.push({ flag: "errors", ...report, count: counts.errors });
  if (counts.unserved > 0) details.push({ flag: "unserved-logins", ...report, count: counts.unserved });
  if (connection === NOT_IN_TABLE && counts.logins > 0) {
    details.push({ flag: "not-in-table", ...report, count: counts.logins });
  }
  return details;
}

export function lastSeenView(entries: LastSeen[]): LastSeenView | null {
  let newest: LastSeen | undefined;
  for (const e of entries) if (newest === undefined || e.at > newest.at) newest = e;
  if (newest === undefined) return null;
  const { at, kind, destination, status, reason } = newest;
  return { at: new Date(at).toISOString(), kind, destination, status, reason };
}

/** One point per bucket of the window, zero-filled. */
export function seriesOf(rows: CountRow[], w: StatsWindow): SeriesPoint[] {
  const counts = w.buckets.map(() => emptyCounts());
  for (const row of rows) {
    const i = Math.floor((keyTime(row.at) - w.from) / w.stepMs);
    const bucket = counts[i];
    if (bucket !== undefined) addRow(bucket, row);
  }
  return counts.map((c, i) => ({ at: new Date(w.buckets[i] ?? w.from).toISOString(), ...c, ...sharesOf(c) }));
}

export function connectionStats(
  connection: string,
  counts: Counts,
  last: LastSeen[],
  w: StatsWindow,
  f: FlagInputs,
): ConnectionStats {
  const route = f.routes.get(connection) ?? null;
  const flagDetails = flagsOf(connection, route, counts, w, f);
  return {
    connection,
    state: route?.state ?? null,
    stateSince: route === null ? null : iso(route.since),
    flagWindow: route?.state === "migrated" ? stateFlagWindow(planOf(route, w, f), w) : null,
    counts,
    ...sharesOf(counts),
    flags: flagDetails.map((d) => d.flag),
    flagDetails,
    lastSeen: lastSeenView(last),
  };
}

/** Is `connection` one of the buckets that are not connection names? */
export function isBucket(connection: string): boolean {
  return connection === UNIDENTIFIED || connection === NOT_A_CALLBACK || connection === NOT_IN_TABLE;
}

/**
 * Per-connection sums with every name that has no route (a stranger's, or a route since
 * deleted) folded into NOT_IN_TABLE: the report's size follows the route table.
 */
export function foldUnrouted(
  sums: ReadonlyMap<string, Counts>,
  routes: ReadonlyMap<string, RouteStateSince>,
): Map<string, Counts> {
  const out = new Map<string, Counts>();
  for (const [connection, counts] of sums) {
    const key = routes.has(connection) || isBucket(connection) ? connection : NOT_IN_TABLE;
    let into = out.get(key);
    if (into === undefined) out.set(key, (into = emptyCounts()));
    addRow(into, counts);
  }
  return out;
}

/** Busiest first: logins, then errors, then by name. */
export function byTraffic(a: ConnectionStats, b: ConnectionStats): number {
  return (
    b.counts.logins - a.counts.logins || b.counts.errors - a.counts.errors || (a.connection < b.connection ? -1 : 1)
  );
}

export interface Page {
  offset: number;
  limit: number;
}

/**
 * The report: `sums` per connection over the window (already folded), `seriesRows` per
 * key over every connection. `lastSeen` is null until withLastSeen (read for the page only).
 */
export function buildReport(
  sums: ReadonlyMap<string, Counts>,
  seriesRows: CountRow[],
  w: StatsWindow,
  f: FlagInputs,
  page: Page,
  extra: { truncated: boolean; distinctNames?: DistinctNames } = { truncated: false },
): StatsReport {
  const totals = emptyCounts();
  for (const counts of sums.values()) addRow(totals, counts);
  const all = [...sums.entries()]
    .map(([connection, counts]) => connectionStats(connection, counts, [], w, f))
    .sort(byTraffic);
  for (const c of all) {
    if (c.connection === NOT_IN_TABLE && extra.distinctNames !== undefined) c.distinctNames = extra.distinctNames;
  }
  const flagged = all.filter((c) => c.flags.length > 0);
  const end = page.offset + page.limit;
  return {
    since: iso(w.from),
    until: iso(w.until),
    step: w.step,
    totals,
    ...sharesOf(totals),
    series: seriesOf(seriesRows, w),
    connections: all.slice(page.offset, end),
    connectionsTotal: all.length,
    flagged: flagged.slice(0, page.limit),
    flaggedTotal: flagged.length,
    next: end < all.length ? end : null,
    truncated: extra.truncated,
  };
}

/** The report with each listed connection's last callback (read for the page only). */
export function withLastSeen(report: StatsReport, last: LastSeen[]): StatsReport {
  const lastOf = new Map<string, LastSeen[]>();
  for (const l of last) lastOf.set(l.connection, [...(lastOf.get(l.connection) ?? []), l]);
  for (const c of [...report.connections, ...report.flagged]) c.lastSeen = lastSeenView(lastOf.get(c.connection) ?? []);
  return report;
}

/** The connections a page lists (its connections and flagged ones). */
export function listedConnections(report: StatsReport): string[] {
  return [...new Set([...report.connections, ...report.flagged].map((c) => c.connection))];
}
