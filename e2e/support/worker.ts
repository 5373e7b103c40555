/**
 * The two Workers in workerd, started by a Node test as they are deployed: the router
 * (src/index.ts) and the admin Worker (src/admin/worker.ts), each bundled by esbuild
 * (as wrangler does), compatibility settings, Durable Objects and service binding from
 * wrangler.toml / wrangler.admin.toml, one ROUTES KV namespace in Miniflare's temporary
 * storage, the test's bindings in place of the configs' [vars]. Their log lines are
 * collected, never printed.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { build, type Metafile, type Plugin } from "esbuild";
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from "wrangler";
import { buildDashboard } from "../../scripts/build-dashboard";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface RunningWorker {
  /** http://127.0.0.1:<port> */
  origin: string;
  /** The Worker's JSON log lines (one per callback, plus problem events), in order. */
  logs: Array<Record<string, unknown>>;
  /** The first chunks of workerd's stderr, for error messages. */
  stderr: string[];
  /** The workerd both Workers run in, and their script names (admin: undefined when left out). */
  mf: Miniflare;
  names: { router: string; admin: string | undefined };
  stop(): Promise<void>;
}

/** The two Workers as deployed: the router (wrangler.toml) and the admin Worker (wrangler.admin.toml). */
export const CONFIGS = { router: "wrangler.toml", admin: "wrangler.admin.toml" } as const;
export type WorkerRole = keyof typeof CONFIGS;

export interface Bundles {
  /** The router's bundle (wrangler.toml's main); `admin` is the admin Worker's (wrangler.admin.toml's main). */
  scriptPath: string;
  adminScriptPath: string;
  buildDir: string;
  remove: () => void;
}

/**
 * wrangler's Miniflare options for a config. Quietly: reading wrangler.admin.toml's
 * top-level `[secrets] required` (local dev only) makes wrangler warn that the process has
 * none of them, while these tests bind every secret they use themselves.
 */
function workerOptionsOf(file: string, environment?: string): ReturnType<typeof unstable_getMiniflareWorkerOptions> {
  const level = process.env.WRANGLER_LOG;
  process.env.WRANGLER_LOG = "error";
  try {
    return unstable_getMiniflareWorkerOptions(file, environment);
  } finally {
    if (level === undefined) delete process.env.WRANGLER_LOG;
    else process.env.WRANGLER_LOG = level;
  }
}

/**
 * A change to one source file for one bundle (a test's deliberately different router):
 * `file` relative to the repository, `from` must occur in it exactly once.
 */
export interface SourcePatch {
  file: string;
  from: string;
  to: string;
}

/** Bundles one Worker as wrangler does (ESM, workerd conditions, its config's define and [alias]). */
export async function bundleOne(
  role: WorkerRole,
  outfile: string,
  metafile = false,
  patch?: SourcePatch,
): Promise<Metafile | undefined> {
  const file = path.join(ROOT, CONFIGS[role]);
  const wranglerOptions = workerOptionsOf(file);
  const alias = unstable_readConfig({ config: file }, { hideWarnings: true }).alias ?? {};
  const result = await build({
    entryPoints: [wranglerOptions.main ?? path.join(ROOT, role === "router" ? "src/index.ts" : "src/admin/worker.ts")],
    outfile,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    external: ["cloudflare:*"],
    define: wranglerOptions.define ?? {},
    plugins: [
      ...(patch === undefined ? [] : [patchPlugin(patch)]),
      {
        // The config's [alias] (zod's locales namespace is English alone), applied as wrangler's
        // own alias plugin does: an import spelled exactly as a key, the value from the project root.
        name: "wrangler-alias",
        setup(b) {
          const keys = Object.keys(alias);
          if (keys.length === 0) return;
          const filter = new RegExp(`^(?:${keys.map((k) => k.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("|")})$`);
          b.onResolve({ filter }, (args) => {
            const to = alias[args.path];
            return to === undefined ? undefined : { path: path.resolve(ROOT, to) };
          });
        },
      },
    ],
    keepNames: true,
    sourcemap: false,
    metafile,
    logLevel: "warning",
  });
  return result.metafile;
}

function patchPlugin(patch: SourcePatch): Plugin {
  const file = path.join(ROOT, patch.file);
  return {
    name: "source-patch",
    setup(b) {
      b.onLoad({ filter: new RegExp(`${patch.file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`) }, (args) => {
        if (args.path !== file) return undefined;
        const source = readFileSync(file, "utf8");
        if (source.split(patch.from).length !== 2)
          throw new Error(`${patch.file} does not hold ${patch.from} exactly once`);
        return { contents: source.replace(patch.from, patch.to), loader: "ts" };
      });
    },
  };
}

