/**
 * The fixed-load scenarios: a preflight (a few requests checked in detail) and
 * a warm-up each, then every scenario once per round in interleaved rounds
 * (bench/rounds.ts), with the Worker log, the origin's request count and
 * workerd's CPU time taken around every measured run.
 */
import { cpuSeconds } from "./cpu";
import type { LoadGenerator } from "./load-generator";
import type { LogTally } from "./logs";
import type { OriginHandle } from "./origin";
import { runInterleaved } from "./rounds";
import {
  aggregate,
  errorCount,
  loadSpecOf,
  measurementOf,
  replayCacheReads,
  type Measurement,
  type Scenario,
  type ScenarioResult,
  type WorkerName,
} from "./scenario";
import type { Settings } from "./settings";
import { fmt, say, sleep } from "./util";

export interface MeasureOptions {
  settings: Settings;
  urls: Record<WorkerName, URL>;
  origin: OriginHandle;
  logs: LogTally;
  /** workerd's pids (bench/cpu.ts). */
  workerdPids: number[];
  /** autocannon, in its own thread (bench/load-generator.ts). */
  generator: LoadGenerator;
}

/** Preflight problems by scenario id; every scenario warmed up. */
export async function preflightAndWarmUp(scenarios: Scenario[], o: MeasureOptions): Promise<Map<string, string[]>> {
  const problemsById = new Map<string, string[]>();
  for (const scenario of scenarios) {
    const base = o.urls[scenario.worker];
    const problems = await scenario.preflight(base);
    problemsById.set(scenario.id, problems);
    if (problems.length > 0) say(`${scenario.id}: PREFLIGHT FAILED: ${problems.slice(0, 3).join("; ")}`);
    say(`${scenario.id}: warm-up ${o.settings.warmupS}s`);
    const stats = await o.generator.run(base, loadSpecOf(scenario, o.settings.connections), o.settings.warmupS);
    replayCacheReads(scenario, stats, undefined);
    await settle(o.origin, o.logs);
  }
  return problemsById;
}

/**
 * Waits until neither the origin's request count nor the Worker's log has
 * moved for 300 ms (at most 10 s): requests the load generator left in flight
 * (a 2 MiB POST takes a while) land before the next scenario starts.
 */
async function settle(origin: OriginHandle, logs: LogTally): Promise<void> {
  const deadline = performance.now() + 10_000;
  const progress = async (): Promise<number> => (await origin.requests()) + logs.lines;
  let last = await progress();
  while (performance.now() < deadline) {
    await sleep(300);
    const now = await progress();
    if (now === last) return;
    last = now;
  }
}

export async function measureRounds(
  scenarios: Scenario[],
  preflightProblems: Map<string, string[]>,
  o: MeasureOptions,
): Promise<ScenarioResult[]> {
  const { rounds, durationS, connections } = o.settings;
  const measurements = await runInterleaved(
    scenarios,
    rounds,
    async (scenario, round, slot): Promise<Measurement> => {
      o.logs.reset();
      const originBefore = await o.origin.requests();
      const cpuBefore = cpuSeconds(o.workerdPids);
      const mainBefore = process.threadCpuUsage();
      const stats = await o.generator.run(o.urls[scenario.worker], loadSpecOf(scenario, connections), durationS);
      const cpu = cpuSeconds(o.workerdPids) - cpuBefore;
      const main = process.threadCpuUsage(mainBefore);
      replayCacheReads(scenario, stats, scenario.cacheTally);
      // Requests still in flight when the load stopped finish here, not in the next scenario.
      await settle(o.origin, o.logs);
      const originRequests = (await o.origin.requests()) - originBefore;
      const m = measurementOf(stats, round, slot, originRequests, o.logs, cpu, main.user + main.system);
      say(
        `  ${scenario.id.padEnd(14)} ${String(stats.responses).padStart(6)} req, ${fmt(m.sample.reqPerSec, 0).padStart(5)} req/s, ` +
          `p50 ${fmt(m.sample.p50Ms)} ms, p99 ${fmt(m.sample.p99Ms)} ms, CPU µs/req: workerd ${fmt(m.sample.cpuUsPerRequest, 0)}, ` +
          `autocannon ${fmt(m.sample.generatorUsPerRequest, 0)}, main ${fmt(m.sample.mainUsPerRequest, 0)}, ` +
          `errors ${errorCount(m)}`,
      );
      return m;
    },
    (round, order) => say(`round ${round}/${rounds} (${durationS}s each): ${order.map((s) => s.id).join(" -> ")}`),
  );
  return scenarios.map((scenario) =>
    aggregate(scenario, measurements.get(scenario.id) ?? [], {
      durationSeconds: durationS,
      connections,
      preflightProblems: preflightProblems.get(scenario.id) ?? [],
    }),
  );
}
