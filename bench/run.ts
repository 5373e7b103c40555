/**
 * callback-router load benchmark: one run, the same load generator and
 * settings for every scenario, loopback only, the Workers in workerd (Miniflare).
 *
 *   npx tsx bench/run.ts [--rounds 3] [--duration 3] [--warmup 2] [--connections 32] [--routes 100000]
 *                        [--mixed-duration 30] [--mixed-routes 2000] [--mixed-interval 200] [--fresh-kv]
 *
 * Scenarios (each: preflight checks and a warm-up, then measured in interleaved rounds):
 *   c-bare      GET /authorize?…                   bare pass-through Worker -> origin (baseline)
 *   c           GET /authorize?…                   router -> origin
 *   a           GET /login/callback?connection=…   router, 10 routes -> 307
 *   b           POST /login/callback?connection=…  router, legacy, ~8 KB SAML form -> origin
 *   a-100k      GET /login/callback?connection=…   router, 100 000 routes, a random migrated
 *                                                  connection per request (mostly isolate-cache misses)
 *   a-100k-hot  same, always one connection        (isolate-cache hits)
 *   a-nocache, a-100k-nocache                      10 / 100 000 routes, isolate cache off
 *
 * Background load on a shared machine comes and goes over minutes, so scenarios
 * are not measured once each, one after the other: every round runs each of
 * them for --duration seconds (alternating the order: forward, backward, …),
 * and the table shows per-scenario medians over the rounds; ratios are ratios
 * of medians (bench/rounds.ts).
 *
 * Then "mixed" (bench/mixed.ts): --mixed-duration seconds of mixed callbacks and
 * pass-through on a router whose 2 000-route table (imported through the
 * management API) is changed through that API during the run. 0 skips it.
 *
 * The router Workers get their compatibility date/flags and Durable Object
 * bindings from wrangler.toml (wrangler's unstable_getMiniflareWorkerOptions);
 * their vars are replaced by the benchmark's, their KV by a local namespace.
 *
 * Seeding the 100 000-route KV takes a minute or more (Miniflare writes each
 * value as a Durable Object transaction plus a blob file). The seeded KV is
 * saved to .bench/kv-snapshots/ and restored on later runs when the generated
 * entries are identical; --fresh-kv seeds again.
 *
 * Output: a table on stdout and .bench/results.json. Exit code 1 when a
 * scenario saw a wrong status (incl. 5xx), a timeout or a socket error, when
 * "mixed" saw an error or a failed API change, or a preflight check, the build
 * or the seeding failed.
 */
import {
  accessSync,
  constants as fsConstants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { tableToKvEntries } from "../src/table/kv-layout";
import { RouteTableFile } from "../src/table/schema";
import { bundle } from "./bundle";
import { CacheSimulation, CacheTally } from "./cache-sim";
import { generateTable, samlPostBody, TARGET_HOST, type GeneratedTable } from "./fixtures";
import {
  readSnapshotMeta,
  SEED_BATCH,
  SEED_PUTS_PER_REQUEST,
  SEED_REQUESTS_IN_FLIGHT,
  seedKv,
  snapshotKey,
  type SnapshotMeta,
} from "./kv-seed";
import { check, runLoad } from "./load";
import { LogTally } from "./logs";
import { MIXED_ROUTE_CACHE_SECONDS, MixedScenario, newAdminToken } from "./mixed";
import { mixedFailed, mixedReport, type MixedResult } from "./mixed-report";
import { startOrigin } from "./origin";
import { RATIO_PAIRS, roundsReport } from "./report";
import { pairRatio, runInterleaved, type RoundSample } from "./rounds";
import {
  aggregate,
  errorCount,
  measurementOf,
  type Measurement,
  type Scenario,
  type ScenarioResult,
  type WorkerName,
} from "./scenario";
import { describeError, elapsed, firstLine, fmt, pickFrom, runCommand, say, sleep } from "./util";

// ---------------------------------------------------------------------------
// Settings

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUT_DIR = path.join(ROOT, ".bench");
const BUILD_DIR = path.join(OUT_DIR, "build");
const SNAPSHOT_DIR = path.join(OUT_DIR, "kv-snapshots");
const ROUTE_CACHE_SECONDS = 10;
const UPDATED_AT = "2026-04-26T00:00:00.000Z";
const SMALL_ROUTES = 10;

const args = parseArgs({
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
  },
  strict: true,
});