/** Bundles both Workers into a temporary directory; resolves with what startBundledWorker needs. */
export async function bundleWorker(): Promise<Bundles> {
  const buildDir = mkdtempSync(path.join(os.tmpdir(), "callback-router-e2e-"));
  const remove = () => rmSync(buildDir, { recursive: true, force: true });
  try {
    // wrangler.admin.toml's [build] step, which this bundling does not run: the dashboard's client.
    await buildDashboard();
    const scriptPath = path.join(buildDir, "router.mjs");
    const adminScriptPath = path.join(buildDir, "admin.mjs");
    await Promise.all([bundleOne("router", scriptPath), bundleOne("admin", adminScriptPath)]);
    return { scriptPath, adminScriptPath, buildDir, remove };
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
  /**
   * A deployed environment (e.g. "production"): both Workers get that environment's
   * configuration and script names, and no service binding: requests reach the admin
   * Worker by its own route, as on Cloudflare (the config's route patterns with the host
   * replaced by 127.0.0.1). Unset: the top level (local development), where the router
   * hands the admin prefix to the admin Worker through its ADMIN service binding.
   */
  environment?: string;
  /** Leave the admin Worker out (a router deployed before it). */
  withoutAdmin?: boolean;
  /** Bindings the router gets and the admin Worker does not (the router's own variables). */
  routerOnly?: Record<string, string>;
  /**
   * Keep KV and Durable Object storage (alarms included) in this directory, so a second
   * start with the same directory is the same deployment restarted. Unset: Miniflare's
   * temporary storage, gone with stop().
   */
  persistPath?: string;
}

/** A config's route patterns on this machine: same paths, the host replaced by 127.0.0.1. */
function loopbackRoutes(routes: ReturnType<typeof unstable_readConfig>["routes"]): string[] {
  return (routes ?? []).map((route: string | { pattern: string }) => {
    const pattern = typeof route === "string" ? route : route.pattern;
    return `127.0.0.1${pattern.slice(pattern.indexOf("/"))}`;
  });
}

/**
 * Starts the bundles from bundleWorker() in one workerd, as they are deployed: the router
 * (its Durable Objects, the KV namespace ROUTES) and the admin Worker (the same KV
 * namespace, the router's Durable Objects by script name), both with `bindings`.
 */
export async function startBundledWorker(
  bundle: Pick<Bundles, "scriptPath" | "adminScriptPath" | "buildDir">,
  bindings: Record<string, string>,
  config: WorkerConfig = {},
): Promise<RunningWorker> {
  const roles = config.withoutAdmin === true ? (["router"] as const) : (["router", "admin"] as const);
  const deployed = config.environment !== undefined;
  const logs: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  const workers = roles.map((role) => {
    const file = path.join(ROOT, CONFIGS[role]);
    const wranglerOptions = workerOptionsOf(file, config.environment);
    const wranglerConfig = unstable_readConfig({ config: file, env: config.environment }, { hideWarnings: true });
    // One esbuild bundle: no module rules to apply (and Miniflare 5's converter refuses them).
    const { modulesRules: _bundled, ...workerOptions } = wranglerOptions.workerOptions;
    const vars = config.wranglerVars === true ? (workerOptions.bindings ?? {}) : {};
    return {
      ...workerOptions,
      // The script names wrangler deploys under: the admin's Durable Object bindings name the router's.
      name: wranglerConfig.name ?? role,
      modules: true,
      scriptPath: role === "router" ? bundle.scriptPath : bundle.adminScriptPath,
      // Module names are relative to this; the bundle lives in a temporary directory outside the repo.
      modulesRoot: bundle.buildDir,
      bindings: { ...vars, ...bindings, ...(role === "router" ? config.routerOnly : {}) },
      // One namespace for both, as the same namespace id in the two configs gives on Cloudflare.
      kvNamespaces: { ROUTES: "e2e-routes" },
      ...(deployed ? { routes: loopbackRoutes(wranglerConfig.routes) } : {}),
      unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    };
  });
  // wrangler gives Miniflare 4-style worker options; convertV4MiniflareOptions turns them into Miniflare 5's.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      ...(config.persistPath === undefined ? {} : { resourcePersistencePath: config.persistPath }),
      // workerd's structured logs: the Workers' console.log lines, and their errors and warnings.
      handleStructuredLogs({ level, message }) {
        if (level === "error" || level === "warn") {
          if (stderr.length < 100) stderr.push(message);
        } else {
          logs.push(jsonLine(message));
        }
      },
      workers,
    }),
  );
  let entry: URL;
  try {
    entry = await mf.ready;
  } catch (err) {
    await mf.dispose().catch(() => undefined);
    throw new Error(`workerd did not start; its stderr: ${stderr.join("\n").slice(0, 2000) || "(empty)"}`, {
      cause: err,
    });
  }
  const routerName = workers[0]?.name ?? "router";
  // Deployed: through Miniflare's entry, which picks the Worker by its routes as Cloudflare does.
  const url = deployed ? entry : await mf.unsafeGetDirectURL(routerName);
  const adminName = workers[1]?.name;
  return {
    origin: `http://127.0.0.1:${url.port}`,
    logs,
    stderr,
    mf,
    names: { router: routerName, admin: adminName },
    stop: () => mf.dispose(),
  };
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
