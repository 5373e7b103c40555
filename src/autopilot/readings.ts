/**
 * The numbers each watched connection is judged on, read since its change (the route's
 * state change the writer recorded): the router's counters (src/stats, /stats' definitions),
 * the flags /stats would raise for it over the same window (src/stats/report.ts, flagsOf),
 * and the new provider's own outcomes (./outcomes.ts). Counters are kept per minute for 6
 * hours, then per hour: a reading starts at the minute (or hour) holding the change, so it may
 * hold a few callbacks from just before it — those went to Auth0 (`auth0`), never to `new`.
 */
import { flagInputs, lastKey, shards, sums } from "../admin/stats-api";
import type { Env } from "../env";
import { emptyCounts, flagsOf, startKey, type Counts } from "../stats/report";
import type { StatsWindow } from "../stats/window";
import type { AutopilotNumbers } from "./events";
import { readProviderOutcomes, type OutcomeReading } from "./outcomes";

export interface Watched {
  connection: string;
  providerConnectionId?: string | undefined;
  /** When its state changed (ms): the reading starts here. */
  since: number;
}

/** Flags the alarm gate reads; `errors` (any 5xx) is the error-share gate's. */
const ALARM_FLAGS = new Set(["fallback-share-high", "auth0-traffic-while-migrated", "unserved-logins"]);

/** The numbers of one connection from its counts, flags and outcome (pure). */
export function numbersOf(counts: Counts, alarms: string[], outcome: AutopilotNumbers["outcome"]): AutopilotNumbers {
  const callbacks = counts.logins + counts.fallback;
  return {
    logins: counts.new,
    fallback: counts.fallback,
    fallbackShare: counts.new === 0 ? 0 : Math.min(1, counts.fallback / counts.new),
    errors: counts.errors,
    errorShare: callbacks === 0 ? 0 : Math.min(1, counts.errors / callbacks),
    alarms,
    outcome,
  };
}

/** One connection's outcome out of a reading: counts, or "no source" with why. */
export function outcomeOf(reading: OutcomeReading, connection: string): AutopilotNumbers["outcome"] {
  if (!reading.available) return { source: "no source", reason: reading.reason };
  const counts = reading.byConnection[connection];
  if (counts === undefined) {
    const why = "unavailable" in reading ? reading.unavailable[connection] : undefined;
    return { source: "no source", reason: why ?? "the provider reported nothing for it" };
  }
  return { succeeded: counts.succeeded, failed: counts.failed, source: reading.source };
}

/** Numbers of every watched connection at `now` (ms), by connection name. */
export async function readNumbers(env: Env, watched: Watched[], now: number): Promise<Map<string, AutopilotNumbers>> {
  const out = new Map<string, AutopilotNumbers>();
  if (watched.length === 0) return out;
  const all = await shards(env);
  // One counter read per distinct start bucket (a wave's connections share one).
  const groups = new Map<string, { start: ReturnType<typeof startKey>; items: Watched[] }>();
  for (const w of watched) {
    const start = startKey(w.since, now, true);
    const id = `${start.resolution} ${start.key}`;
    let g = groups.get(id);
    if (g === undefined) groups.set(id, (g = { start, items: [] }));
    g.items.push(w);
  }
  await Promise.all(
    [...groups.values()].map(async ({ start, items }) => {
      const names = items.map((i) => i.connection);
      const read = await sums(all, start.resolution, start.key, lastKey(start.resolution, now), names);
      const window: StatsWindow = {
        from: start.at,
        until: now,
        step: start.resolution === "minute" ? "1m" : "1h",
        stepMs: start.resolution === "minute" ? 60_000 : 3_600_000,
        resolution: start.resolution,
        buckets: [],
      };
      const f = await flagInputs(env, all, names, window);
      const fromMs = Math.min(...items.map((i) => i.since));
      const outcomes = await readProviderOutcomes(
        env,
        items.map((i) => ({
          connection: i.connection,
          ...(i.providerConnectionId === undefined ? {} : { providerConnectionId: i.providerConnectionId }),
        })),
        fromMs,
        now,
      );
      for (const item of items) {
        const counts = read.sums.get(item.connection) ?? emptyCounts();
        const route = f.routes.get(item.connection) ?? null;
        const alarms = flagsOf(item.connection, route, counts, window, f)
          .map((d) => d.flag)
          .filter((flag) => ALARM_FLAGS.has(flag));
        out.set(item.connection, numbersOf(counts, alarms, outcomeOf(outcomes, item.connection)));
      }
    }),
  );
  return out;
}
