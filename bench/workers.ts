/**
 * The Workers under test, bundled with esbuild the way wrangler bundles them,
 * and started in one workerd (Miniflare):
 *
 *   router, router-100k         the router on the 10- and 100 000-route KV
 *   router-nocache, router-100k-nocache   the same with the isolate cache off
 *   router-noevidence           the router on the 10-route KV with STATS_EVIDENCE=off (what recording costs)
 *   router-mixed                the router with its management API, for "mixed"
 *   router-import               the same, isolate cache off, for "import" (time to fully live)
 *   admin-mixed, admin-import   their admin Workers (src/admin/worker.ts), reached through each
 *                               router's ADMIN service binding as in `npm run dev`, bound to that
 *                               router's KV and Durable Objects (by script name) as deployed
 *   bare                        bare pass-through: fetch(request) to the origin (the floor for forwarding)
 *   minimal                     minimal redirect: every callback -> 307, no table (the floor for a redirect)
 *   seeder                      bench-only KV writer
 *
 * The routers get their compatibility date/flags and Durable Object bindings
 * from wrangler.toml (wrangler's unstable_getMiniflareWorkerOptions); their
 * vars are replaced by the benchmark's, their KV by a local namespace, their ADMIN
 * service binding by the one to their own admin Worker (none for the others).
 */
import path from "node:path";
import { convertV4MiniflareOptions, Miniflare, type V4WorkerOptionsShape } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { bundle } from "./bundle";
import { DEFAULT_TARGET, TARGET_HOST } from "./fixtures";
import type { LogTally } from "./logs";
import type { WorkerName } from "./scenario";
import { BUILD_DIR, ROOT, ROUTE_CACHE_SECONDS } from "./settings";
import { say } from "./util";

export interface Builds {
  routerJs: string;
  adminJs: string;
  bareJs: string;
  minimalJs: string;
  seedJs: string;
  originJs: string;
  loadJs: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  wranglerWorker: Omit<ReturnType<typeof unstable_getMiniflareWorkerOptions>["workerOptions"], "modulesRules">;
}

/** `sourcemap`: the router gets router.mjs.map (CPU profiles map frames back to src/ and packages). */
export async function buildWorkers(options: { sourcemap: boolean } = { sourcemap: false }): Promise<Builds> {
  const wranglerOptions = unstable_getMiniflareWorkerOptions(path.join(ROOT, "wrangler.toml"));
  // One esbuild bundle per Worker: no module rules to apply (and Miniflare 5's converter refuses them).
  const { modulesRules: _bundled, ...wranglerWorker } = wranglerOptions.workerOptions;
  // wrangler types these options as an Omit<> of an index-signature type, which loses the known keys.
  const { compatibilityDate = "2026-04-20", compatibilityFlags = [] } = wranglerWorker as V4WorkerOptionsShape;
  say("bundling Workers with esbuild");
  const out = {
    routerJs: path.join(BUILD_DIR, options.sourcemap ? "router.profiled.mjs" : "router.mjs"),
    adminJs: path.join(BUILD_DIR, "admin.mjs"),
    bareJs: path.join(BUILD_DIR, "bare-worker.mjs"),
    minimalJs: path.join(BUILD_DIR, "minimal-redirect-worker.mjs"),
    seedJs: path.join(BUILD_DIR, "seed-worker.mjs"),
    originJs: path.join(BUILD_DIR, "origin-thread.mjs"),
    loadJs: path.join(BUILD_DIR, "load-thread.mjs"),
  };
  await Promise.all([
    bundle(
      wranglerOptions.main ?? path.join(ROOT, "src/index.ts"),
      out.routerJs,
      "browser",
      wranglerOptions.define,
      options.sourcemap,
    ),
    bundle(path.join(ROOT, "src/admin/worker.ts"), out.adminJs, "browser"),
    bundle(path.join(ROOT, "bench/bare-worker.ts"), out.bareJs, "browser"),
    bundle(path.join(ROOT, "bench/minimal-redirect-worker.ts"), out.minimalJs, "browser"),
    bundle(path.join(ROOT, "bench/seed-worker.ts"), out.seedJs, "browser"),
    bundle(path.join(ROOT, "bench/origin-thread.ts"), out.originJs, "node"),
    bundle(path.join(ROOT, "bench/load-thread.ts"), out.loadJs, "node", {}, false, ["autocannon"]),
  ]);
  return {
    ...out,
    compatibilityDate,
    compatibilityFlags,
    wranglerWorker,
  };
}

export interface WorkerdOptions {
  builds: Builds;
  originUrl: string;
  kvPersist: string;
  logs: LogTally;
  adminToken: string;
  mixedRouteCacheSeconds: number;
  /** workerd's DevTools inspector (CPU profiles); off when undefined. */
  inspectorPort?: number;
}

export interface Workerd {
  mf: Miniflare;
  urls: Record<WorkerName, URL>;
}

