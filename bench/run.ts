/**
 * callback-router load benchmark (`npm run bench`): one run, the same load
 * generator and settings for every scenario, loopback only, the Workers in
 * workerd (Miniflare). Usage: see USAGE in bench/settings.ts; bench/README.md
 * explains the scenarios, the figures and the profile recipe.
 *
 *   1. cold start (bench/cold-start.ts): deploy bundle size, startup CPU
 *   2. fixed-load scenarios (bench/scenarios/): each router path next to its
 *      floor (bare fetch(request) Worker, minimal redirect Worker), measured
 *      in interleaved rounds (bench/rounds.ts, bench/measure.ts)
 *   3. "mixed" (bench/mixed.ts): mixed load while the table changes through the API
 *   4. "import" (bench/import-live.ts) and "stats" (bench/stats-read.ts): a 10 000-route
 *      import made live, then GET /stats over 10 000 connections × 24 h of counts
 *
 * Output: the tables on stdout (every ratio with its issue-11 target) and
 * .bench/results.json. Exit code 1 when a scenario saw a wrong status (incl.
 * 5xx), a timeout or a socket error, when "mixed" saw an error or a failed API
 * change, or a preflight check, the build or the seeding failed.
 */
import { mkdirSync } from "node:fs";
import { measureColdStart } from "./cold-start";
import { descendantsNamed } from "./cpu";
import { measureImportLive } from "./import-live";
import { LoadGenerator } from "./load-generator";
import { makeKvDir } from "./kv-dir";
import { SEED_BATCH, SEED_PUTS_PER_REQUEST, SEED_REQUESTS_IN_FLIGHT, seedKv } from "./kv-seed";
import { KvSnapshot } from "./kv-snapshot";
import { LogTally } from "./logs";
import { describeMachine, headerLines } from "./machine";
import { measureRounds, preflightAndWarmUp, type MeasureOptions } from "./measure";
import { MIXED_ROUTE_CACHE_SECONDS, MixedScenario, newAdminToken } from "./mixed";
import { mixedReport } from "./mixed-report";
import { runMixed } from "./mixed-run";
import { startOrigin } from "./origin";
import { measureStatsRead, statsReadLine } from "./stats-read";
import { coldStartReport, ratioRows, roundsReport } from "./report";
import { noteLines, writeResultsJson, type RunOutcome } from "./results";
import { AUTHORIZE_PATH, ScenarioContext } from "./scenarios/common";
import { allScenarios, selectScenarios } from "./scenarios/index";
import { BUILD_DIR, parseSettings } from "./settings";
import { buildTables, type Tables } from "./tables";
import { describeError, elapsed, fmt, say, sleep } from "./util";
import { buildWorkers, startWorkerd, type Workerd } from "./workers";

async function seedTables(workerd: Workerd, tables: Tables, snapshot: KvSnapshot, needBig: boolean): Promise<void> {
  await seedKv(workerd.urls.seeder, "SMALL", tables.smallEntries, false);
  if (!needBig || snapshot.seeding.restoredFromSnapshot) return;
  say(
    `seeding ${tables.bigEntries.length} KV entries through the seeder Worker: ` +
      `batches of ${SEED_BATCH}, ${SEED_REQUESTS_IN_FLIGHT} in flight, ${SEED_PUTS_PER_REQUEST} puts in parallel each`,
  );
  const seeded = await seedKv(workerd.urls.seeder, "BIG", tables.bigEntries, true);
  snapshot.seeding.ms = seeded.ms;
  snapshot.seeding.retries = seeded.retries;
  say(
    `  seeded ${tables.bigEntries.length} entries in ${(seeded.ms / 1000).toFixed(1)} s ` +
      `(${Math.round(tables.bigEntries.length / (seeded.ms / 1000))} puts/s` +
      `${seeded.retries > 0 ? `, ${seeded.retries} batch retries` : ""})`,
  );
}

