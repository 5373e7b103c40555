/**
 * Cold start of the two Workers (docs/design.md, "Topology"): each deploy bundle's size
 * (what `wrangler deploy --env production` uploads, gzip as scripts/bundle-size.mjs
 * measures it) and what it is made of (wrangler's esbuild metafile) — the router's
 * (wrangler.toml, in front of every sign-in request: the figure against the 100 KiB
 * target) and the admin Worker's (wrangler.admin.toml) beside it — and the startup CPU
 * time of evaluating the router (`wrangler check startup` on its bundle: workerd's CPU
 * profile of the startup phase, least and median of --startup-runs runs, mapped to
 * source modules).
 */
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { uploadSize } from "../scripts/bundle-size.mjs";
import { loadSourceMap, moduleGroup, summarize, type CpuProfile, type ProfileSummary } from "./cpuprofile";
import { OUT_DIR, ROOT } from "./settings";
import { describeError, firstLine, median, runCommand, say } from "./util";

/** One Worker's upload. */
export interface UploadSize {
  /** The config it was built from (wrangler.toml, wrangler.admin.toml). */
  config: string;
  file: string;
  rawBytes: number;
  gzipBytes: number;
  /** Minified bytes in the bundle per source module group, largest first. */
  byModule: Array<[string, number]>;
}

export interface ColdStart {
  /** The router's upload: all a callback isolate evaluates (it has no dynamic imports left). */
  bundle: UploadSize;
  /** The admin Worker's upload: the management API, OpenAPI, dashboard, provider sync. */
  admin?: UploadSize;
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

/** `wrangler deploy --dry-run --env production` of one config into `dir`; its size and composition. */
async function dryRun(config: string, dir: string, extra: string[]): Promise<UploadSize> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const metafile = path.join(dir, "bundle-meta.json");
  await runCommand(
    WRANGLER,
    ["deploy", "--dry-run", "--env", "production", "-c", config, "--outdir", dir, "--metafile", metafile, ...extra],
    ROOT,
  );
  const { file, raw, gzip } = uploadSize(dir);
  return {
    config,
    file: path.relative(ROOT, file),
    rawBytes: raw,
    gzipBytes: gzip,
    byModule: composition(metafile),
  };
}

export async function measureColdStart(runs: number): Promise<ColdStart> {
  const problems: string[] = [];
  say("cold start: wrangler deploy --dry-run --env production of both Workers (their deploy bundles)");
  // --outfile: the router's multipart upload bundle, which `wrangler check startup --worker` takes.
  const upload = path.join(DEPLOY_DIR, "worker.bundle");
  const router = await dryRun("wrangler.toml", DEPLOY_DIR, ["--outfile", upload]);
  const out: ColdStart = { bundle: router, problems };
  try {
    out.admin = await dryRun("wrangler.admin.toml", path.join(OUT_DIR, "deploy-admin"), []);
  } catch (err) {
    problems.push(`admin Worker dry run: ${firstLine(describeError(err))}`);
  }
  const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
  say(
    `  router upload ${kib(router.rawBytes)} raw, ${kib(router.gzipBytes)} gzip` +
      (out.admin === undefined
        ? ""
        : `; admin upload ${kib(out.admin.rawBytes)} raw, ${kib(out.admin.gzipBytes)} gzip`),
  );
  const file = path.join(ROOT, router.file);
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