function wholeNumber(name: string, raw: string | undefined, min: number, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

const ROUNDS = wholeNumber("rounds", args.values.rounds, 1, 20);
const DURATION_S = wholeNumber("duration", args.values.duration, 1, 60);
const WARMUP_S = wholeNumber("warmup", args.values.warmup, 1, 30);
const CONNECTIONS = wholeNumber("connections", args.values.connections, 1, 1024);
const BIG_ROUTES = wholeNumber("routes", args.values.routes, 1, 1_000_000);
const MIXED_S = wholeNumber("mixed-duration", args.values["mixed-duration"], 0, 600);
const MIXED_ROUTES = wholeNumber("mixed-routes", args.values["mixed-routes"], 10, 100_000);
const MIXED_INTERVAL_MS = wholeNumber("mixed-interval", args.values["mixed-interval"], 20, 60_000);
const FRESH_KV = args.values["fresh-kv"] === true;
/** Longer than STATS_FLUSH_MS (2 s by default), so every counter batch has landed. */
const COUNTER_FLUSH_WAIT_MS = 3_000;

// ---------------------------------------------------------------------------

async function main(): Promise<number> {
  mkdirSync(BUILD_DIR, { recursive: true });
  const cpus = os.cpus().length;
  const loadBefore = os.loadavg();
  const require = createRequire(import.meta.url);
  const miniflareVersion = (require("miniflare/package.json") as { version: string }).version;
  const autocannonVersion = (require("autocannon/package.json") as { version: string }).version;

  console.log("callback-router benchmark");
  console.log(
    `  ${cpus} CPU core(s), load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")}; ` +
      `node ${process.version}, miniflare ${miniflareVersion}, autocannon ${autocannonVersion}`,
  );
  console.log(
    `  NOTE: shared machine. autocannon (this Node process), the origin (a worker thread of it) and workerd ` +
      `all compete for the same ${cpus} core(s), and so does anything else running here;`,
  );
  console.log(
    `        so every scenario is measured in ${ROUNDS} interleaved rounds and reported as the median; ` +
      "compare scenarios within this run, not absolute capacity.",
  );
  console.log(
    `  settings: ${CONNECTIONS} connections, pipelining 1, ${WARMUP_S}s warm-up per scenario, then ${ROUNDS} rounds × ` +
      `${DURATION_S}s per scenario` +
      (MIXED_S > 0 ? `; mixed: ${WARMUP_S}s warm-up + ${MIXED_S}s` : "; mixed: skipped") +
      "; loopback only",
  );

  // The router's wrangler.toml (top level): compatibility date/flags, Durable Object bindings, define.
  const wranglerOptions = unstable_getMiniflareWorkerOptions(path.join(ROOT, "wrangler.toml"));
  const { workerOptions: wranglerWorker } = wranglerOptions;
  const compatibilityDate = wranglerWorker.compatibilityDate ?? "2026-04-20";
  const compatibilityFlags = wranglerWorker.compatibilityFlags ?? [];

  say("bundling Workers with esbuild");
  const routerJs = path.join(BUILD_DIR, "router.mjs");
  const bareJs = path.join(BUILD_DIR, "bare-worker.mjs");
  const seedJs = path.join(BUILD_DIR, "seed-worker.mjs");
  const originJs = path.join(BUILD_DIR, "origin-thread.mjs");
  await Promise.all([
    bundle(wranglerOptions.main ?? path.join(ROOT, "src/index.ts"), routerJs, "browser", wranglerOptions.define),
    bundle(path.join(ROOT, "bench/bare-worker.ts"), bareJs, "browser"),
    bundle(path.join(ROOT, "bench/seed-worker.ts"), seedJs, "browser"),
    bundle(path.join(ROOT, "bench/origin-thread.ts"), originJs, "node"),
  ]);

  say(`generating tables (${SMALL_ROUTES} and ${BIG_ROUTES} routes)`);
  const small = generateTable(SMALL_ROUTES);
  const big = generateTable(BIG_ROUTES);
  const tValidate = performance.now();
  for (const [name, table] of [
    ["small", small],
    ["big", big],
  ] as Array<[string, GeneratedTable]>) {
    const parsed = RouteTableFile.safeParse(table.file);
    if (!parsed.success) {
      throw new Error(
        `generated ${name} table is not a valid RouteTableFile: ${JSON.stringify(parsed.error.issues[0])}`,
      );
    }
  }
  const validateMs = performance.now() - tValidate;
  const smallEntries = tableToKvEntries(small.file, UPDATED_AT);
  const bigEntries = tableToKvEntries(big.file, UPDATED_AT);
  say(
    `  tables valid (RouteTableFile.safeParse, ${validateMs.toFixed(0)} ms); ` +
      `tableToKvEntries: ${smallEntries.length} and ${bigEntries.length} KV entries`,
  );

  const samlConnection = small.legacy[0] ?? "";
  const samlBody = samlPostBody(samlConnection);
  const samlBodyBytes = Buffer.byteLength(samlBody);

  // Miniflare's KV is SQLite plus one blob file per value. Keep it on tmpfs when there is one, in a
  // directory of our own (removed at the end) so that a seeded KV can be snapshotted and restored.
  let tmpBase = os.tmpdir();
  try {
    accessSync("/dev/shm", fsConstants.W_OK);
    tmpBase = "/dev/shm";
  } catch {
    // keep the default temp directory
  }
  const storage = tmpBase === "/dev/shm" ? "/dev/shm (tmpfs)" : tmpBase;
  const snapshotId = snapshotKey(bigEntries, miniflareVersion);
  const snapshotTar = path.join(SNAPSHOT_DIR, `${snapshotId}.tar.gz`);
  const snapshotMetaFile = path.join(SNAPSHOT_DIR, `${snapshotId}.json`);

  const origin = await startOrigin(originJs);
  const originUrl = `http://127.0.0.1:${origin.port}`;
  say(`origin (Auth0 stand-in) listening on ${originUrl}`);
  const kvRoot = mkdtempSync(path.join(tmpBase, "callback-router-bench-"));
  const kvPersist = path.join(kvRoot, "kv");
  // Also on exits that skip the async cleanup (Miniflare's exit hook ends the process on SIGINT/SIGTERM).
  process.on("exit", () => rmSync(kvRoot, { recursive: true, force: true }));

  const logs = new LogTally();
  const routerBindings = {
    ENVIRONMENT: "development",
    AUTH0_ORIGIN: originUrl,
    ALLOWED_TARGET_HOSTS: TARGET_HOST,
    ROUTE_CACHE_SECONDS: String(ROUTE_CACHE_SECONDS),
  };
  const adminToken = newAdminToken();
  const direct = [{ host: "127.0.0.1", port: 0 }];
  let mf: Miniflare | undefined;

  const results: ScenarioResult[] = [];
  const roundSamples = new Map<string, RoundSample[]>();
  let mixedResult: MixedResult | undefined;
  /** The traffic counters against the router's own decision log, over the measured mixed run. */
  let counters: { decided: number; counted: number; perSecond: number } | undefined;
  const seeding = {
    entries: bigEntries.length,
    /** Seeding time in this run, or the original seeding time of the restored snapshot. */
    ms: 0,
    retries: 0,
    restoredFromSnapshot: false,
    restoreMs: 0,
    snapshotSavedMs: 0,
    snapshot: path.relative(ROOT, snapshotTar),
  };
  let failed = false;
  const fatal: string[] = [];

  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    const m = mf;
    mf = undefined;
    await Promise.allSettled([m?.dispose(), origin.close()]);
  };
  const removeKvRoot = (): void => rmSync(kvRoot, { recursive: true, force: true });
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: stopping`);
    void cleanup()
      .finally(removeKvRoot)
      .finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    mkdirSync(kvPersist, { recursive: true });
    const snapshotMeta = FRESH_KV ? undefined : readSnapshotMeta(snapshotMetaFile);
    if (snapshotMeta !== undefined && existsSync(snapshotTar)) {
      const t0 = performance.now();
      await runCommand("tar", ["-xzf", snapshotTar, "-C", kvPersist]);
      seeding.restoredFromSnapshot = true;
      seeding.restoreMs = performance.now() - t0;
      seeding.ms = snapshotMeta.seedMs;
      say(
        `restored the seeded ${bigEntries.length}-entry KV from ${seeding.snapshot} in ${(seeding.restoreMs / 1000).toFixed(1)} s ` +
          `(seeding it took ${(snapshotMeta.seedMs / 1000).toFixed(1)} s on ${snapshotMeta.createdAt}; --fresh-kv to seed again)`,
      );
    }

    const router = (name: WorkerName, kv: string, bindings: Record<string, string>) => ({
      ...wranglerWorker,
      name,
      modules: true,
      scriptPath: routerJs,
      bindings,
      kvNamespaces: { ROUTES: kv },
      unsafeDirectSockets: direct,
    });
    mf = new Miniflare({
      kvPersist,
      handleRuntimeStdio(stdout: Readable, stderr: Readable) {
        stdout.on("data", (chunk: Buffer) => logs.feed(chunk));
        stderr.on("data", (chunk: Buffer) => logs.feedStderr(chunk));
      },
      workers: [
        router("router", "routes-small", routerBindings),
        router("router-100k", "routes-big", routerBindings),
        // The same two tables with the isolate cache off: every callback reads KV, so the
        // pair compares table size alone.
        router("router-nocache", "routes-small", { ...routerBindings, ROUTE_CACHE_SECONDS: "0" }),
        router("router-100k-nocache", "routes-big", { ...routerBindings, ROUTE_CACHE_SECONDS: "0" }),
        // "mixed": its own KV, filled through its management API (ADMIN_TOKEN) and its RouteTableWriter.
        router("router-mixed", "routes-mixed", {
          ...routerBindings,
          ROUTE_CACHE_SECONDS: String(MIXED_ROUTE_CACHE_SECONDS),
          ADMIN_TOKEN: adminToken,
          ADMIN_TOKEN_NAME: "bench",
        }),
        {
          name: "bare",
          modules: true,
          scriptPath: bareJs,
          compatibilityDate,
          compatibilityFlags,
          bindings: { ORIGIN: originUrl },
          unsafeDirectSockets: direct,
        },
        {
          name: "seeder",
          modules: true,
          scriptPath: seedJs,
          compatibilityDate,
          kvNamespaces: { SMALL: "routes-small", BIG: "routes-big" },
          unsafeDirectSockets: direct,
        },
      ],
    });
    await mf.ready;
    const urls: Record<WorkerName, URL> = {
      router: await mf.unsafeGetDirectURL("router"),
      "router-100k": await mf.unsafeGetDirectURL("router-100k"),
      "router-nocache": await mf.unsafeGetDirectURL("router-nocache"),
      "router-100k-nocache": await mf.unsafeGetDirectURL("router-100k-nocache"),
      "router-mixed": await mf.unsafeGetDirectURL("router-mixed"),
      bare: await mf.unsafeGetDirectURL("bare"),
      seeder: await mf.unsafeGetDirectURL("seeder"),
    };
    say(
      `workerd up (Miniflare, compatibility date ${compatibilityDate}, KV in ${storage}): ` +
        `router ${urls.router.host}, router-100k ${urls["router-100k"].host}, bare ${urls.bare.host}, ` +
        `router-mixed ${urls["router-mixed"].host}`,
    );

    await seedKv(urls.seeder, "SMALL", smallEntries, false);
    if (!seeding.restoredFromSnapshot) {
      say(
        `seeding ${bigEntries.length} KV entries (${BIG_ROUTES} routes) through the seeder Worker: ` +
          `batches of ${SEED_BATCH}, ${SEED_REQUESTS_IN_FLIGHT} in flight, ${SEED_PUTS_PER_REQUEST} puts in parallel each`,
      );
      const seeded = await seedKv(urls.seeder, "BIG", bigEntries, true);
      seeding.ms = seeded.ms;
      seeding.retries = seeded.retries;
      say(
        `  seeded ${bigEntries.length} entries in ${(seeded.ms / 1000).toFixed(1)} s ` +
          `(${Math.round(bigEntries.length / (seeded.ms / 1000))} puts/s${seeded.retries > 0 ? `, ${seeded.retries} batch retries` : ""})`,
      );
    }

    const authorizePath =
      "/authorize?client_id=x&response_type=code&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback" +
      "&scope=openid%20profile%20email&state=bench-state-1234567890&nonce=bench-nonce-0987654321";

    // "mixed" is seeded first: the writer's KV write-through (partly in 2 s alarms) then runs
    // during the warm-ups below, and has finished before anything is measured.
    const mixed =
      MIXED_S > 0
        ? new MixedScenario({
            base: urls["router-mixed"],
            adminToken,
            routes: MIXED_ROUTES,
            connections: CONNECTIONS,
            warmupSeconds: WARMUP_S,
            durationSeconds: MIXED_S,
            changeEveryMs: MIXED_INTERVAL_MS,
            authorizePath,
          })
        : undefined;
    await mixed?.seed();

    const pickSmallMigrated = pickFrom(small.migrated);
    const pickBigMigrated = pickFrom(big.migrated);
    const hotConnection = big.migrated[Math.floor(big.migrated.length / 2)] ?? "";
    const cacheSmall = new CacheSimulation(ROUTE_CACHE_SECONDS * 1000);
    const cacheBig = new CacheSimulation(ROUTE_CACHE_SECONDS * 1000);
    const noCacheSmall = new CacheSimulation(0);
    const noCacheBig = new CacheSimulation(0);
    /** The measured scenario's tally while a measured run is on; undefined in warm-ups. */
    let counting: CacheTally | undefined;
    const callbackPath = (pick: () => string, cache: CacheSimulation) => (): string => {
      const connection = pick();
      cache.access(connection, counting);
      return `/login/callback?connection=${connection}`;
    };

    const checkRedirects = async (base: URL, connections: string[], cache: CacheSimulation): Promise<string[]> => {
      const problems: string[] = [];
      for (const connection of connections) {
        cache.access(connection, undefined);
        const url = new URL(`/login/callback?connection=${connection}`, base);
        const problem = await check(url, { method: "GET" }, 307, (res) => {
          const location = res.headers.get("location") ?? "";
          return location.startsWith(`https://${TARGET_HOST}/`) && location.endsWith(`connection=${connection}`)
            ? undefined
            : `connection ${connection}: Location "${location}"`;
        });
        if (problem !== undefined) problems.push(problem);
      }
      return problems;
    };
    const forwarded =
      (expectBytes: number) =>
      (res: Response): string | undefined =>
        res.headers.get("x-received-bytes") === String(expectBytes)
          ? undefined
          : `origin received ${res.headers.get("x-received-bytes")} body bytes, expected ${expectBytes}`;
    const only = (problems: Array<string | undefined>): string[] =>
      problems.filter((p): p is string => p !== undefined);
    const sample = (pick: () => string, n: number): string[] => Array.from({ length: n }, pick);

    const scenarios: Scenario[] = [
      {
        id: "c-bare",
        label: "(c') GET /authorize, bare Worker",
        worker: "bare",
        expectStatus: 200,
        usesOrigin: true,
        request: { method: "GET", path: authorizePath },
        preflight: async (base) =>
          only([await check(new URL(authorizePath, base), { method: "GET" }, 200, forwarded(0))]),
      },
      {
        id: "c",
        label: "(c)  GET /authorize, router",
        worker: "router",
        expectStatus: 200,
        usesOrigin: true,
        request: { method: "GET", path: authorizePath },
        preflight: async (base) =>
          only([await check(new URL(authorizePath, base), { method: "GET" }, 200, forwarded(0))]),
      },
      {
        id: "a",
        label: `(a)  GET callback -> 307, ${SMALL_ROUTES} routes`,
        worker: "router",
        expectStatus: 307,
        expectReason: "migrated",
        usesOrigin: false,
        request: { method: "GET" },
        nextPath: callbackPath(pickSmallMigrated, cacheSmall),
        cacheTally: new CacheTally(),
        preflight: (base) => checkRedirects(base, small.migrated, cacheSmall),
      },
      {
        id: "b",
        label: `(b)  POST callback, legacy, ${(samlBodyBytes / 1024).toFixed(1)} KB`,
        worker: "router",
        expectStatus: 200,
        expectReason: "legacy",
        usesOrigin: true,
        request: {
          method: "POST",
          path: `/login/callback?connection=${samlConnection}`,
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: samlBody,
        },
        preflight: async (base) =>
          only([
            await check(
              new URL(`/login/callback?connection=${samlConnection}`, base),
              { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: samlBody },
              200,
              forwarded(samlBodyBytes),
            ),
          ]),
      },
      {
        id: "a-100k",
        label: `(a)  GET callback -> 307, ${BIG_ROUTES} routes, random conn`,
        worker: "router-100k",
        expectStatus: 307,
        expectReason: "migrated",
        usesOrigin: false,
        request: { method: "GET" },
        nextPath: callbackPath(pickBigMigrated, cacheBig),
        cacheTally: new CacheTally(),
        preflight: (base) => checkRedirects(base, sample(pickBigMigrated, 25), cacheBig),
      },
      {
        id: "a-100k-hot",
        label: `(a)  GET callback -> 307, ${BIG_ROUTES} routes, one conn`,
        worker: "router-100k",
        expectStatus: 307,
        expectReason: "migrated",
        usesOrigin: false,
        request: { method: "GET" },
        nextPath: callbackPath(() => hotConnection, cacheBig),
        cacheTally: new CacheTally(),
        preflight: (base) => checkRedirects(base, [hotConnection], cacheBig),
      },
      {
        id: "a-nocache",
        label: `(a)  GET callback -> 307, ${SMALL_ROUTES} routes, no isolate cache`,
        worker: "router-nocache",
        expectStatus: 307,
        expectReason: "migrated",
        usesOrigin: false,
        request: { method: "GET" },
        nextPath: callbackPath(pickSmallMigrated, noCacheSmall),
        cacheTally: new CacheTally(),
        preflight: (base) => checkRedirects(base, small.migrated, noCacheSmall),
      },
      {
        id: "a-100k-nocache",
        label: `(a)  GET callback -> 307, ${BIG_ROUTES} routes, no isolate cache`,
        worker: "router-100k-nocache",
        expectStatus: 307,
        expectReason: "migrated",
        usesOrigin: false,
        request: { method: "GET" },
        nextPath: callbackPath(pickBigMigrated, noCacheBig),
        cacheTally: new CacheTally(),
        preflight: (base) => checkRedirects(base, sample(pickBigMigrated, 25), noCacheBig),
      },
    ];

    // Preflight and warm-up, once per scenario.
    const preflightProblems = new Map<string, string[]>();
    for (const scenario of scenarios) {
      const base = urls[scenario.worker];
      const problems = await scenario.preflight(base);
      preflightProblems.set(scenario.id, problems);
      if (problems.length > 0) {
        failed = true;
        say(`${scenario.id}: PREFLIGHT FAILED: ${problems.slice(0, 3).join("; ")}`);
      }
      say(`${scenario.id}: warm-up ${WARMUP_S}s`);
      await runLoad(base, { ...scenario, connections: CONNECTIONS }, WARMUP_S);
    }
    if (mixed !== undefined && (await mixed.settleAndPreflight()).length > 0) failed = true;
    await sleep(300);

    // The measured runs: every scenario once per round, rounds alternating direction.
    const measurements = await runInterleaved(
      scenarios,
      ROUNDS,
      async (scenario, round, slot): Promise<Measurement> => {
        logs.reset();
        const originBefore = await origin.requests();
        counting = scenario.cacheTally;
        const stats = await runLoad(urls[scenario.worker], { ...scenario, connections: CONNECTIONS }, DURATION_S);
        counting = undefined;
        await sleep(300); // let the last log lines arrive
        const originRequests = (await origin.requests()) - originBefore;
        const m = measurementOf(stats, round, slot, originRequests, logs);
        say(
          `  ${scenario.id.padEnd(14)} ${String(stats.responses).padStart(6)} req, ${fmt(m.sample.reqPerSec, 0).padStart(5)} req/s, ` +
            `p50 ${fmt(m.sample.p50Ms)} ms, p99 ${fmt(m.sample.p99Ms)} ms, errors ${errorCount(m)}`,
        );
        return m;
      },
      (round, order) => say(`round ${round}/${ROUNDS} (${DURATION_S}s each): ${order.map((s) => s.id).join(" -> ")}`),
    );

    for (const scenario of scenarios) {
      const result = aggregate(scenario, measurements.get(scenario.id) ?? [], {
        durationSeconds: DURATION_S,
        connections: CONNECTIONS,
        preflightProblems: preflightProblems.get(scenario.id) ?? [],
      });
      if (result.errors > 0) failed = true;
      results.push(result);
      roundSamples.set(scenario.id, result.rounds);
    }

    if (mixed !== undefined) {
      await mixed.warmUp();
      // Let the warm-up's counter batches (STATS_FLUSH_MS, 2 s by default) land first.
      await sleep(COUNTER_FLUSH_WAIT_MS);
      const countedBefore = await mixed.countedCallbacks();
      logs.reset();
      const load = await mixed.measure();
      await sleep(COUNTER_FLUSH_WAIT_MS); // the last log lines and counter batches
      const decided = [...logs.decisions.values()].reduce((a, b) => a + b, 0);
      const counted = (await mixed.countedCallbacks()) - countedBefore;
      counters = { decided, counted, perSecond: counted / MIXED_S };
      say(
        `counters: ${counted} callbacks recorded of ${decided} the router decided during the measured ` +
          `${MIXED_S}s (${fmt(counters.perSecond, 0)} callbacks/s)` +
          (counted === decided ? ", none lost" : `, MISMATCH ${counted - decided}`),
      );
      if (counted !== decided) failed = true;
      const worker = {
        workerDecisions: Object.fromEntries(logs.decisions),
        workerProblems: Object.fromEntries(logs.problemEvents),
      };
      const partial = mixed.result(load, await mixed.afterRun(), worker);
      mixedResult = { ...partial, failed: mixedFailed(partial) };
      if (mixedResult.failed) failed = true;
      say(
        `mixed: ${mixedResult.requests} req, ${fmt(mixedResult.reqPerSec, 0)} req/s, errors ${mixedResult.errors}, ` +
          `${mixedResult.api.changes} API changes (non-2xx ${mixedResult.api.non2xx})`,
      );
    }
  } catch (err) {
    failed = true;
    fatal.push(describeError(err));
    console.error(`benchmark aborted: ${fatal[0]}`);
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await cleanup();
    // A freshly seeded KV (workerd has exited, so its files are complete) is kept for the next run.
    if (!seeding.restoredFromSnapshot && seeding.ms > 0 && fatal.length === 0) {
      try {
        const t0 = performance.now();
        mkdirSync(SNAPSHOT_DIR, { recursive: true });
        for (const old of readdirSync(SNAPSHOT_DIR)) rmSync(path.join(SNAPSHOT_DIR, old), { force: true });
        await runCommand("tar", ["-czf", `${snapshotTar}.partial`, "-C", kvPersist, "."]);
        renameSync(`${snapshotTar}.partial`, snapshotTar);
        const meta: SnapshotMeta = {
          entries: bigEntries.length,
          seedMs: Math.round(seeding.ms),
          createdAt: new Date().toISOString(),
        };
        writeFileSync(snapshotMetaFile, `${JSON.stringify(meta)}\n`);
        seeding.snapshotSavedMs = performance.now() - t0;
        say(
          `saved the seeded KV to ${seeding.snapshot} in ${(seeding.snapshotSavedMs / 1000).toFixed(1)} s (reused by the next run)`,
        );
      } catch (err) {
        say(`could not save the KV snapshot: ${firstLine(describeError(err))}`);
      }
    }
    removeKvRoot();
  }

  // -------------------------------------------------------------------------
  // Report

  const ratios = RATIO_PAIRS.map((r) => pairRatio(r.name, r.of, r.to, roundSamples));
  console.log("");
  for (const l of roundsReport(results, ratios, ROUNDS, DURATION_S)) console.log(l);
  console.log("");
  for (const r of results) {
    const c = r.isolateCacheEstimate;
    if (c === undefined) continue;
    console.log(
      `${r.id}: ${c.distinctConnections} distinct connections requested; est. isolate route-cache hit rate ` +
        `${fmt(100 * c.hitRate, 1)}% (${c.misses} route:* reads from KV)`,
    );
  }
  const loadAfter = os.loadavg();
  const seedRate = seeding.ms > 0 ? Math.round(bigEntries.length / (seeding.ms / 1000)) : NaN;
  console.log(
    seeding.restoredFromSnapshot
      ? `KV: ${bigEntries.length} entries restored from a snapshot in ${(seeding.restoreMs / 1000).toFixed(1)} s; ` +
          `seeding them took ${(seeding.ms / 1000).toFixed(1)} s (${seedRate} puts/s) when the snapshot was made`
      : `KV: seeded ${bigEntries.length} entries in ${(seeding.ms / 1000).toFixed(1)} s (${seedRate} puts/s, Miniflare KV in ${storage})`,
  );
  console.log(
    `(a) and "(a) with ${SMALL_ROUTES} routes" are the same scenario. (b) body: ${samlBodyBytes} bytes. ` +
      `load average before ${loadBefore.map((l) => l.toFixed(2)).join(" ")}, after ${loadAfter.map((l) => l.toFixed(2)).join(" ")}`,
  );
  console.log(
    `shared ${cpus}-core machine: autocannon, the origin and workerd compete for CPU (with whatever else runs); compare ratios, not absolutes.`,
  );
  for (const r of results) {
    const notes = [...r.preflightProblems.map((p) => `preflight: ${p}`), ...r.warnings];
    if (r.errors > 0) {
      notes.unshift(
        `errors: wrong status ${r.wrongStatus} (5xx ${r.status5xx}), timeouts ${r.timeouts}, ` +
          `socket ${JSON.stringify(r.socketErrors)}; statuses ${JSON.stringify(r.statusCounts)}`,
      );
    }
    for (const n of notes) console.log(`! ${r.id}: ${n}`);
  }
  if (mixedResult !== undefined) {
    console.log("");
    const byId = new Map(results.map((r) => [r.id, r]));
    for (const l of mixedReport(mixedResult, byId.get("c-bare"), byId.get("c"))) console.log(l);
    if (counters !== undefined) {
      console.log(
        `traffic counters: ${counters.counted} callbacks recorded of ${counters.decided} decided ` +
          `(${fmt(counters.perSecond, 0)} callbacks/s sustained through the counters, ${counters.counted === counters.decided ? "none lost" : "MISMATCH"})`,
      );
    }
  }
  if (logs.stderr.length > 0) console.log(`workerd stderr (first lines):\n  ${logs.stderr.slice(0, 10).join("\n  ")}`);

  const json = {
    generatedAt: new Date().toISOString(),
    machine: {
      cpus,
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadAfter,
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      shared: true,
    },
    tools: { miniflare: miniflareVersion, autocannon: autocannonVersion, compatibilityDate, compatibilityFlags },
    settings: {
      connections: CONNECTIONS,
      pipelining: 1,
      warmupSeconds: WARMUP_S,
      rounds: ROUNDS,
      roundOrder: "alternating: forward in odd rounds, backward in even rounds",
      durationSecondsPerRound: DURATION_S,
      aggregation: "per-scenario median over rounds; ratios are ratios of medians",
      routeCacheSeconds: ROUTE_CACHE_SECONDS,
      smallRoutes: SMALL_ROUTES,
      bigRoutes: BIG_ROUTES,
      smallKvEntries: smallEntries.length,
      samlBodyBytes,
      storage,
      mixedSeconds: MIXED_S,
      mixedRoutes: MIXED_ROUTES,
      mixedChangeEveryMs: MIXED_INTERVAL_MS,
    },
    seeding: {
      ...seeding,
      ms: Math.round(seeding.ms),
      restoreMs: Math.round(seeding.restoreMs),
      snapshotSavedMs: Math.round(seeding.snapshotSavedMs),
      putsPerSecond: seedRate,
      batch: SEED_BATCH,
      requestsInFlight: SEED_REQUESTS_IN_FLIGHT,
      putsPerRequest: SEED_PUTS_PER_REQUEST,
    },
    scenarios: results,
    ratios,
    mixed: mixedResult ?? null,
    counters: counters ?? null,
    failed,
    fatal,
    totalSeconds: performance.now() / 1000,
  };
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(
    path.join(OUT_DIR, "results.json"),
    `${JSON.stringify(json, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2)}\n`,
  );
  console.log(`results: .bench/results.json; total ${elapsed()}; ${failed ? "FAILED (see above)" : "no errors"}`);
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Everything has been closed; should a stray handle still hold the event loop, do not hang.
    setTimeout(() => {
      console.error("open handles remained after cleanup; exiting");
      process.exit(code);
    }, 5000).unref();
  },
  (err: unknown) => {
    console.error(describeError(err));
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 5000).unref();
  },
);
