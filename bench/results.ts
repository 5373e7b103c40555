/** The end of a run: the notes under the tables, and .bench/results.json. */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ColdStart } from "./cold-start";
import type { ImportLive } from "./import-live";
import type { StatsRead } from "./stats-read";
import { SEED_BATCH, SEED_PUTS_PER_REQUEST, SEED_REQUESTS_IN_FLIGHT } from "./kv-seed";
import type { Seeding } from "./kv-snapshot";
import { loads, type Machine } from "./machine";
import type { Counters } from "./mixed-run";
import type { MixedResult } from "./mixed-report";
import type { RatioRow } from "./report";
import type { ScenarioResult } from "./scenario";
import { OUT_DIR, ROUTE_CACHE_SECONDS, SMALL_ROUTES, type Settings } from "./settings";
import { fmt } from "./util";

export interface RunOutcome {
  machine: Machine;
  settings: Settings;
  compatibility: { date: string; flags: string[] };
  storage: string;
  seeding: Seeding | undefined;
  results: ScenarioResult[];
  ratios: RatioRow[];
  coldStart: ColdStart | undefined;
  importLive: ImportLive | undefined;
  statsRead: StatsRead | undefined;
  mixed: MixedResult | undefined;
  counters: Counters | undefined;
  failed: boolean;
  fatal: string[];
}

export function noteLines(o: RunOutcome): string[] {
  const lines: string[] = [];
  for (const r of o.results) {
    const c = r.isolateCacheEstimate;
    if (c === undefined) continue;
    lines.push(
      `${r.id}: ${c.distinctConnections} distinct connections requested; est. isolate route-cache hit rate ` +
        `${fmt(100 * c.hitRate, 1)}% (${c.misses} route:* reads from KV)`,
    );
  }
  const s = o.seeding;
  if (s !== undefined) {
    const rate = s.ms > 0 ? Math.round(s.entries / (s.ms / 1000)) : NaN;
    lines.push(
      s.restoredFromSnapshot
        ? `KV: ${s.entries} entries restored from a snapshot in ${(s.restoreMs / 1000).toFixed(1)} s; ` +
            `seeding them took ${(s.ms / 1000).toFixed(1)} s (${rate} puts/s) when the snapshot was made`
        : `KV: seeded ${s.entries} entries in ${(s.ms / 1000).toFixed(1)} s (${rate} puts/s, Miniflare KV in ${o.storage})`,
    );
  }
  lines.push(
    `load average before ${loads(o.machine.loadBefore)}, after ${loads(os.loadavg())}; shared ${o.machine.cpus}-core ` +
      "machine: autocannon, the origin and workerd compete for CPU (with whatever else runs); compare ratios, not absolutes.",
  );
  for (const r of o.results) {
    const notes = [...r.preflightProblems.map((p) => `preflight: ${p}`), ...r.warnings];
    if (r.errors > 0) {
      notes.unshift(
        `errors: wrong status ${r.wrongStatus} (5xx ${r.status5xx}), timeouts ${r.timeouts}, ` +
          `socket ${JSON.stringify(r.socketErrors)}; statuses ${JSON.stringify(r.statusCounts)}`,
      );
    }
    for (const n of notes) lines.push(`! ${r.id}: ${n}`);
  }
  return lines;
}

export function writeResultsJson(o: RunOutcome): string {
  const file = path.join(OUT_DIR, "results.json");
  const json = {
    generatedAt: new Date().toISOString(),
    machine: { ...o.machine, loadAverageAfter: os.loadavg(), shared: true },
    tools: { compatibilityDate: o.compatibility.date, compatibilityFlags: o.compatibility.flags },
    settings: {
      ...o.settings,
      pipelining: 1,
      roundOrder: "alternating: forward in odd rounds, backward in even rounds",
      aggregation: "per-scenario median over rounds; ratios are ratios of medians",
      routeCacheSeconds: ROUTE_CACHE_SECONDS,
      smallRoutes: SMALL_ROUTES,
      storage: o.storage,
    },
    seeding:
      o.seeding === undefined
        ? null
        : {
            ...o.seeding,
            ms: Math.round(o.seeding.ms),
            restoreMs: Math.round(o.seeding.restoreMs),
            snapshotSavedMs: Math.round(o.seeding.snapshotSavedMs),
            batch: SEED_BATCH,
            requestsInFlight: SEED_REQUESTS_IN_FLIGHT,
            putsPerRequest: SEED_PUTS_PER_REQUEST,
          },
    scenarios: o.results,
    ratios: o.ratios,
    coldStart: o.coldStart ?? null,
    importLive: o.importLive ?? null,
    statsRead: o.statsRead ?? null,
    mixed: o.mixed ?? null,
    counters: o.counters ?? null,
    failed: o.failed,
    fatal: o.fatal,
    totalSeconds: performance.now() / 1000,
  };
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(
    file,
    `${JSON.stringify(json, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2)}\n`,
  );
  return path.relative(path.dirname(OUT_DIR), file);
}
