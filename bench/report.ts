/**
 * The printed tables of the interleaved scenarios: medians per scenario, then
 * every ratio in one table, each against its target from issue 11 (ratios of
 * medians; per-round ranges show how much a ratio moved between rounds).
 */
import { ROUTER_GZIP_BUDGET } from "../scripts/bundle-size.mjs";
import type { ColdStart } from "./cold-start";
import { pairRatio, type PairRatio, type RoundSample } from "./rounds";
import type { ScenarioResult } from "./scenario";
import { fmt, formatTable } from "./util";

/** A req/s ratio and the least it must be (undefined: reported, no target). */
interface RatioSpec {
  name: string;
  of: string;
  to: string;
  atLeast?: number;
  /** The target as the issue words it. */
  target?: string;
}

/** Scenario pairs, each `of` measured against `to` in the same rounds. */
export const RATIO_PAIRS: readonly RatioSpec[] = [
  { name: "307 decision vs minimal redirect Worker", of: "a", to: "a-min", atLeast: 0.9, target: ">= 0.90x" },
  { name: "pass-through vs bare forward", of: "c", to: "c-bare", atLeast: 0.95, target: ">= 0.95x" },
  { name: "legacy forward (8 KB POST) vs bare forward", of: "b", to: "b-bare", atLeast: 0.95, target: ">= 0.95x" },
  { name: "fallback forward vs bare forward", of: "f", to: "f-bare", atLeast: 0.95, target: ">= 0.95x" },
  { name: "SAML 8 KB identified from body vs bare", of: "s8", to: "s8-bare", atLeast: 0.8, target: ">= 0.80x" },
  { name: "SAML 2 MiB identified from body vs bare", of: "s2m", to: "s2m-bare" },
  {
    name: "decision 100 000 vs 10 routes, cache hits",
    of: "a-100k-hot",
    to: "a",
    atLeast: 1 / 1.05,
    target: "cost <= 1.05x",
  },
  {
    name: "decision 100 000 vs 10 routes, no isolate cache",
    of: "a-100k-nocache",
    to: "a-nocache",
    atLeast: 1 / 1.05,
    target: "cost <= 1.05x",
  },
  { name: "100 000 routes random conn (KV reads) vs 10 cached", of: "a-100k", to: "a" },
  { name: "307 decision vs router pass-through", of: "a", to: "c" },
  // What recording each login's evidence costs (issue 20: within 3 %), in the same rounds.
  { name: "307 with evidence vs without", of: "a", to: "a-noev", atLeast: 0.97, target: ">= 0.97x" },
  { name: "legacy forward with evidence vs without", of: "b", to: "b-noev", atLeast: 0.97, target: ">= 0.97x" },
];

export interface RatioRow extends PairRatio {
  atLeast?: number;
  target?: string;
  /** req/s ratio >= atLeast. */
  met?: boolean;
  /** The same target on workerd CPU per request: to's CPU / of's CPU >= atLeast. */
  metOnCpu?: boolean;
}

const ratioOfRatios = (name: string, x: PairRatio, y: PairRatio): PairRatio => {
  const div = (a: number, b: number): number => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN);
  const zip = (a: number[], b: number[]): number[] => a.map((v, i) => div(v, b[i] ?? NaN));
  return {
    name,
    of: `${x.of}/${x.to}`,
    to: `${y.of}/${y.to}`,
    reqPerSec: div(x.reqPerSec, y.reqPerSec),
    p50: div(x.p50, y.p50),
    p99: div(x.p99, y.p99),
    cpu: div(x.cpu, y.cpu),
    perRound: {
      reqPerSec: zip(x.perRound.reqPerSec, y.perRound.reqPerSec),
      p50: zip(x.perRound.p50, y.perRound.p50),
      p99: zip(x.perRound.p99, y.perRound.p99),
      cpu: zip(x.perRound.cpu, y.perRound.cpu),
    },
  };
};

/** Every ratio, in RATIO_PAIRS order, plus "2 MiB vs 8 KB" (router/bare of each) after the SAML pairs. */
export function ratioRows(samples: ReadonlyMap<string, readonly RoundSample[]>): RatioRow[] {
  const rows: RatioRow[] = [];
  for (const spec of RATIO_PAIRS) {
    if (!samples.has(spec.of) || !samples.has(spec.to)) continue;
    const r = pairRatio(spec.name, spec.of, spec.to, samples);
    rows.push(withVerdict(r, spec.atLeast, spec.target));
    if (spec.of === "s2m") {
      const s8 = rows.find((x) => x.of === "s8");
      if (s8 !== undefined) {
        // "A 2 MiB one costs no more than an 8 KB one": its router/bare ratio is no lower (5 % for noise).
        rows.push(withVerdict(ratioOfRatios("SAML 2 MiB vs 8 KB (router/bare of each)", r, s8), 0.95, "no lower"));
      }
    }
  }
  return rows;
}

