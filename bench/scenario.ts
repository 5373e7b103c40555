/**
 * The fixed-load scenarios' shapes, one measured run of one (a Measurement),
 * and a scenario's result over its interleaved rounds (medians, summed counts).
 */
import type { RequestSpec } from "autocannon";
import type { CacheSimulation, CacheTally } from "./cache-sim";
import type { LoadSpec, PathChoices, RunStats } from "./load";
import { mediansOf, sampleOf, type RoundSample } from "./rounds";
import { addCounts } from "./util";

export type WorkerName =
  | "router"
  | "router-100k"
  | "router-nocache"
  | "router-100k-nocache"
  | "router-noevidence"
  | "router-mixed"
  | "router-import"
  | "admin-mixed"
  | "admin-import"
  | "bare"
  | "minimal"
  | "seeder";

export interface Scenario {
  id: string;
  label: string;
  worker: WorkerName;
  expectStatus: number;
  /** The router's logged decision reason every callback should have (callbacks only). */
  expectReason?: string;
  usesOrigin: boolean;
  /** Concurrent connections when not --connections (the 2 MiB POSTs: fewer, on both sides of the pair). */
  connections?: number;
  /** Method, path, headers and body (plain data: the load generator runs in its own thread). */
  request: RequestSpec;
  /** Each request's path, drawn at random; `request.path` when absent. */
  paths?: PathChoices;
  /** Mirrors the Worker's isolate cache: every run's picks (`paths.choices`) are replayed into it. */
  cache?: CacheSimulation;
  /** Counts the estimated isolate-cache hits of this scenario's measured runs. */
  cacheTally?: CacheTally;
  /** Sends a few requests the way the load will and checks the answers in detail. */
  preflight(base: URL): Promise<string[]>;
}

/** What the load generator needs of a scenario (plain data, to cross to its thread). */
export function loadSpecOf(scenario: Scenario, connections: number): LoadSpec {
  return {
    connections: scenario.connections ?? connections,
    expectStatus: scenario.expectStatus,
    request: scenario.request,
    ...(scenario.paths === undefined ? {} : { paths: scenario.paths }),
  };
}

/**
 * Replays a run's requests into the scenario's isolate-cache mirror, in order and at the
 * times they were built, counting into `tally` when given (measured runs).
 */
export function replayCacheReads(scenario: Scenario, stats: RunStats, tally: CacheTally | undefined): void {
  const { cache, paths } = scenario;
  const picks = stats.picks;
  if (cache === undefined || paths === undefined || picks === undefined) return;
  for (let i = 0; i < picks.count; i++) {
    cache.access(paths.choices[picks.index[i] ?? 0] ?? "", tally, picks.atMs[i]);
  }
}

/** One measured run of one scenario (one round). */
export interface Measurement {
  sample: RoundSample;
  wrongStatus: number;
  status5xx: number;
  timeouts: number;
  socketErrors: Record<string, number>;
  statusCounts: Record<string, number>;
  originRequests: number;
  reasons: Map<string, number>;
  problems: Map<string, number>;
  lastProblems: string[];
  autocannon: { reqPerSecAverage: number; latencyP50Ms: number; latencyP99Ms: number; non2xx: number; total: number };
}

export interface ScenarioResult {
  id: string;
  label: string;
  worker: string;
  /** How reqPerSec, p50Ms, … were formed from the rounds. */
  aggregation: string;
  /** Responses over all rounds. */
  requests: number;
  seconds: number;
  reqPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  cpuUsPerRequest: number;
  generatorUsPerRequest: number;
  mainUsPerRequest: number;
  rounds: RoundSample[];
  errors: number;
  wrongStatus: number;
  status5xx: number;
  timeouts: number;
  socketErrors: Record<string, number>;
  statusCounts: Record<string, number>;
  originRequests: number;
  workerDecisions: Record<string, number>;
  workerProblems: Record<string, number>;
  isolateCacheEstimate?: { hits: number; misses: number; hitRate: number; distinctConnections: number };
  autocannon: Array<Measurement["autocannon"]>;
  preflightProblems: string[];
  warnings: string[];
}

