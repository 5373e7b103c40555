/** The printed tables of the interleaved scenarios: medians per scenario, ratios of medians. */
import type { PairRatio } from "./rounds";
import type { ScenarioResult } from "./scenario";
import { fmt, formatTable } from "./util";

/** The scenario pairs compared. */
export const RATIO_PAIRS: ReadonlyArray<{ name: string; of: string; to: string }> = [
  { name: "(c)/(c')  router vs bare pass-through", of: "c", to: "c-bare" },
  { name: "(a)/(c)   307 decision vs pass-through", of: "a", to: "c" },
  { name: "(a 100k)/(a 10)  random conn: mostly KV reads", of: "a-100k", to: "a" },
  { name: "(a 100k hot)/(a 10)  both isolate-cache hits", of: "a-100k-hot", to: "a" },
  { name: "(a 100k)/(a 10)  no isolate cache: table size alone", of: "a-100k-nocache", to: "a-nocache" },
  { name: "(b)/(c)   8 KB POST forward vs GET forward", of: "b", to: "c" },
];

function range(values: readonly number[]): string {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length === 0 ? "-" : `${fmt(Math.min(...finite))}–${fmt(Math.max(...finite))}`;
}

export function roundsReport(
  results: readonly ScenarioResult[],
  ratios: readonly PairRatio[],
  rounds: number,
  durationSeconds: number,
): string[] {
  const lines = [
    `Figures are medians of ${rounds} interleaved rounds (${durationSeconds}s per scenario per round, order ` +
      `alternating forward/backward); "requests" and "errors" are totals over the rounds.`,
  ];
  lines.push(
    ...formatTable(
      ["scenario", "requests", "req/s", "p50 ms", "p99 ms", "errors", "p50 ms by round"],
      results.map((r) => [
        r.label,
        String(r.requests),
        fmt(r.reqPerSec, 0),
        fmt(r.p50Ms),
        fmt(r.p99Ms),
        String(r.errors),
        r.rounds.map((s) => fmt(s.p50Ms)).join(" "),
      ]),
    ),
  );
  lines.push("");
  lines.push(
    `Ratios of the medians above; "p50 ratio by round" is the same ratio within each round (min–max over ${rounds}).`,
  );
  lines.push(
    ...formatTable(
      ["ratio of medians", "req/s", "p50", "p99", "p50 ratio by round"],
      ratios.map((r) => [r.name, fmt(r.reqPerSec), fmt(r.p50), fmt(r.p99), range(r.perRound.p50)]),
    ),
  );
  return lines;
}
