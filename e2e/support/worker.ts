/**
 * The Worker in workerd, started by a Node test: src/index.ts bundled by esbuild
 * (as wrangler does), compatibility settings and Durable Objects from
 * wrangler.toml, a ROUTES KV namespace in Miniflare's temporary storage, the test's bindings in place
 * of wrangler.toml's [vars]. Its log lines are collected, never printed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { buildDashboard } from "../../scripts/build-dashboard";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface RunningWorker {
  /** http://127.0.0.1:<port> */
  origin: string;
  /** The Worker's JSON log lines (one per callback, plus problem events), in order. */
  logs: Array<Record<string, unknown>>;
  /** The first chunks of workerd's stderr, for error messages. */
  stderr: string[];
  stop(): Promise<void>;
}

/** Bundles the Worker into a temporary directory; resolves with what startBundledWorker needs. */
export async function bundleWorker(): Promise<{ scriptPath: string; buildDir: string; remove: () => void }> {
  const buildDir = mkdtempSync(path.join(os.tmpdir(), "callback-router-e2e-"));
  const remove = () => rmSync(buildDir, { recursive: true, force: true });
  try {
    // wrangler's [build] step, which this bundling does not run: the dashboard's client.
    await buildDashboard();
    const wranglerOptions = unstable_getMiniflareWorkerOptions(path.join(ROOT, "wrangler.toml"));
    const scriptPath = path.join(buildDir, "router.mjs");
    await build({
      entryPoints: [wranglerOptions.main ?? path.join(ROOT, "src/index.ts")],
      outfile: scriptPath,
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      conditions: ["workerd", "worker", "browser"],
      mainFields: ["browser", "module", "main"],
      external: ["cloudflare:*"],
      define: wranglerOptions.define ?? {},
      keepNames: true,
      sourcemap: false,
      logLevel: "warning",
    });
    return { scriptPath, buildDir, remove };
  } catch (err) {
    remove();
    throw err;
  }
}

export interface WorkerConfig {
  /**
   * Start from the [vars] of wrangler.toml (of `environment` when given, e.g. "production")
   * and add `bindings`; by default `bindings` replace wrangler.toml's [vars] entirely.
   */
  wranglerVars?: boolean;
  environment?: string;
}

/** Starts a bundle from bundleWorker() with `bindings` on a free loopback port. */
export async function startBundledWorker(
  bundle: { scriptPath: string; buildDir: string },
  bindings: Record<string, string>,
  config: WorkerConfig = {},
): Promise<RunningWorker> {
  const wranglerOptions = unstable_getMiniflareWorkerOptions(path.join(ROOT, "wrangler.toml"), config.environment);
  // One esbuild bundle: no module rules to apply (and Miniflare 5's converter refuses them).
  const { modulesRules: _bundled, ...workerOptions } = wranglerOptions.workerOptions;
  const vars = config.wranglerVars === true ? (workerOptions.bindings ?? {}) : {};
  const logs: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  // wrangler gives Miniflare 4-style worker options; convertV4MiniflareOptions turns them into Miniflare 5's.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      // workerd's structured logs: the Worker's console.log lines, and its errors and warnings.
      handleStructuredLogs({ level, message }) {
        if (level === "error" || level === "warn") {
          if (stderr.length < 100) stderr.push(message);
        } else {
          logs.push(jsonLine(message));
        }
      },
      workers: [
        {
          ...workerOptions,
          name: "router",
          modules: true,
          scriptPath: bundle.scriptPath,
          // Module names are relative to this; the bundle lives in a temp directory outside the repo.
          modulesRoot: bundle.buildDir,
          bindings: { ...vars, ...bindings },
          kvNamespaces: { ROUTES: "e2e-routes" },
          unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
        },
      ],
    }),
  );
  try {
    await mf.ready;
  } catch (err) {
    await mf.dispose().catch(() => undefined);
    throw new Error(`workerd did not start; its stderr: ${stderr.join("\n").slice(0, 2000) || "(empty)"}`, {
      cause: err,
    });
  }
  const url = await mf.unsafeGetDirectURL("router");
  return { origin: `http://127.0.0.1:${url.port}`, logs, stderr, stop: () => mf.dispose() };
}

/** bundleWorker + startBundledWorker; stop() also removes the bundle. */
export async function startWorker(bindings: Record<string, string>, config: WorkerConfig = {}): Promise<RunningWorker> {
  const bundle = await bundleWorker();
  try {
    const worker = await startBundledWorker(bundle, bindings, config);
    return {
      ...worker,
      stop: async () => {
        try {
          await worker.stop();
        } finally {
          bundle.remove();
        }
      },
    };
  } catch (err) {
    bundle.remove();
    throw err;
  }
}

/** One console.log line of the Worker: its JSON object, or `{ text }` when it is not one. */
function jsonLine(line: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : { text: line };
  } catch {
    return { text: line };
  }
}
