/**
 * Turns counter rows from every shard into what an operator reads: totals,
 * per-connection counts with the route's state, and flags. Pure.
 */
import type { RouteState } from "../table/schema";
import type { CountRow } from "./counter-do";
import { UNIDENTIFIED } from "./outcome";

export interface Counts {
  auth0: number;
  new: number;
  fallback: number;
  unidentified: number;
  errors: number;
  total: number;
}

export type Flag =
  /** Migrated, but the new provider sends too many callbacks back (fallback=auth0). */
  | "fallback-share-high"
  /** Migrated, yet callbacks still reached Auth0 directly (propagation, a bad record, the kill switch). */
  | "auth0-traffic-while-migrated"
  /** Auth0 unreachable / too slow, or Auth0 answered 5xx. */
  | "errors"
  /** Callbacks for a connection that has no route. */
  | "not-in-table";

export interface ConnectionStats {
  connection: string;
  state: RouteState | null;
  counts: Counts;
  /** fallback / (new + fallback); null when nothing went to the new provider. */
  fallbackShare: number | null;
  flags: Flag[];
  /** With `hourly`: one entry per hour of the window (see hourlySeries). */
  hours?: Array<{ hour: string } & Counts>;
}

export interface StatsReport {
  since: string;
  until: string;
  totals: Counts;
  /** new / (all identified and unidentified callbacks); null with no traffic. */
  newShare: number | null;
  connections: ConnectionStats[];
  flagged: ConnectionStats[];
}

export function emptyCounts(): Counts {
  return { auth0: 0, new: 0, fallback: 0, unidentified: 0, errors: 0, total: 0 };
}

export function addRow(counts: Counts, row: Omit<CountRow, "hour" | "connection">): void {
  counts.auth0 += row.auth0;
  counts.new += row.new;
  counts.fallback += row.fallback;
  counts.unidentified += row.unidentified;
  counts.errors += row.errors;
  counts.total += row.auth0 + row.new + row.fallback + row.unidentified;
}

export function flagsOf(
  connection: string,
  state: RouteState | null,
  counts: Counts,
  alertShare: number,
): { fallbackShare: number | null; flags: Flag[] } {
  const flags: Flag[] = [];
  const sent = counts.new + counts.fallback;
  const fallbackShare = sent === 0 ? null : counts.fallback / sent;
  if (state === "migrated" && fallbackShare !== null && fallbackShare > alertShare) flags.push("fallback-share-high");
  if (state === "migrated" && counts.auth0 > 0) flags.push("auth0-traffic-while-migrated");
  if (counts.errors > 0) flags.push("errors");
  if (state === null && connection !== UNIDENTIFIED && counts.total > 0) flags.push("not-in-table");
  return { fallbackShare, flags };
}

export function buildReport(
  rows: CountRow[],
  states: ReadonlyMap<string, RouteState>,
  window: { since: string; until: string },
  alertShare: number,
  hourly?: { sinceHour: string; untilHour: string },
): StatsReport {
  const byConnection = new Map<string, Counts>();
  const totals = emptyCounts();
  for (const row of rows) {
    let counts = byConnection.get(row.connection);
    if (counts === undefined) {
      counts = emptyCounts();
      byConnection.set(row.connection, counts);
    }
    addRow(counts, row);
    addRow(totals, row);
  }
  const connections = [...byConnection.entries()]
    .map(([connection, counts]): ConnectionStats => {
      const state = states.get(connection) ?? null;
      const stats: ConnectionStats = { connection, state, counts, ...flagsOf(connection, state, counts, alertShare) };
      if (hourly !== undefined) {
        const own = rows.filter((r) => r.connection === connection);
        stats.hours = hourlySeries(own, hourly.sinceHour, hourly.untilHour);
      }
      return stats;
    })
    .sort((a, b) => b.counts.total - a.counts.total || (a.connection < b.connection ? -1 : 1));
  return {
    ...window,
    totals,
    newShare: totals.total === 0 ? null : totals.new / totals.total,
    connections,
    flagged: connections.filter((c) => c.flags.length > 0),
  };
}

/** One entry per hour from `sinceHour` to `untilHour` inclusive, zeros where nothing was counted. */
export function hourlySeries(rows: CountRow[], sinceHour: string, untilHour: string): Array<{ hour: string } & Counts> {
  const byHour = new Map<string, Counts>();
  for (const row of rows) {
    let counts = byHour.get(row.hour);
    if (counts === undefined) {
      counts = emptyCounts();
      byHour.set(row.hour, counts);
    }
    addRow(counts, row);
  }
  const out: Array<{ hour: string } & Counts> = [];
  for (let t = Date.parse(`${sinceHour}:00:00Z`); t <= Date.parse(`${untilHour}:00:00Z`); t += 3_600_000) {
    const hour = new Date(t).toISOString().slice(0, 13);
    out.push({ hour, ...(byHour.get(hour) ?? emptyCounts()) });
  }
  return out;
}