export async function startWorkerd(o: WorkerdOptions): Promise<Workerd> {
  const { builds } = o;
  const direct = [{ host: "127.0.0.1", port: 0 }];
  const routerBindings = {
    ENVIRONMENT: "development",
    AUTH0_ORIGIN: o.originUrl,
    ALLOWED_TARGET_HOSTS: TARGET_HOST,
    ROUTE_CACHE_SECONDS: String(ROUTE_CACHE_SECONDS),
    // As deployed with transaction affinity (and bounce marks): the secret's paths are measured.
    AFFINITY_SECRET: "bench-affinity-secret-0123456789abcdefghij",
  };
  const router = (name: WorkerName, kv: string, bindings: Record<string, string>, adminWorker?: WorkerName) => ({
    ...builds.wranglerWorker,
    name,
    modules: true,
    scriptPath: builds.routerJs,
    bindings,
    kvNamespaces: { ROUTES: kv },
    serviceBindings: (adminWorker === undefined ? {} : { ADMIN: adminWorker }) as Record<string, string>,
    unsafeDirectSockets: direct,
  });
  // The admin Worker of `routerName`: its KV namespace, its Durable Objects by script name.
  const admin = (name: WorkerName, routerName: WorkerName, kv: string, bindings: Record<string, string>) => ({
    name,
    modules: true,
    scriptPath: builds.adminJs,
    compatibilityDate: builds.compatibilityDate,
    compatibilityFlags: builds.compatibilityFlags,
    bindings,
    kvNamespaces: { ROUTES: kv },
    // As wrangler.admin.toml: the admin asks its router (the Router entrypoint) over RPC.
    serviceBindings: { ROUTER: { name: routerName, entrypoint: "Router" } },
    durableObjects: {
      ROUTE_WRITER: { className: "RouteTableWriter", scriptName: routerName, useSQLite: true },
      TRAFFIC_COUNTER: { className: "TrafficCounter", scriptName: routerName, useSQLite: true },
    },
    unsafeDirectSockets: direct,
  });
  const mixedBindings = {
    ...routerBindings,
    ROUTE_CACHE_SECONDS: String(o.mixedRouteCacheSeconds),
    ADMIN_TOKEN: o.adminToken,
    ADMIN_TOKEN_NAME: "bench",
  };
  const importBindings = {
    ...routerBindings,
    ROUTE_CACHE_SECONDS: "0",
    ADMIN_TOKEN: o.adminToken,
    ADMIN_TOKEN_NAME: "bench",
  };
  const plain = (name: WorkerName, scriptPath: string, bindings: Record<string, string>) => ({
    name,
    modules: true,
    scriptPath,
    compatibilityDate: builds.compatibilityDate,
    compatibilityFlags: builds.compatibilityFlags,
    bindings,
    unsafeDirectSockets: direct,
  });
  // wrangler gives Miniflare 4-style worker options; convertV4MiniflareOptions turns them into Miniflare 5's.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      // Miniflare 5 keeps KV in <resourcePersistencePath>/kv (= o.kvPersist, what the snapshot holds).
      resourcePersistencePath: path.dirname(o.kvPersist),
      ...(o.inspectorPort !== undefined ? { inspectorPort: o.inspectorPort } : {}),
      // workerd's structured logs: the Workers' console.log lines, and their errors and warnings.
      handleStructuredLogs({ level, message }) {
        if (level === "error" || level === "warn") o.logs.feedStderr(message);
        else o.logs.line(message);
      },
      workers: [
        router("router", "routes-small", routerBindings),
        router("router-100k", "routes-big", routerBindings),
        // The same two tables with the isolate cache off: every callback reads KV, so the
        // pair compares table size alone.
        router("router-nocache", "routes-small", { ...routerBindings, ROUTE_CACHE_SECONDS: "0" }),
        router("router-100k-nocache", "routes-big", { ...routerBindings, ROUTE_CACHE_SECONDS: "0" }),
        // The 10-route router recording no evidence (callback shapes): its pair with "router"
        // is what recording costs, in the same rounds.
        router("router-noevidence", "routes-small", { ...routerBindings, STATS_EVIDENCE: "off" }),
        // "mixed": its own KV, filled through its management API (ADMIN_TOKEN) and its RouteTableWriter.
        router("router-mixed", "routes-mixed", mixedBindings, "admin-mixed"),
        admin("admin-mixed", "router-mixed", "routes-mixed", mixedBindings),
        // "import": its own KV, filled through its API; every callback reads KV (cache off).
        router("router-import", "routes-import", importBindings, "admin-import"),
        admin("admin-import", "router-import", "routes-import", importBindings),
        plain("bare", builds.bareJs, { ORIGIN: o.originUrl }),
        plain("minimal", builds.minimalJs, { ORIGIN: o.originUrl, TARGET: DEFAULT_TARGET }),
        {
          ...plain("seeder", builds.seedJs, {}),
          kvNamespaces: { SMALL: "routes-small", BIG: "routes-big" },
          // "stats" (bench/stats-read.ts) fills router-import's traffic counters through it.
          durableObjects: {
            TRAFFIC_COUNTER: { className: "TrafficCounter", scriptName: "router-import", useSQLite: true },
          },
        },
      ],
    }),
  );
  await mf.ready;
  const names: WorkerName[] = [
    "router",
    "router-100k",
    "router-nocache",
    "router-100k-nocache",
    "router-noevidence",
    "router-mixed",
    "router-import",
    "admin-mixed",
    "admin-import",
    "bare",
    "minimal",
    "seeder",
  ];
  const urls = Object.fromEntries(
    await Promise.all(names.map(async (n) => [n, await mf.unsafeGetDirectURL(n)] as const)),
  ) as Record<WorkerName, URL>;
  say(
    `workerd up (Miniflare, compatibility date ${builds.compatibilityDate}): ` +
      names.map((n) => `${n} ${urls[n].host}`).join(", "),
  );
  return { mf, urls };
}
