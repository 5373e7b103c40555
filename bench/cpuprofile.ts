/**
 * Reading a V8 CPU profile (.cpuprofile, as workerd's inspector and
 * `wrangler check startup` write them): sampled CPU time, and self time per
 * source module and per function, mapped through the bundle's source map when
 * there is one (node:module SourceMap), so a minified bundle still reads as
 * src/callback/handler.ts, node_modules/zod, ….
 */
import { existsSync, readFileSync } from "node:fs";
import { SourceMap, type SourceMapPayload } from "node:module";
import path from "node:path";
import { ROOT } from "./settings";
import { median } from "./util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Samples that were not idle (JS, GC, native "program") × the sampling interval, in ms. */
  busyMs: number;
  /** Self time by source module (`src/…`, `node_modules/<package>`, `(garbage collector)`, …), ms, largest first. */
  byModule: Array<[string, number]>;
  /** Self time by function (`name (module:line)`), ms, largest first. */
  byFunction: Array<[string, number]>;
}

/** `node_modules/zod/v4/core/…` -> `node_modules/zod`; `../src/x.ts` -> `src/x.ts`. */
export function moduleGroup(source: string): string {
  const nm = source.lastIndexOf("node_modules/");
  if (nm !== -1) {
    const rest = source.slice(nm + "node_modules/".length).split("/");
    const pkg = rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1] ?? ""}` : (rest[0] ?? "");
    return `node_modules/${pkg}`;
  }
  const src = source.lastIndexOf("src/");
  if (src !== -1) return source.slice(src);
  const bench = source.lastIndexOf("bench/");
  if (bench !== -1) return source.slice(bench);
  return source;
}

export function loadSourceMap(file: string): SourceMap | undefined {
  try {
    return new SourceMap(JSON.parse(readFileSync(file, "utf8")) as SourceMapPayload);
  } catch {
    return undefined;
  }
}

/**
 * `bundleUrlPart`: frames whose url contains it are the bundle's (mapped through
 * `map`); other frames are native or another script's.
 */
export function summarize(profile: CpuProfile, map: SourceMap | undefined, bundleUrlPart: string): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const modules = new Map<string, number>();
  const functions = new Map<string, number>();
  let busyUs = 0;
  const { samples, timeDeltas } = profile;
  // Every sample counts for the sampling interval (the median gap), not for its own gap:
  // the gaps are wall-clock time, and on a busy machine a descheduled isolate's gap would
  // bill the time it was not running to whatever it ran last.
  const us = median(timeDeltas.slice(1));
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i] ?? -1);
    if (node === undefined) continue;
    const frame = node.callFrame;
    if (frame.functionName === "(idle)") continue;
    busyUs += us;
    let group: string;
    let fn: string;
    if (frame.url === "" || !frame.url.includes(bundleUrlPart)) {
      // Frames without a script: V8/workerd natives (RegExp, atob, TextDecoder, fetch, …).
      group = frame.url === "" ? frame.functionName || "(native)" : moduleGroup(frame.url);
      fn = frame.functionName || "(native)";
    } else {
      const entry = map?.findEntry(frame.lineNumber, frame.columnNumber);
      const source = entry !== undefined && "originalSource" in entry ? entry.originalSource : undefined;
      if (source !== undefined && entry !== undefined && "originalLine" in entry) {
        group = moduleGroup(source);
        // A package's own source map can name a path outside node_modules (saxes: "../src/saxes.ts").
        if (group.startsWith("src/") && !existsSync(path.join(ROOT, group))) group = `(package) ${group}`;
        fn = `${frame.functionName || "(anonymous)"} (${group.replace(/^node_modules\//, "")}:${entry.originalLine + 1})`;
      } else {
        group = "(bundle, unmapped)";
        fn = `${frame.functionName || "(anonymous)"} (bundle:${frame.lineNumber + 1}:${frame.columnNumber + 1})`;
      }
    }
    modules.set(group, (modules.get(group) ?? 0) + us);
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>): Array<[string, number]> =>
    [...m].map(([k, v]): [string, number] => [k, v / 1000]).sort((a, b) => b[1] - a[1]);
  return { busyMs: busyUs / 1000, byModule: sorted(modules), byFunction: sorted(functions) };
}
