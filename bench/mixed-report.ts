/** What the "mixed" scenario reports (bench/mixed.ts), and its lines in the printed report. */
import type { Medians } from "./rounds";
import type { ChangeSummary } from "./table-changes";
import { fmt, formatTable } from "./util";

export const KINDS = ["redirect", "legacy-post", "pass-through"] as const;
export type MixedKind = (typeof KINDS)[number];

export interface KindResult {
  label: string;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  statusCounts: Record<string, number>;
  errors: number;
}

export interface ErrorBreakdown {
  status5xx: number;
  /** Callbacks answered neither 307 nor 200; pass-through answered other than 200 (5xx excluded). */
  wrongStatus: number;
  /** 307s whose Location is not https on the allow-listed target host. */
  badLocation: number;
  /** Responses the harness could not attribute to a request kind. */
  unclassified: number;
  timeouts: number;
  socketErrors: Record<string, number>;
}

/** The measured load. */
export interface MixedLoad {
  seconds: number;
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  errorBreakdown: ErrorBreakdown;
  errorExamples: string[];
  kinds: Record<MixedKind, KindResult>;
  /** Forwarded POSTs whose origin saw a different number of body bytes than were sent (a warning). */
  bodyMismatches: number;
}

export interface AfterRun {
  expectedCounts: Record<string, number>;
  apiCounts: Record<string, number> | undefined;
  kvSettleMs: number;
  sampled: number;
  converged: number;
  problems: string[];
}

export interface MixedResult extends MixedLoad {
  routes: { total: number; migrated: number; legacy: number; rollout: number };
  seed: { importStatus: number; importMs: number; kvSettleMs: number };
  settings: {
    connections: number;
    warmupSeconds: number;
    durationSeconds: number;
    changeEveryMs: number;
    routeCacheSeconds: number;
    shares: Record<MixedKind, number>;
  };
  api: ChangeSummary;
  afterRun: AfterRun;
  preflightProblems: string[];
  workerDecisions: Record<string, number>;
  workerProblems: Record<string, number>;
  failed: boolean;
}

export function mixedFailed(r: Omit<MixedResult, "failed">): boolean {
  return (
    r.errors > 0 ||
    r.api.non2xx > 0 ||
    r.api.problems.length > 0 ||
    r.afterRun.problems.length > 0 ||
    r.preflightProblems.length > 0
  );
}

/** The report lines; `bare` and `router` are the pass-through medians of the interleaved rounds. */
export function mixedReport(r: MixedResult, bare: Medians | undefined, router: Medians | undefined): string[] {
  const lines: string[] = [];
  const s = r.settings;
  lines.push(
    `mixed: ${r.routes.total} routes (${r.routes.migrated} migrated, ${r.routes.legacy} legacy, ${r.routes.rollout} rollout) ` +
      `imported through the API; ${s.connections} connections, ${s.warmupSeconds}s warm-up + ${s.durationSeconds}s measured ` +
      `(one run, not rounds), router isolate cache ${s.routeCacheSeconds}s`,
  );
  const rows = [
    ["all", String(r.requests), fmt(r.reqPerSec, 0), fmt(r.p50Ms), fmt(r.p99Ms), String(r.errors), ""],
    ...KINDS.map((k) => {
      const x = r.kinds[k];
      const statuses = Object.entries(x.statusCounts)
        .map(([status, n]) => `${status}×${n}`)
        .join(" ");
      const share = `${fmt((100 * x.requests) / Math.max(1, r.requests), 0)}%`;
      return [
        `${k}: ${x.label}`,
        `${x.requests} (${share})`,
        fmt(x.requests / r.seconds, 0),
        fmt(x.p50Ms),
        fmt(x.p99Ms),
        String(x.errors),
        statuses,
      ];
    }),
  ];
  lines.push(...formatTable(["mixed", "requests", "req/s", "p50 ms", "p99 ms", "errors", "statuses"], rows));
  const b = r.errorBreakdown;
  lines.push(
    `errors: ${r.errors} (5xx ${b.status5xx}, other status ${b.wrongStatus}, Location off the allow-list ${b.badLocation}, ` +
      `timeouts ${b.timeouts}, socket ${JSON.stringify(b.socketErrors)}, unclassified ${b.unclassified})` +
      (r.errorExamples.length > 0 ? `; e.g. ${r.errorExamples.slice(0, 3).join("; ")}` : ""),
  );
  const a = r.api;
  lines.push(
    `API changes applied during the run: ${a.changes} (${a.patches} PATCH /routes/{connection}, ${a.settingsChanges} PUT /settings), ` +
      `statuses ${JSON.stringify(a.statusCounts)}, non-2xx ${a.non2xx}; API latency p50 ${fmt(a.p50Ms)} ms, max ${fmt(a.maxMs)} ms`,
  );
  lines.push(`settings changes: ${a.settingsTimeline.join(", ")}`);
  const decisions = Object.entries(r.workerDecisions)
    .sort((x, y) => y[1] - x[1])
    .map(([d, n]) => `${d}×${n}`)
    .join(", ");
  lines.push(`router decisions (Worker log): ${decisions === "" ? "none logged" : decisions}`);
  const ar = r.afterRun;
  lines.push(
    `after the run: API route counts ${JSON.stringify(ar.apiCounts)} (changes made imply ${JSON.stringify(ar.expectedCounts)}), ` +
      `KV settled in ${fmt(ar.kvSettleMs / 1000, 1)} s, ${ar.converged}/${ar.sampled} flipped connections answered by their final state`,
  );
  const pass = r.kinds["pass-through"];
  const ratio = (x: number, y: number | undefined): string => fmt(y === undefined || y === 0 ? NaN : x / y);
  lines.push(
    `mixed pass-through vs (c') bare Worker (median of the rounds above): p50 ${ratio(pass.p50Ms, bare?.p50Ms)}, ` +
      `p99 ${ratio(pass.p99Ms, bare?.p99Ms)}; vs (c) router pass-through alone: p50 ${ratio(pass.p50Ms, router?.p50Ms)}, ` +
      `p99 ${ratio(pass.p99Ms, router?.p99Ms)} (mixed load includes 8 KB POSTs and API writes: not like for like)`,
  );
  if (r.bodyMismatches > 0) {
    lines.push(`! mixed: ${r.bodyMismatches} forwarded POSTs reached the origin with a different body size`);
  }
  for (const p of [...r.preflightProblems.map((x) => `preflight: ${x}`), ...a.problems, ...ar.problems]) {
    lines.push(`! mixed: ${p}`);
  }
  if (Object.keys(r.workerProblems).length > 0) {
    lines.push(`! mixed: Worker logged problems ${JSON.stringify(r.workerProblems)}`);
  }
  lines.push(`mixed: ${r.failed ? "FAILED" : "ok (0 errors, every API change 2xx)"}`);
  return lines;
}
