/**
 * Interleaved rounds: on a shared machine background load comes and goes over
 * minutes, so two scenarios measured once each, minutes apart, can differ by
 * 2x for no reason of their own. Instead every scenario runs once per round,
 * round after round, and each figure is the median over the rounds; a ratio
 * is the ratio of those medians. Rounds alternate direction (A B C, C B A,
 * A B C, …), so neighbours swap places and a steady drift weighs on both
 * sides of a pair alike.
 */
import type { RunStats } from "./load";
import { median, percentile } from "./util";

/** One scenario's figures in one round. */
export interface RoundSample {
  round: number;
  /** Its slot in that round's order (0 = first). */
  slot: number;
  requests: number;
  seconds: number;
  reqPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** workerd's CPU time (user + system) over the run divided by its responses, in µs; NaN when unknown. */
  cpuUsPerRequest: number;
  /** The same for the load generator's thread (autocannon). */
  generatorUsPerRequest: number;
  /**
   * The same for the bench's main thread while the load ran: Miniflare's handling of the
   * Workers' log lines and the bench's tally of them (bench/logs.ts); NaN when not measured.
   */
  mainUsPerRequest: number;
}

export function sampleOf(
  stats: RunStats,
  round: number,
  slot: number,
  workerdCpuSeconds = NaN,
  mainThreadCpuUs = NaN,
): RoundSample {
  const perRequest = (us: number): number => (stats.responses > 0 ? us / stats.responses : NaN);
  return {
    round,
    slot,
    requests: stats.responses,
    seconds: stats.seconds,
    reqPerSec: stats.responses / stats.seconds,
    p50Ms: percentile(stats.latencies, 0.5),
    p90Ms: percentile(stats.latencies, 0.9),
    p99Ms: percentile(stats.latencies, 0.99),
    maxMs: percentile(stats.latencies, 1),
    cpuUsPerRequest: perRequest(workerdCpuSeconds * 1e6),
    generatorUsPerRequest: perRequest(stats.generatorCpuUs),
    mainUsPerRequest: perRequest(mainThreadCpuUs),
  };
}

/** Round 1, 3, … in the given order; round 2, 4, … backwards. */
export function roundOrder<T>(items: readonly T[], round: number): T[] {
  return round % 2 === 1 ? [...items] : [...items].reverse();
}

/** Runs `measure` for every scenario in every round; the results by scenario id, in round order. */
export async function runInterleaved<S extends { id: string }, R>(
  scenarios: readonly S[],
  rounds: number,
  measure: (scenario: S, round: number, slot: number) => Promise<R>,
  onRoundStart?: (round: number, order: S[]) => void,
): Promise<Map<string, R[]>> {
  const out = new Map<string, R[]>(scenarios.map((s) => [s.id, []]));
  for (let round = 1; round <= rounds; round++) {
    const order = roundOrder(scenarios, round);
    onRoundStart?.(round, order);
    for (const [slot, scenario] of order.entries()) {
      const result = await measure(scenario, round, slot);
      out.get(scenario.id)?.push(result);
    }
  }
  return out;
}

export interface Medians {
  reqPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  cpuUsPerRequest: number;
  generatorUsPerRequest: number;
  mainUsPerRequest: number;
}

export function mediansOf(samples: readonly RoundSample[]): Medians {
  return {
    reqPerSec: median(samples.map((s) => s.reqPerSec)),
    p50Ms: median(samples.map((s) => s.p50Ms)),
    p90Ms: median(samples.map((s) => s.p90Ms)),
    p99Ms: median(samples.map((s) => s.p99Ms)),
    maxMs: median(samples.map((s) => s.maxMs)),
    cpuUsPerRequest: median(samples.map((s) => s.cpuUsPerRequest)),
    generatorUsPerRequest: median(samples.map((s) => s.generatorUsPerRequest)),
    mainUsPerRequest: median(samples.map((s) => s.mainUsPerRequest)),
  };
}

export interface PairRatio {
  name: string;
  of: string;
  to: string;
  /** Ratios of the medians. */
  reqPerSec: number;
  p50: number;
  p99: number;
  /** workerd CPU per request, of over to. */
  cpu: number;
  /** The same ratios within each round (how much they move from round to round). */
  perRound: { reqPerSec: number[]; p50: number[]; p99: number[]; cpu: number[] };
}

const div = (x: number | undefined, y: number | undefined): number =>
  x !== undefined && y !== undefined && y !== 0 ? x / y : NaN;

export function pairRatio(
  name: string,
  of: string,
  to: string,
  samples: ReadonlyMap<string, readonly RoundSample[]>,
): PairRatio {
  const a = samples.get(of) ?? [];
  const b = samples.get(to) ?? [];
  const ma = mediansOf(a);
  const mb = mediansOf(b);
  const perRound = (field: "reqPerSec" | "p50Ms" | "p99Ms" | "cpuUsPerRequest"): number[] =>
    a.map((s) => div(s[field], b.find((t) => t.round === s.round)?.[field]));
  return {
    name,
    of,
    to,
    reqPerSec: div(ma.reqPerSec, mb.reqPerSec),
    p50: div(ma.p50Ms, mb.p50Ms),
    p99: div(ma.p99Ms, mb.p99Ms),
    cpu: div(ma.cpuUsPerRequest, mb.cpuUsPerRequest),
    perRound: {
      reqPerSec: perRound("reqPerSec"),
      p50: perRound("p50Ms"),
      p99: perRound("p99Ms"),
      cpu: perRound("cpuUsPerRequest"),
    },
  };
}