function withVerdict(r: PairRatio, atLeast: number | undefined, target: string | undefined): RatioRow {
  if (atLeast === undefined) return r;
  return {
    ...r,
    atLeast,
    target,
    met: Number.isFinite(r.reqPerSec) ? r.reqPerSec >= atLeast : undefined,
    metOnCpu: Number.isFinite(r.cpu) && r.cpu > 0 ? 1 / r.cpu >= atLeast : undefined,
  };
}

function range(values: readonly number[]): string {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length === 0 ? "-" : `${fmt(Math.min(...finite))}–${fmt(Math.max(...finite))}`;
}

const verdict = (met: boolean | undefined): string => (met === undefined ? "" : met ? "met" : "NOT met");

export function roundsReport(
  results: readonly ScenarioResult[],
  ratios: readonly RatioRow[],
  rounds: number,
  durationSeconds: number,
): string[] {
  const lines = [
    `Figures are medians of ${rounds} interleaved rounds (${durationSeconds}s per scenario per round, order ` +
      `alternating forward/backward); "requests" and "errors" are totals over the rounds. "CPU µs/req": workerd's ` +
      "CPU time over the run / responses (all Workers share one workerd; the origin and autocannon are not in it). " +
      '"gen" and "main": the same for the load generator\'s thread (autocannon) and for the main thread, which ' +
      'handles the Workers\' log lines (Miniflare parses each; bench/README.md, "Where things run").',
  ];
  lines.push(
    ...formatTable(
      ["scenario", "requests", "req/s", "p50 ms", "p99 ms", "CPU µs/req", "gen", "main", "errors", "req/s by round"],
      results.map((r) => [
        r.label,
        String(r.requests),
        fmt(r.reqPerSec, 0),
        fmt(r.p50Ms),
        fmt(r.p99Ms),
        fmt(r.cpuUsPerRequest, 0),
        fmt(r.generatorUsPerRequest, 0),
        fmt(r.mainUsPerRequest, 0),
        String(r.errors),
        r.rounds.map((s) => fmt(s.reqPerSec, 0)).join(" "),
      ]),
    ),
  );
  lines.push("");
  lines.push(
    "Every ratio (of/to), ratios of the medians above. The issue's targets are on req/s; CPU/req is the " +
      "inverse view (lower is cheaper) and moves far less with the machine's load, so each target is also " +
      `judged on it (to's CPU / of's CPU). "by round": the req/s ratio within each round (min–max over ${rounds}).`,
  );
  lines.push(
    ...formatTable(
      ["ratio", "of/to", "req/s", "p50", "p99", "CPU/req", "req/s by round", "target", "on req/s", "on CPU"],
      ratios.map((r) => [
        r.name,
        `${r.of}/${r.to}`,
        fmt(r.reqPerSec),
        fmt(r.p50),
        fmt(r.p99),
        fmt(r.cpu),
        range(r.perRound.reqPerSec),
        r.target ?? "",
        verdict(r.met),
        verdict(r.metOnCpu),
      ]),
    ),
  );
  return lines;
}

/** Bundle size and startup CPU, with the bundle target. */
export function coldStartReport(c: ColdStart): string[] {
  const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
  const lines = [
    ...formatTable(
      ["cold start", "figure", "target", "verdict"],
      [
        [
          `router upload (${c.bundle.config}: ${c.bundle.file}), gzip -9`,
          `${kib(c.bundle.gzipBytes)} (${kib(c.bundle.rawBytes)} raw)`,
          `<= ${ROUTER_GZIP_BUDGET / 1024} KiB`,
          c.bundle.gzipBytes <= ROUTER_GZIP_BUDGET ? "met" : "NOT met",
        ],
        c.admin === undefined
          ? ["admin upload (wrangler.admin.toml)", "not measured", "reported", ""]
          : [
              `admin upload (${c.admin.config}: ${c.admin.file}), gzip -9; not in front of sign-in`,
              `${kib(c.admin.gzipBytes)} (${kib(c.admin.rawBytes)} raw)`,
              "reported",
              "",
            ],
        c.startup === undefined
          ? ["startup CPU (wrangler check startup)", "not measured", "reported", ""]
          : [
              `router startup CPU (wrangler check startup), least of ${c.startup.runs} runs`,
              `${c.startup.minMs.toFixed(1)} ms (median ${c.startup.medianMs.toFixed(1)}; runs: ` +
                `${c.startup.busyMs.map((v) => v.toFixed(1)).join(", ")})`,
              "reported",
              "",
            ],
      ],
    ),
  ];
  for (const [name, upload] of [
    ["router", c.bundle],
    ["admin", c.admin],
  ] as const) {
    if (upload === undefined) continue;
    lines.push(
      `${name} bundle composition (minified bytes, wrangler's esbuild metafile): ` +
        upload.byModule
          .slice(0, 10)
          .map(([m, b]) => `${m} ${kib(b)}`)
          .join(", "),
    );
  }
  if (c.startup !== undefined) {
    lines.push(
      "router startup CPU by module (median run): " +
        c.startup.byModule
          .slice(0, 8)
          .map(([m, ms]) => `${m} ${ms.toFixed(1)} ms`)
          .join(", "),
    );
  }
  for (const p of c.problems) lines.push(`! cold start: ${p}`);
  return lines;
}
