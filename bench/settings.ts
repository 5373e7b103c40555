/** The benchmark's command line: every option, checked, with its default. */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const OUT_DIR = path.join(ROOT, ".bench");
export const BUILD_DIR = path.join(OUT_DIR, "build");
export const SNAPSHOT_DIR = path.join(OUT_DIR, "kv-snapshots");
/** The routers' isolate cache in the fixed-load scenarios (production's value). */
export const ROUTE_CACHE_SECONDS = 10;
export const UPDATED_AT = "2026-04-26T00:00:00.000Z";
export const SMALL_ROUTES = 10;
/** The large SAML POST: at least 2 MiB, its Issuer at the top. */
export const LARGE_SAML_BYTES = 2 * 1024 * 1024;
/** Longer than STATS_FLUSH_MS (2 s by default), so every counter batch has landed. */
export const COUNTER_FLUSH_WAIT_MS = 3_000;

export interface Settings {
  rounds: number;
  durationS: number;
  warmupS: number;
  connections: number;
  bigRoutes: number;
  mixedS: number;
  mixedRoutes: number;
  mixedIntervalMs: number;
  freshKv: boolean;
  /** Routes in the "import" scenario (0 skips it). */
  importRoutes: number;
  /** `wrangler check startup` runs per Worker for the startup CPU figure (0 skips cold start). */
  startupRuns: number;
  /** Only the scenarios whose id starts with one of these (all when empty). */
  only: string[];
}

export const USAGE =
  "npx tsx bench/run.ts [--rounds 3] [--duration 3] [--warmup 2] [--connections 32] [--routes 100000]\n" +
  "                     [--mixed-duration 30] [--mixed-routes 2000] [--mixed-interval 200] [--fresh-kv]\n" +
  "                     [--startup-runs 9] [--import-routes 10000] [--only a,c,cold,mixed,import,stats]";

function wholeNumber(name: string, raw: string | undefined, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

export function parseSettings(argv: string[] = process.argv.slice(2)): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      rounds: { type: "string", default: "3" },
      duration: { type: "string", default: "3" },
      warmup: { type: "string", default: "2" },
      connections: { type: "string", default: "32" },
      routes: { type: "string", default: "100000" },
      "mixed-duration": { type: "string", default: "30" },
      "mixed-routes": { type: "string", default: "2000" },
      "mixed-interval": { type: "string", default: "200" },
      "fresh-kv": { type: "boolean", default: false },
      "import-routes": { type: "string", default: "10000" },
      "startup-runs": { type: "string", default: "9" },
      only: { type: "string", default: "" },
    },
    strict: true,
  });
  return {
    rounds: wholeNumber("rounds", values.rounds, 1, 20),
    durationS: wholeNumber("duration", values.duration, 1, 60),
    warmupS: wholeNumber("warmup", values.warmup, 1, 30),
    connections: wholeNumber("connections", values.connections, 1, 1024),
    bigRoutes: wholeNumber("routes", values.routes, 1, 1_000_000),
    mixedS: wholeNumber("mixed-duration", values["mixed-duration"], 0, 600),
    mixedRoutes: wholeNumber("mixed-routes", values["mixed-routes"], 10, 100_000),
    mixedIntervalMs: wholeNumber("mixed-interval", values["mixed-interval"], 20, 60_000),
    freshKv: values["fresh-kv"] === true,
    importRoutes: wholeNumber("import-routes", values["import-routes"], 0, 100_000),
    startupRuns: wholeNumber("startup-runs", values["startup-runs"], 0, 20),
    only: (values.only ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
  };
}
