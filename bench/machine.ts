/** The machine and tool versions a run is reported against, and the run's opening lines. */
import { createRequire } from "node:module";
import os from "node:os";
import type { Settings } from "./settings";

export interface Machine {
  cpus: number;
  loadBefore: number[];
  node: string;
  platform: string;
  miniflare: string;
  autocannon: string;
}

export function describeMachine(): Machine {
  const require = createRequire(import.meta.url);
  return {
    cpus: os.cpus().length,
    loadBefore: os.loadavg(),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    miniflare: (require("miniflare/package.json") as { version: string }).version,
    autocannon: (require("autocannon/package.json") as { version: string }).version,
  };
}

export const loads = (l: readonly number[]): string => l.map((v) => v.toFixed(2)).join(" ");

export function headerLines(m: Machine, s: Settings): string[] {
  return [
    "callback-router benchmark",
    `  ${m.cpus} CPU core(s), load average ${loads(m.loadBefore)}; node ${m.node}, miniflare ${m.miniflare}, ` +
      `autocannon ${m.autocannon}`,
    "  NOTE: shared machine. autocannon (this Node process), the origin (a worker thread of it) and workerd " +
      `all compete for the same ${m.cpus} core(s), and so does anything else running here;`,
    `        so every scenario is measured in ${s.rounds} interleaved rounds and reported as the median; ` +
      "compare scenarios within this run, not absolute capacity.",
    `  settings: ${s.connections} connections, pipelining 1, ${s.warmupS}s warm-up per scenario, then ${s.rounds} ` +
      `rounds × ${s.durationS}s per scenario` +
      (s.mixedS > 0 ? `; mixed: ${s.warmupS}s warm-up + ${s.mixedS}s` : "; mixed: skipped") +
      (s.startupRuns > 0 ? `; startup CPU: ${s.startupRuns} runs` : "; cold start: bundle size only") +
      "; loopback only",
  ];
}
