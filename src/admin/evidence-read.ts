/**
 * The admin Worker's read of the counters' evidence (src/stats/evidence.ts, docs/storage.md
 * "Evidence"): every shard's rows of a window, summed per connection and key, and each
 * route's readiness from them (src/stats/readiness.ts).
 */
import type { Env } from "../env";
import type { EvidenceRow } from "../stats/evidence";
import { hourOf } from "../stats/outcome";
import { readinessOf, type Readiness } from "../stats/readiness";
import type { RouteInput } from "../table/schema";
import { shards } from "./stats-api";

const DAY_MS = 86_400_000;
/** Readiness is judged on this many days of evidence (GET /routes/{c}, /coverage, the dashboard). */
export const READINESS_DAYS = 7;

/**
 * Evidence of the hours from `now - windowMs` to `now` (UTC, whole hours), summed over every
 * shard per connection × shape × started × identified_by (`at` ""); all connections, or the named ones.
 */
export async function evidenceRows(
  env: Env,
  windowMs: number,
  connections?: string[],
  now = Date.now(),
): Promise<EvidenceRow[]> {
  const from = hourOf(now - windowMs);
  const to = hourOf(now);
  const all = await shards(env);
  const answers = await Promise.all(all.map((s) => s.evidence(from, to, connections)));
  const sums = new Map<string, EvidenceRow>();
  for (const rows of answers) {
    for (const r of rows) {
      const key = `${r.connection}\u0000${r.shape}\u0000${r.started}\u0000${r.identifiedBy}`;
      const sum = sums.get(key);
      if (sum === undefined) sums.set(key, { ...r, at: "" });
      else sum.logins += r.logins;
    }
  }
  return [...sums.values()];
}

/** Each route's readiness over the last READINESS_DAYS days, by connection. */
export async function readinessOfRoutes(
  env: Env,
  routes: ReadonlyArray<Pick<RouteInput, "connection" | "protocol" | "match">>,
): Promise<Map<string, Readiness>> {
  const rows = await evidenceRows(
    env,
    READINESS_DAYS * DAY_MS,
    // One connection: ask for it alone; the whole table: every row of the window.
    routes.length === 1 ? routes.map((r) => r.connection) : undefined,
  );
  const byConnection = new Map<string, EvidenceRow[]>();
  for (const r of rows) {
    const list = byConnection.get(r.connection) ?? [];
    list.push(r);
    byConnection.set(r.connection, list);
  }
  return new Map(
    routes.map((route) => [
      route.connection,
      readinessOf(route, byConnection.get(route.connection) ?? [], READINESS_DAYS),
    ]),
  );
}