export function measurementOf(
  stats: RunStats,
  round: number,
  slot: number,
  originRequests: number,
  logs: { reasons: Map<string, number>; problemEvents: Map<string, number>; lastProblems: string[] },
  workerdCpuSeconds: number,
  mainThreadCpuUs: number,
): Measurement {
  return {
    sample: sampleOf(stats, round, slot, workerdCpuSeconds, mainThreadCpuUs),
    wrongStatus: stats.wrongStatus,
    status5xx: stats.status5xx,
    timeouts: stats.timeouts,
    socketErrors: stats.socketErrors,
    statusCounts: stats.statusCounts,
    originRequests,
    reasons: new Map(logs.reasons),
    problems: new Map(logs.problemEvents),
    lastProblems: [...logs.lastProblems],
    autocannon: {
      reqPerSecAverage: stats.autocannon.requests.average,
      latencyP50Ms: stats.autocannon.latency.p50,
      latencyP99Ms: stats.autocannon.latency.p99,
      non2xx: stats.autocannon.non2xx,
      total: stats.autocannon.requests.total,
    },
  };
}

export function errorCount(m: Pick<Measurement, "wrongStatus" | "timeouts" | "socketErrors">): number {
  return m.wrongStatus + m.timeouts + Object.values(m.socketErrors).reduce((a, b) => a + b, 0);
}

/** A scenario over its rounds: medians of the per-round figures, counts summed, checks on the sums. */
export function aggregate(
  scenario: Scenario,
  runs: readonly Measurement[],
  options: { durationSeconds: number; connections: number; preflightProblems: string[] },
): ScenarioResult {
  const samples = runs.map((m) => m.sample);
  const sum = (f: (m: Measurement) => number): number => runs.reduce((a, m) => a + f(m), 0);
  const socketErrors: Record<string, number> = {};
  const statusCounts: Record<string, number> = {};
  const reasons: Record<string, number> = {};
  const problems: Record<string, number> = {};
  for (const m of runs) {
    addCounts(socketErrors, m.socketErrors);
    addCounts(statusCounts, m.statusCounts);
    addCounts(reasons, m.reasons);
    addCounts(problems, m.problems);
  }
  const requests = sum((m) => m.sample.requests);
  const originRequests = sum((m) => m.originRequests);
  const warnings: string[] = [];
  if (scenario.expectReason !== undefined) {
    const expected = scenario.expectReason;
    const other = Object.entries(reasons).filter(([reason]) => reason !== expected);
    if (other.length > 0) {
      warnings.push(`router decided ${other.map(([r, n]) => `${r}×${n}`).join(", ")} (expected only ${expected})`);
    }
    if ((reasons[expected] ?? 0) === 0) warnings.push(`no "${expected}" decisions in the Worker log`);
  }
  if (!scenario.usesOrigin && originRequests > 0) {
    warnings.push(`${originRequests} requests reached the origin (expected none)`);
  }
  if (scenario.usesOrigin && Math.abs(originRequests - requests) > options.connections * runs.length) {
    warnings.push(`the origin saw ${originRequests} requests for ${requests} responses`);
  }
  if (Object.keys(problems).length > 0) {
    const example = runs.find((m) => m.lastProblems.length > 0)?.lastProblems[0] ?? "";
    warnings.push(`Worker logged problems: ${JSON.stringify(problems)}; e.g. ${example}`);
  }
  const wrongStatus = sum((m) => m.wrongStatus);
  const timeouts = sum((m) => m.timeouts);
  const result: ScenarioResult = {
    id: scenario.id,
    label: scenario.label,
    worker: scenario.worker,
    aggregation: `median of ${runs.length} interleaved rounds of ${options.durationSeconds}s`,
    requests,
    seconds: sum((m) => m.sample.seconds),
    ...mediansOf(samples),
    rounds: samples,
    errors: errorCount({ wrongStatus, timeouts, socketErrors }),
    wrongStatus,
    status5xx: sum((m) => m.status5xx),
    timeouts,
    socketErrors,
    statusCounts,
    originRequests,
    workerDecisions: reasons,
    workerProblems: problems,
    autocannon: runs.map((m) => m.autocannon),
    preflightProblems: options.preflightProblems,
    warnings,
  };
  const tally = scenario.cacheTally;
  if (tally !== undefined) {
    result.isolateCacheEstimate = {
      hits: tally.hits,
      misses: tally.misses,
      hitRate: tally.hitRate,
      distinctConnections: tally.distinct.size,
    };
  }
  return result;
}