async function main(): Promise<number> {
  const settings = parseSettings();
  const machine = describeMachine();
  for (const line of headerLines(machine, settings)) console.log(line);
  const wants = (part: string): boolean => settings.only.length === 0 || settings.only.includes(part);
  mkdirSync(BUILD_DIR, { recursive: true });

  const builds = await buildWorkers();
  const tables = buildTables(settings.bigRoutes);
  const ctx = new ScenarioContext(tables);
  const scenarios = selectScenarios(allScenarios(ctx, settings.bigRoutes), settings.only);
  const mixedS = wants("mixed") ? settings.mixedS : 0;
  const kvDir = makeKvDir();
  const outcome: RunOutcome = {
    machine,
    settings,
    compatibility: { date: builds.compatibilityDate, flags: builds.compatibilityFlags },
    storage: kvDir.storage,
    seeding: undefined,
    results: [],
    ratios: [],
    coldStart: undefined,
    importLive: undefined,
    statsRead: undefined,
    mixed: undefined,
    counters: undefined,
    failed: false,
    fatal: [],
  };
  const fail = (err: unknown): void => {
    outcome.failed = true;
    outcome.fatal.push(describeError(err));
    console.error(`benchmark aborted: ${outcome.fatal[0]}`);
  };

  // Cold start first, before workerd and the load generator compete for the CPU.
  if (wants("cold")) {
    try {
      outcome.coldStart = await measureColdStart(settings.startupRuns);
    } catch (err) {
      fail(err);
    }
  }

  const origin = await startOrigin(builds.originJs);
  const originUrl = `http://127.0.0.1:${origin.port}`;
  say(`origin (Auth0 stand-in) listening on ${originUrl}`);
  // autocannon in a thread of its own: Miniflare parses every Worker log line on this one.
  const generator = await LoadGenerator.start(builds.loadJs);
  const logs = new LogTally();
  const snapshot = new KvSnapshot(tables.bigEntries, machine.miniflare, kvDir.persist);
  const needBig = scenarios.some((s) => s.worker.includes("100k"));
  if (needBig) outcome.seeding = snapshot.seeding;
  let workerd: Workerd | undefined;
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    await Promise.allSettled([workerd?.mf.dispose(), origin.close(), generator.close()]);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: stopping`);
    void cleanup()
      .finally(kvDir.remove)
      .finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  let mixed: MixedScenario | undefined;
  try {
    if (needBig) await snapshot.restore(settings.freshKv);
    const adminToken = newAdminToken();
    workerd = await startWorkerd({
      builds,
      originUrl,
      kvPersist: kvDir.persist,
      logs,
      adminToken,
      mixedRouteCacheSeconds: MIXED_ROUTE_CACHE_SECONDS,
    });
    const workerdPids = descendantsNamed("workerd");
    if (workerdPids.length === 0) say("workerd's pid not found: CPU per request is not measured");
    await seedTables(workerd, tables, snapshot, needBig);

    // "mixed" is seeded first: the writer's KV write-through (partly in 2 s alarms) then runs
    // during the warm-ups below, and has finished before anything is measured.
    mixed =
      mixedS > 0
        ? new MixedScenario({
            base: workerd.urls["router-mixed"],
            adminToken,
            routes: settings.mixedRoutes,
            connections: settings.connections,
            warmupSeconds: settings.warmupS,
            durationSeconds: mixedS,
            changeEveryMs: settings.mixedIntervalMs,
            authorizePath: AUTHORIZE_PATH,
            generator,
          })
        : undefined;
    await mixed?.seed();

    const measure: MeasureOptions = { settings, urls: workerd.urls, origin, logs, workerdPids, generator };
    const preflight = await preflightAndWarmUp(scenarios, measure);
    if ([...preflight.values()].some((p) => p.length > 0)) outcome.failed = true;
    if (mixed !== undefined && (await mixed.settleAndPreflight()).length > 0) outcome.failed = true;
    await sleep(300);
    if (scenarios.length > 0) outcome.results = await measureRounds(scenarios, preflight, measure);
    if (outcome.results.some((r) => r.errors > 0)) outcome.failed = true;

    if (mixed !== undefined) {
      const run = await runMixed(mixed, logs, mixedS);
      outcome.mixed = run.result;
      outcome.counters = run.counters;
      if (run.failed) outcome.failed = true;
    }

    // Last: 10 000 routes' KV writes would weigh on anything measured beside them.
    if (wants("import") && settings.importRoutes > 0) {
      outcome.importLive = await measureImportLive(workerd.urls["router-import"], adminToken, settings.importRoutes);
      if (outcome.importLive.problems.length > 0 || outcome.importLive.sampledOk < 50) outcome.failed = true;
    }
    // On the import's router (its 10 000 routes, or imported there): /stats over 24 h of counts.
    if (wants("stats")) {
      outcome.statsRead = await measureStatsRead(
        workerd.urls["router-import"],
        workerd.urls.seeder,
        adminToken,
        settings.importRoutes > 0 ? settings.importRoutes : 10_000,
      );
    }
  } catch (err) {
    fail(err);
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await cleanup();
    // A freshly seeded KV (workerd has exited, so its files are complete) is kept for the next run.
    if (needBig && outcome.fatal.length === 0) await snapshot.saveIfSeeded();
    kvDir.remove();
  }

  outcome.ratios = ratioRows(new Map(outcome.results.map((r) => [r.id, r.rounds])));
  console.log("");
  if (outcome.results.length > 0) {
    for (const l of roundsReport(outcome.results, outcome.ratios, settings.rounds, settings.durationS)) console.log(l);
    console.log("");
  }
  if (outcome.coldStart !== undefined) {
    for (const l of coldStartReport(outcome.coldStart)) console.log(l);
    console.log("");
  }
  const live = outcome.importLive;
  if (live !== undefined) {
    console.log(
      `import of ${live.routes} routes through the API (${live.kvKeys} KV writes queued after its answer): answered in ` +
        `${fmt(live.importMs / 1000, 1)} s; last route live ${fmt(live.lastRouteLiveMs / 1000, 1)} s; fully live ` +
        `(no KV write pending) ${fmt(live.fullyLiveMs / 1000, 1)} s after it was sent; ${live.sampledOk}/50 sampled routes right` +
        (live.problems.length > 0 ? `; problems: ${live.problems.join("; ")}` : ""),
    );
    console.log("");
  }
  if (outcome.statsRead !== undefined) {
    console.log(statsReadLine(outcome.statsRead));
    console.log("");
  }
  for (const l of noteLines(outcome)) console.log(l);
  if (outcome.mixed !== undefined) {
    console.log("");
    const byId = new Map(outcome.results.map((r) => [r.id, r]));
    for (const l of mixedReport(outcome.mixed, byId.get("c-bare"), byId.get("c"))) console.log(l);
    const c = outcome.counters;
    if (c !== undefined) {
      console.log(
        `traffic counters: ${c.counted} callbacks recorded of ${c.decided} decided ` +
          `(${fmt(c.perSecond, 0)} callbacks/s sustained through the counters, ${c.counted === c.decided ? "none lost" : "MISMATCH"})`,
      );
    }
  }
  if (logs.stderr.length > 0) console.log(`workerd stderr (first lines):\n  ${logs.stderr.slice(0, 10).join("\n  ")}`);
  const file = writeResultsJson(outcome);
  console.log(`results: ${file}; total ${elapsed()}; ${outcome.failed ? "FAILED (see above)" : "no errors"}`);
  return outcome.failed ? 1 : 0;
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
