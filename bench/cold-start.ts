/**
 * Cold start: the deploy bundle's size (what `wrangler deploy` uploads, gzip as
 * scripts/bundle-size.mjs measures it), what it is made of (wrangler's esbuild
 * metafile of that bundle), and the startup CPU time of evaluating it
 * (`wrangler check startup` on that bundle: workerd's CPU profile of the
 * startup phase, least and median of --startup-runs runs, mapped to source modules).
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { loadSourceMap, moduleGroup, summarize, type CpuProfile, type ProfileSummary } from "./cpuprofile";
import { OUT_DIR, ROOT } from "./settings";
import { describeError, firstLine, median, runCommand, say } from "./util";

export interface ColdStart {
  bundle: {
    file: string;
    rawBytes: number;
    gzipBytes: number;
    /**
     * The part a callback isolate evaluates: the same entry bundled the same way with
     * every dynamic import() left out (the management API, the dashboard, the cron).
     */
    eager: { rawBytes: number; gzipBytes: number };
    /** Minified bytes in the bundle per source module group, largest first. */
    byModule: Array<[string, number]>;
  };
  startup?: {
    runs: number;
    /** Busy (non-idle) sampled CPU ms of each run. */
    busyMs: number[];
    /**
     * The least of the runs: evaluation is deterministic work, and on a shared machine the
     * sampler also bills time the isolate waited for a core, so the extra runs only add noise.
     */
    minMs: number;
    medianMs: number;
    /** Self time by module of the run closest to the median. */
    byModule: Array<[string, number]>;
  };
  problems: string[];
}

const DEPLOY_DIR = path.join(OUT_DIR, "deploy");
const WRANGLER = path.join(ROOT, "node_modules", ".bin", "wrangler");

/** Minified bytes per module group in wrangler's own esbuild metafile of the deploy bundle. */
function composition(metafile: string): Array<[string, number]> {
  const meta = JSON.parse(readFileSync(metafile, "utf8")) as {
    outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
  };
  const groups = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const group = moduleGroup(input);
      // src/ by folder (src/admin, src/callback, …); packages whole.
      const key = group.startsWith("src/") ? group.split("/").slice(0, 2).join("/") : group;
      groups.set(key, (groups.get(key) ?? 0) + bytesInOutput);
    }
  }
  return [...groups].sort((a, b) => b[1] - a[1]);
}

/** The entry bundled as wrangler does (minified, no keepNames, zod locales aliased), dynamic imports external. */
async function eagerPart(): Promise<{ rawBytes: number; gzipBytes: number }> {
  const result = await build({
    entryPoints: [path.join(ROOT, "src/index.ts")],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*"],
    minify: true,
    outfile: path.join(OUT_DIR, "eager.js"),
    logLevel: "silent",
    plugins: [
      {
        name: "eager-only",
        setup(b) {
          b.onResolve({ filter: /.*/ }, (args) => {
            if (args.kind === "dynamic-import") return { path: args.path, external: true };
            // wrangler.toml [alias]: zod's locales namespace is English alone.
            if (args.path === "../locales/index.js") return { path: path.join(ROOT, "src/zod-locales.ts") };
            return undefined;
          });
        },
      },
    ],
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  return { rawBytes: code.byteLength, gzipBytes: gzipSync(code, { level: 9 }).length };
}

export async function measureColdStart(runs: number): Promise<ColdStart> {
  const problems: string[] = [];
  rmSync(DEPLOY_DIR, { recursive: true, force: true });
  mkdirSync(DEPLOY_DIR, { recursive: true });
  say("cold start: wrangler deploy --dry-run (the deploy bundle)");
  // --outfile: the multipart upload bundle, which `wrangler check startup --worker` takes.
  const upload = path.join(DEPLOY_DIR, "worker.bundle");
  const metafile = path.join(DEPLOY_DIR, "bundle-meta.json");
  await runCommand(
    WRANGLER,
    ["deploy", "--dry-run", "--outdir", DEPLOY_DIR, "--outfile", upload, "--metafile", metafile],
    ROOT,
  );
  const file = path.join(DEPLOY_DIR, "index.js");
  const bytes = readFileSync(file);
  const out: ColdStart = {
    bundle: {
      file: path.relative(ROOT, file),
      rawBytes: bytes.length,
      gzipBytes: gzipSync(bytes, { level: 9 }).length,
      byModule: composition(metafile),
      eager: await eagerPart(),
    },
    problems,
  };
  say(
    `  deploy bundle ${(out.bundle.rawBytes / 1024).toFixed(1)} KiB raw, ${(out.bundle.gzipBytes / 1024).toFixed(1)} KiB gzip; ` +
      `evaluated by a callback isolate: ${(out.bundle.eager.rawBytes / 1024).toFixed(1)} KiB raw, ` +
      `${(out.bundle.eager.gzipBytes / 1024).toFixed(1)} KiB gzip`,
  );
  if (runs === 0) return out;

  const map = loadSourceMap(`${file}.map`);
  const summaries: ProfileSummary[] = [];
  for (let i = 1; i <= runs; i++) {
    const profileFile = path.join(DEPLOY_DIR, `startup-${i}.cpuprofile`);
    try {
      await runCommand(WRANGLER, ["check", "startup", "--worker", upload, "--outfile", profileFile], ROOT);
      const profile = JSON.parse(readFileSync(profileFile, "utf8")) as CpuProfile;
      summaries.push(summarize(profile, map, "index.js"));
    } catch (err) {
      problems.push(`wrangler check startup run ${i}: ${firstLine(describeError(err))}`);
    }
  }
  if (summaries.length > 0) {
    const busyMs = summaries.map((s) => s.busyMs);
    const medianMs = median(busyMs);
    const closest = summaries.reduce((a, b) => (Math.abs(b.busyMs - medianMs) < Math.abs(a.busyMs - medianMs) ? b : a));
    const minMs = Math.min(...busyMs);
    out.startup = { runs: summaries.length, busyMs, minMs, medianMs, byModule: closest.byModule };
    say(
      `  startup CPU (wrangler check startup, ${summaries.length} runs): least ${minMs.toFixed(1)} ms, ` +
        `median ${medianMs.toFixed(1)} ms ` +
        `(${busyMs.map((v) => v.toFixed(1)).join(", ")})`,
    );
  }
  return out;
}
