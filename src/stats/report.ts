/**
 * Turns counter rows from every shard into what an operator reads: totals, the
 * shares, a series per step, per-connection counts with the route's state, and
 * flags. Pure. The definitions are src/stats/outcome.ts's.
 */
import type { RouteState } from "../table/schema";
import type { CountRow, LastSeen, Tally } from "./rows";
import { NOT_A_CALLBACK, UNIDENTIFIED } from "./outcome";
import { keyTime, type StatsWindow } from "./window";

export interface Counts extends Tally {
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
  /** Migrated, yet logins still reached Auth0 directly (propagation, a bad record, the kill switch). */
  | "auth0-traffic-while-migrated"
  /** 5xx answers. */
  | "errors"
  /** Logins for a connection that has no route. */
  | "not-in-table";

export interface LastSeenView {
  at: string;
  kind: LastSeen["kind"];
  destination: LastSeen["destination"];
  status: number;
  reason: string;
}

export interface ConnectionStats extends Shares {
  connection: string;
  state: RouteState | null;
  counts: Counts;
  flags: Flag[];
  /** The newest callback seen (kept 35 days), whatever the window. */
  lastSeen: LastSeenView | null;
}

export interface StatsReport extends Shares {
  since: string;
  until: string;
  step: string;
  totals: Counts;
  /** One point per step, oldest first, zeros where nothing was counted. */
  series: SeriesPoint[];
  connections: ConnectionStats[];
  flagged: ConnectionStats[];
}

export function emptyCounts(): Counts {
  return { logins: 0, auth0: 0, new: 0, fallback: 0, unidentified: 0, errors: 0, affinity: 0, callbacks: 0 };
}

export function addRow(counts: Counts, row: Tally): void {
  counts.auth0 += row.auth0;
  counts.new += row.new;
  counts.fallback += row.fallback;
  counts.unidentified += row.unidentified;
  counts.errors += row.errors;
  counts.affinity += row.affinity;
  counts.logins += row.auth0 + row.new;
  counts.callbacks += row.auth0 + row.new + row.fallback;
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

export function flagsOf(connection: string, state: RouteState | null, counts: Counts, alertShare: number): Flag[] {
  const flags: Flag[] = [];
  const { fallbackShare } = sharesOf(counts);
  if (state === "migrated" && fallbackShare !== null && fallbackShare > alertShare) flags.push("fallback-share-high");
  // Logins Auth0 itself started belong there (transaction affinity): only the others are a warning.
  if (state === "migrated" && counts.auth0 - counts.affinity > 0) flags.push("auth0-traffic-while-migrated");
  if (counts.errors > 0) flags.push("errors");
  if (state === null && connection !== UNIDENTIFIED && connection !== NOT_A_CALLBACK && counts.logins > 0) {
    flags.push("not-in-table");
  }
  return flags;
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
  state: RouteState | null,
  rows: CountRow[],
  last: LastSeen[],
  alertShare: number,
): ConnectionStats {
  const counts = emptyCounts();
  for (const row of rows) addRow(counts, row);
  return {
    connection,
    state,
    counts,
    ...sharesOf(counts),
    flags: flagsOf(connection, state, counts, alertShare),
    lastSeen: lastSeenView(last),
  };
}

export function buildReport(
  rows: CountRow[],
  last: LastSeen[],
  states: ReadonlyMap<string, RouteState>,
  w: StatsWindow,
  alertShare: number,
): StatsReport {
  const rowsOf = new Map<string, CountRow[]>();
  for (const row of rows) {
    const own = rowsOf.get(row.connection);
    if (own === undefined) rowsOf.set(row.connection, [row]);
    else own.push(row);
  }
  const lastOf = new Map<string, LastSeen[]>();
  for (const l of last) lastOf.set(l.connection, [...(lastOf.get(l.connection) ?? []), l]);
  const totals = emptyCounts();
  for (const row of rows) addRow(totals, row);
  const connections = [...rowsOf.entries()]
    .map(([connection, own]) =>
      connectionStats(connection, states.get(connection) ?? null, own, lastOf.get(connection) ?? [], alertShare),
    )
    .sort(
      (a, b) =>
        b.counts.logins - a.counts.logins ||
        b.counts.errors - a.counts.errors ||
        (a.connection < b.connection ? -1 : 1),
    );
  return {
    since: new Date(w.from).toISOString(),
    until: new Date(w.until).toISOString(),
    step: w.step,
    totals,
    ...sharesOf(totals),
    series: seriesOf(rows, w),
    connections,
    flagged: connections.filter((c) => c.flags.length > 0),
  };
}
