/**
 * callback-router load benchmark: one run, the same load generator and
 * settings for every scenario, loopback only, the Workers in workerd (Miniflare).
 *
 *   npx tsx bench/run.ts [--duration 10] [--warmup 2] [--connections 32] [--routes 100000] [--fresh-kv]
 *
 * Scenarios (each: preflight checks, warm-up, measured run):
 *   c-bare      GET /authorize?…                   bare pass-through Worker -> origin (baseline)
 *   c           GET /authorize?…                   router -> origin
 *   a           GET /login/callback?connection=…   router, 10 routes -> 307
 *   b           POST /login/callback?connection=…  router, legacy, ~8 KB SAML form -> origin
 *   a-100k      GET /login/callback?connection=…   router, 100 000 routes, a random migrated
 *                                                  connection per request (mostly isolate-cache misses)
 *   a-100k-hot  same, always one connection        (isolate-cache hits)
 *
 * The router Worker gets its compatibility date/flags and Durable Object
 * bindings from wrangler.toml (wrangler's unstable_getMiniflareWorkerOptions);
 * its vars are replaced by the benchmark's, its KV by a local namespace.
 *
 * Seeding the 100 000-route KV takes a minute or more (Miniflare writes each
 * value as a Durable Object transaction plus a blob file). The seeded KV is
 * saved to .bench/kv-snapshots/ and restored on later runs when the generated
 * entries are identical; --fresh-kv seeds again.
 *
 * Output: a table on stdout and .bench/results.json. Exit code 1 when a
 * scenario saw a wrong status (incl. 5xx), a timeout or a socket error, or a
 * preflight check, the build or the seeding failed.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  accessSync,
  constants as fsConstants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import autocannon, { type RequestSpec, type Result } from "autocannon";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { tableToKvEntries } from "../src/table/kv-layout";
import { RouteTableFile } from "../src/table/schema";
import { generateTable, samlPostBody, TARGET_HOST, type GeneratedTable } from "./fixtures";

// ---------------------------------------------------------------------------
// Settings

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUT_DIR = path.join(ROOT, ".bench");
const BUILD_DIR = path.join(OUT_DIR, "build");
const SNAPSHOT_DIR = path.join(OUT_DIR, "kv-snapshots");
const ROUTE_CACHE_SECONDS = 10;
/** Mirrors src/table/store.ts MAX_CACHE_ENTRIES, for the cache-hit estimate only. */
const ISOLATE_CACHE_MAX_ENTRIES = 20_000;
const UPDATED_AT = "2026-04-26T00:00:00.000Z";
const SEED_BATCH = 500;
const SEED_REQUESTS_IN_FLIGHT = 2;
const SEED_PUTS_PER_REQUEST = 8;
const SMALL_ROUTES = 10;

const args = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "32" },
    routes: { type: "string", default: "100000" },
    "fresh-kv": { type: "boolean", default: false },
  },
  strict: true,
});

function positiveInt(name: string, raw: string | undefined, max: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new Error(`--${name} must be a whole number from 1 to ${max}, got "${raw}"`);
  }
  return n;
}

const DURATION_S = positiveInt("duration", args.values.duration, 60);
const WARMUP_S = positiveInt("warmup", args.values.warmup, 30);
const CONNECTIONS = positiveInt("connections", args.values.connections, 1024);
const BIG_ROUTES = positiveInt("routes", args.values.routes, 1_000_000);
const FRESH_KV = args.values["fresh-kv"] === true;

// ---------------------------------------------------------------------------
// Small helpers

// performance.now() counts from process start, so the total includes loading tsx, wrangler and miniflare.
const started = 0;
function elapsed(): string {
  return `${((performance.now() - started) / 1000).toFixed(1)}s`;
}
function say(message: string): void {
  console.log(`[${elapsed().padStart(6)}] ${message}`);
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause === undefined ? "" : ` (cause: ${describeError(err.cause)})`;
  return `${err.stack ?? err.message}${cause}`;
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}

function pickFrom<T>(items: readonly T[]): () => T {
  if (items.length === 0) throw new Error("nothing to pick from");
  return () => items[Math.floor(Math.random() * items.length)] as T;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? NaN;
}

function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "-";
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function run(command: string, commandArgs: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${commandArgs.join(" ")} exited with ${code}: ${stderr.slice(0, 500)}`));
    });
  });
}

/** Mirrors the router's per-isolate cache (src/table/store.ts) to estimate how often it hits. */
class CacheSimulation {
  private readonly readAt = new Map<string, number>();
  private readonly distinct = new Set<string>();
  hits = 0;
  misses = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  access(key: string, counting: boolean): void {
    const now = Date.now();
    const at = this.readAt.get(key);
    const hit = at !== undefined && now - at < this.ttlMs;
    if (!hit) {
      this.readAt.delete(key);
      this.readAt.set(key, now);
      if (this.readAt.size > this.maxEntries) {
        const oldest = this.readAt.keys().next();
        if (oldest.done !== true) this.readAt.delete(oldest.value);
      }
    }
    if (counting) {
      if (hit) this.hits++;
      else this.misses++;
      this.distinct.add(key);
    }
  }

  resetCounts(): void {
    this.hits = 0;
    this.misses = 0;
    this.distinct.clear();
  }

  get distinctKeys(): number {
    return this.distinct.size;
  }
}

// ---------------------------------------------------------------------------
// Worker logs: the router writes one JSON line per callback to stdout.

class LogTally {
  reasons = new Map<string, number>();
  problemEvents = new Map<string, number>();
  lastProblems: string[] = [];
  stderr: string[] = [];
  private rest = "";

  feed(chunk: Buffer): void {
    const text = this.rest + chunk.toString("utf8");
    const lines = text.split("\n");
    this.rest = lines.pop() ?? "";
    for (const line of lines) {
      if (line === "") continue;
      const event = /"event":"([^"]+)"/.exec(line)?.[1];
      if (event === "callback") {
        const reason = /"reason":"([^"]+)"/.exec(line)?.[1] ?? "?";
        this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
        if (line.includes('"problem"')) this.noteProblem("callback-problem", line);
      } else {
        this.noteProblem(event ?? "non-json", line);
      }
    }
  }

  private noteProblem(kind: string, line: string): void {
    this.problemEvents.set(kind, (this.problemEvents.get(kind) ?? 0) + 1);
    if (this.lastProblems.length < 5) this.lastProblems.push(line.slice(0, 400));
  }

  feedStderr(chunk: Buffer): void {
    if (this.stderr.length >= 50) return;
    this.stderr.push(
      ...chunk
        .toString("utf8")
        .split("\n")
        .filter((l) => l.trim() !== ""),
    );
  }

  reset(): void {
    this.reasons = new Map();
    this.problemEvents = new Map();
    this.lastProblems = [];
  }
}

// ---------------------------------------------------------------------------
// The Auth0 stand-in (a worker thread: its own event loop, same process)

interface OriginHandle {
  port: number;
  requests(): Promise<number>;
  close(): Promise<void>;
}

async function startOrigin(scriptPath: string): Promise<OriginHandle> {
  const worker = new Worker(scriptPath);
  const waiters: Array<(message: Record<string, unknown>) => boolean> = [];
  worker.on("message", (message: unknown) => {
    if (typeof message !== "object" || message === null) return;
    const m = message as Record<string, unknown>;
    const i = waiters.findIndex((w) => w(m));
    if (i !== -1) waiters.splice(i, 1);
  });
  const failed = new Promise<never>((_, reject) => {
    worker.once("error", reject);
  });
  failed.catch(() => undefined);
  const next = (type: string): Promise<Record<string, unknown>> =>
    Promise.race([
      failed,
      new Promise<Record<string, unknown>>((resolve) => {
        waiters.push((m) => {
          if (m.type !== type) return false;
          resolve(m);
          return true;
        });
      }),
    ]);
  const listening = await next("listening");
  let closed = false;
  return {
    port: Number(listening.port),
    async requests() {
      const reply = next("count");
      worker.postMessage("count");
      return Number((await reply).requests);
    },
    async close() {
      if (closed) return;
      closed = true;
      const done = next("closed");
      worker.postMessage("close");
      await Promise.race([done, sleep(2000)]).catch(() => undefined);
      await worker.terminate();
    },
  };
}

// ---------------------------------------------------------------------------
// Build the Workers with esbuild (as wrangler does: ESM, workerd conditions, cloudflare:* external)

async function bundle(
  entry: string,
  outfile: string,
  platform: "browser" | "node",
  define: Record<string, string> = {},
): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform,
    target: platform === "node" ? "node20" : "es2022",
    conditions: platform === "node" ? [] : ["workerd", "worker", "browser"],
    mainFields: platform === "node" ? ["module", "main"] : ["browser", "module", "main"],
    external: platform === "node" ? [] : ["cloudflare:*"],
    define,
    // wrangler.toml deploys minified; wrangler keeps names by default.
    minify: platform !== "node",
    keepNames: true,
    sourcemap: false,
    logLevel: "warning",
  });
}

// ---------------------------------------------------------------------------
// KV seeding through the helper Worker, and the snapshot of a seeded KV

interface KvEntry {
  key: string;
  value: string;
}

async function seedKv(
  seeder: URL,
  binding: string,
  entries: KvEntry[],
  progress: boolean,
): Promise<{ ms: number; retries: number }> {
  const t0 = performance.now();
  let next = 0;
  let written = 0;
  let reported = 0;
  let retries = 0;
  const lane = async (): Promise<void> => {
    while (next < entries.length) {
      const start = next;
      next += SEED_BATCH;
      const batch = entries.slice(start, start + SEED_BATCH);
      const url = new URL(`/seed?ns=${binding}&concurrency=${SEED_PUTS_PER_REQUEST}`, seeder);
      const body = JSON.stringify(batch);
      // A put is idempotent, so a batch whose request failed is simply sent again.
      for (let attempt = 1; ; attempt++) {
        try {
          const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
          const text = await res.text();
          if (res.ok && text === String(batch.length)) break;
          throw new Error(`${res.status} ${text.slice(0, 200)}`);
        } catch (err) {
          if (attempt >= 3) throw new Error(`seeding ${binding} failed at entry ${start}: ${describeError(err)}`);
          retries++;
          say(`  seeding batch at ${start} failed (${firstLine(describeError(err))}), retrying`);
          await sleep(250 * attempt);
        }
      }
      written += batch.length;
      if (progress && written - reported >= entries.length / 4) {
        reported = written;
        const s = (performance.now() - t0) / 1000;
        say(`  seeded ${written}/${entries.length} (${Math.round(written / s)} puts/s)`);
      }
    }
  };
  await Promise.all(Array.from({ length: SEED_REQUESTS_IN_FLIGHT }, lane));
  return { ms: performance.now() - t0, retries };
}

interface SnapshotMeta {
  entries: number;
  seedMs: number;
  createdAt: string;
}

function snapshotKey(entries: KvEntry[], miniflareVersion: string): string {
  const hash = createHash("sha256").update(`kv-snapshot v1\0miniflare ${miniflareVersion}\0`);
  for (const e of entries) hash.update(`${e.key}\0${e.value}\n`);
  return hash.digest("hex").slice(0, 16);
}

function readSnapshotMeta(file: string): SnapshotMeta | undefined {
  try {
    const meta = JSON.parse(readFileSync(file, "utf8")) as Partial<SnapshotMeta>;
    if (typeof meta.entries === "number" && typeof meta.seedMs === "number" && typeof meta.createdAt === "string") {
      return { entries: meta.entries, seedMs: meta.seedMs, createdAt: meta.createdAt };
    }
  } catch {
    // missing or unreadable: no snapshot
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Scenarios

interface Scenario {
  id: string;
  label: string;
  worker: WorkerName;
  expectStatus: number;
  /** The router's logged decision reason every callback should have (callbacks only). */
  expectReason?: string;
  usesOrigin: boolean;
  request: RequestSpec;
  /** Builds each request's path; fixed when absent. */
  nextPath?: () => string;
  cache?: CacheSimulation;
  /** Sends a few requests the way the load will and checks the answers in detail. */
  preflight(base: URL): Promise<string[]>;
}

type WorkerName = "router" | "router-100k" | "router-nocache" | "router-100k-nocache" | "bare" | "seeder";

interface RunStats {
  responses: number;
  seconds: number;
  latencies: Float64Array;
  statusCounts: Record<string, number>;
  wrongStatus: number;
  status5xx: number;
  timeouts: number;
  socketErrors: Record<string, number>;
  autocannon: Result;
}

function runLoad(base: URL, scenario: Scenario, seconds: number): Promise<RunStats> {
  return new Promise((resolve, reject) => {
    let latencies = new Float64Array(1 << 16);
    let responses = 0;
    let wrongStatus = 0;
    let status5xx = 0;
    const statusCounts: Record<string, number> = {};
    const socketErrors: Record<string, number> = {};
    const request: RequestSpec = { ...scenario.request };
    const nextPath = scenario.nextPath;
    if (nextPath !== undefined) {
      request.path = nextPath();
      request.setupRequest = (req) => ({ ...req, path: nextPath() });
    }
    const t0 = performance.now();
    const instance = autocannon(
      {
        url: base.origin,
        connections: CONNECTIONS,
        pipelining: 1,
        duration: seconds,
        timeout: 10,
        requests: [request],
      },
      (error, result) => {
        if (error !== null) return reject(error);
        resolve({
          responses,
          seconds: (performance.now() - t0) / 1000,
          latencies: latencies.slice(0, responses).sort(),
          statusCounts,
          wrongStatus,
          status5xx,
          timeouts: result.timeouts,
          socketErrors,
          autocannon: result,
        });
      },
    );
    // Every response, whatever its status (autocannon's own latency figures are whole milliseconds).
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      if (responses === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[responses++] = responseTime;
      const key = String(statusCode);
      statusCounts[key] = (statusCounts[key] ?? 0) + 1;
      if (statusCode !== scenario.expectStatus) wrongStatus++;
      if (statusCode >= 500) status5xx++;
    });
    instance.on("reqError", (error: Error) => {
      if (error.message === "request timed out") return; // autocannon counts these as timeouts
      const code = (error as NodeJS.ErrnoException).code ?? error.message;
      socketErrors[code] = (socketErrors[code] ?? 0) + 1;
    });
  });
}

interface ScenarioResult {
  id: string;
  label: string;
  worker: string;
  requests: number;
  seconds: number;
  reqPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  wrongStatus: number;
  status5xx: number;
  timeouts: number;
  socketErrors: Record<string, number>;
  statusCounts: Record<string, number>;
  originRequests: number;
  workerDecisions: Record<string, number>;
  workerProblems: Record<string, number>;
  isolateCacheEstimate?: { hits: number; misses: number; hitRate: number; distinctConnections: number };
  autocannon: { reqPerSecAverage: number; latencyP50Ms: number; latencyP99Ms: number; non2xx: number; total: number };
  preflightProblems: string[];
  warnings: string[];
}

async function check(
  url: URL,
  init: RequestInit,
  expectStatus: number,
  extra: (res: Response) => string | undefined,
): Promise<string | undefined> {
  const res = await fetch(url, { ...init, redirect: "manual" });
  await res.arrayBuffer();
  if (res.status !== expectStatus) {
    return `${init.method ?? "GET"} ${url.pathname}${url.search.slice(0, 80)}: status ${res.status}, expected ${expectStatus}`;
  }
  return extra(res);
}

// ---------------------------------------------------------------------------

async function main(): Promise<number> {
  mkdirSync(BUILD_DIR, { recursive: true });
  const cpus = os.cpus().length;
  const loadBefore = os.loadavg();
  const require = createRequire(import.meta.url);
  const miniflareVersion = (require("miniflare/package.json") as { version: string }).version;
  const autocannonVersion = (require("autocannon/package.json") as { version: string }).version;

  console.log("callback-router benchmark");
  console.log(
    `  ${cpus} CPU core(s), load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")}; ` +
      `node ${process.version}, miniflare ${miniflareVersion}, autocannon ${autocannonVersion}`,
  );
  console.log(
    `  NOTE: shared machine. autocannon (this Node process), the origin (a worker thread of it) and workerd ` +
      `all compete for the same ${cpus} core(s), and so does anything else running here;`,
  );
  console.log("        the numbers compare scenarios side by side within this run; they are not absolute capacity.");
  console.log(
    `  settings: ${CONNECTIONS} connections, pipelining 1, ${WARMUP_S}s warm-up + ${DURATION_S}s measured per scenario, loopback only`,
  );

  // The router's wrangler.toml (top level): compatibility date/flags, Durable Object bindings, define.
  const wranglerOptions = unstable_getMiniflareWorkerOptions(path.join(ROOT, "wrangler.toml"));
  const { workerOptions: wranglerWorker } = wranglerOptions;
  const compatibilityDate = wranglerWorker.compatibilityDate ?? "2026-04-20";
  const compatibilityFlags = wranglerWorker.compatibilityFlags ?? [];

  say("bundling Workers with esbuild");
  const routerJs = path.join(BUILD_DIR, "router.mjs");
  const bareJs = path.join(BUILD_DIR, "bare-worker.mjs");
  const seedJs = path.join(BUILD_DIR, "seed-worker.mjs");
  const originJs = path.join(BUILD_DIR, "origin-thread.mjs");
  await Promise.all([
    bundle(wranglerOptions.main ?? path.join(ROOT, "src/index.ts"), routerJs, "browser", wranglerOptions.define),
    bundle(path.join(ROOT, "bench/bare-worker.ts"), bareJs, "browser"),
    bundle(path.join(ROOT, "bench/seed-worker.ts"), seedJs, "browser"),
    bundle(path.join(ROOT, "bench/origin-thread.ts"), originJs, "node"),
  ]);

  say(`generating tables (${SMALL_ROUTES} and ${BIG_ROUTES} routes)`);
  const small = generateTable(SMALL_ROUTES);
  const big = generateTable(BIG_ROUTES);
  const tValidate = performance.now();
  for (const [name, table] of [
    ["small", small],
    ["big", big],
  ] as Array<[string, GeneratedTable]>) {
    const parsed = RouteTableFile.safeParse(table.file);
    if (!parsed.success) {
      throw new Error(
        `generated ${name} table is not a valid RouteTableFile: ${JSON.stringify(parsed.error.issues[0])}`,
      );
    }
  }
  const validateMs = performance.now() - tValidate;
  const smallEntries = tableToKvEntries(small.file, UPDATED_AT);
  const bigEntries = tableToKvEntries(big.file, UPDATED_AT);
  say(
    `  tables valid (RouteTableFile.safeParse, ${validateMs.toFixed(0)} ms); ` +
      `tableToKvEntries: ${smallEntries.length} and ${bigEntries.length} KV entries`,
  );

  const samlConnection = small.legacy[0] ?? "";
  const samlBody = samlPostBody(samlConnection);
  const samlBodyBytes = Buffer.byteLength(samlBody);

  // Miniflare's KV is SQLite plus one blob file per value. Keep it on tmpfs when there is one, in a
  // directory of our own (removed at the end) so that a seeded KV can be snapshotted and restored.
  let tmpBase = os.tmpdir();
  try {
    accessSync("/dev/shm", fsConstants.W_OK);
    tmpBase = "/dev/shm";
  } catch {
    // keep the default temp directory
  }
  const storage = tmpBase === "/dev/shm" ? "/dev/shm (tmpfs)" : tmpBase;
  const snapshotId = snapshotKey(bigEntries, miniflareVersion);
  const snapshotTar = path.join(SNAPSHOT_DIR, `${snapshotId}.tar.gz`);
  const snapshotMetaFile = path.join(SNAPSHOT_DIR, `${snapshotId}.json`);

  const origin = await startOrigin(originJs);
  const originUrl = `http://127.0.0.1:${origin.port}`;
  say(`origin (Auth0 stand-in) listening on ${originUrl}`);
  const kvRoot = mkdtempSync(path.join(tmpBase, "callback-router-bench-"));
  const kvPersist = path.join(kvRoot, "kv");
  // Also on exits that skip the async cleanup (Miniflare's exit hook ends the process on SIGINT/SIGTERM).
  process.on("exit", () => rmSync(kvRoot, { recursive: true, force: true }));

  const logs = new LogTally();
  const routerBindings = {
    ENVIRONMENT: "development",
    AUTH0_ORIGIN: originUrl,
    ALLOWED_TARGET_HOSTS: TARGET_HOST,
    ROUTE_CACHE_SECONDS: String(ROUTE_CACHE_SECONDS),
  };
  const direct = [{ host: "127.0.0.1", port: 0 }];
  let mf: Miniflare | undefined;

  const results: ScenarioResult[] = [];
  const seeding = {
    entries: bigEntries.length,
    /** Seeding time in this run, or the original seeding time of the restored snapshot. */
    ms: 0,
    retries: 0,
    restoredFromSnapshot: false,
    restoreMs: 0,
    snapshotSavedMs: 0,
    snapshot: path.relative(ROOT, snapshotTar),
  };
  let failed = false;
  const fatal: string[] = [];

  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    const m = mf;
    mf = undefined;
    await Promise.allSettled([m?.dispose(), origin.close()]);
  };
  const removeKvRoot = (): void => rmSync(kvRoot, { recursive: true, force: true });
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: stopping`);
    void cleanup()
      .finally(removeKvRoot)
      .finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    mkdirSync(kvPersist, { recursive: true });
    const snapshotMeta = FRESH_KV ? undefined : readSnapshotMeta(snapshotMetaFile);
    if (snapshotMeta !== undefined && existsSync(snapshotTar)) {
      const t0 = performance.now();
      await run("tar", ["-xzf", snapshotTar, "-C", kvPersist]);
      seeding.restoredFromSnapshot = true;
      seeding.restoreMs = performance.now() - t0;
      seeding.ms = snapshotMeta.seedMs;
      say(
        `restored the seeded ${bigEntries.length}-entry KV from ${seeding.snapshot} in ${(seeding.restoreMs / 1000).toFixed(1)} s ` +
          `(seeding it took ${(snapshotMeta.seedMs / 1000).toFixed(1)} s on ${snapshotMeta.createdAt}; --fresh-kv to seed again)`,
      );
    }

    mf = new Miniflare({
      kvPersist,
      handleRuntimeStdio(stdout: Readable, stderr: Readable) {
        stdout.on("data", (chunk: Buffer) => logs.feed(chunk));
        stderr.on("data", (chunk: Buffer) => logs.feedStderr(chunk));
      },
      workers: [
        {
          ...wranglerWorker,
          name: "router",
          modules: true,
          scriptPath: routerJs,
          bindings: routerBindings,
          kvNamespaces: { ROUTES: "routes-small" },
          unsafeDirectSockets: direct,
        },
        {
          ...wranglerWorker,
          name: "router-100k",
          modules: true,
          scriptPath: routerJs,
          bindings: routerBindings,
          kvNamespaces: { ROUTES: "routes-big" },
          unsafeDirectSockets: direct,
        },
        // The same two tables with the isolate cache off: every callback reads KV, so the
        // pair compares table size alone.
        {
          ...wranglerWorker,
          name: "router-nocache",
          modules: true,
          scriptPath: routerJs,
          bindings: { ...routerBindings, ROUTE_CACHE_SECONDS: "0" },
          kvNamespaces: { ROUTES: "routes-small" },
          unsafeDirectSockets: direct,
        },
        {
          ...wranglerWorker,
          name: "router-100k-nocache",
          modules: true,
          scriptPath: routerJs,
          bindings: { ...routerBindings, ROUTE_CACHE_SECONDS: "0" },
          kvNamespaces: { ROUTES: "routes-big" },
          unsafeDirectSockets: direct,
        },
        {
          name: "bare",
          modules: true,
          scriptPath: bareJs,
          compatibilityDate,
          compatibilityFlags,
          bindings: { ORIGIN: originUrl },
          unsafeDirectSockets: direct,
        },
        {
          name: "seeder",
          modules: true,
          scriptPath: seedJs,
          compatibilityDate,
          kvNamespaces: { SMALL: "routes-small", BIG: "routes-big" },
          unsafeDirectSockets: direct,
        },
      ],
    });
    await mf.ready;
    const urls: Record<WorkerName, URL> = {
      router: await mf.unsafeGetDirectURL("router"),
      "router-100k": await mf.unsafeGetDirectURL("router-100k"),
      "router-nocache": await mf.unsafeGetDirectURL("router-nocache"),
      "router-100k-nocache": await mf.unsafeGetDirectURL("router-100k-nocache"),
      bare: await mf.unsafeGetDirectURL("bare"),
      seeder: await mf.unsafeGetDirectURL("seeder"),
    };
    say(
      `workerd up (Miniflare, compatibility date ${compatibilityDate}, KV in ${storage}): ` +
        `router ${urls.router.host}, router-100k ${urls["router-100k"].host}, bare ${urls.bare.host}`,
    );

    await seedKv(urls.seeder, "SMALL", smallEntries, false);
    if (!seeding.restoredFromSnapshot) {
      say(
        `seeding ${bigEntries.length} KV entries (${BIG_ROUTES} routes) through the seeder Worker: ` +
          `batches of ${SEED_BATCH}, ${SEED_REQUESTS_IN_FLIGHT} in flight, ${SEED_PUTS_PER_REQUEST} puts in parallel each`,
      );
      const seeded = await seedKv(urls.seeder, "BIG", bigEntries, true);
      seeding.ms = seeded.ms;
      seeding.retries = seeded.retries;
      say(
        `  seeded ${bigEntries.length} entries in ${(seeded.ms / 1000).toFixed(1)} s ` +
          `(${Math.round(bigEntries.length / (seeded.ms / 1000))} puts/s${seeded.retries > 0 ? `, ${seeded.retries} batch retries` : ""})`,
      );
    }

    const pickSmallMigrated = pickFrom(small.migrated);
    const pickBigMigrated = pickFrom(big.migrated);
    const hotConnection = big.migrated[Math.floor(big.migrated.length / 2)] ?? "";
    const cacheSmall = new CacheSimulation(ROUTE_CACHE_SECONDS * 1000, ISOLATE_CACHE_MAX_ENTRIES);
    const cacheBig = new CacheSimulation(ROUTE_CACHE_SECONDS * 1000, ISOLATE_CACHE_MAX_ENTRIES);
    const noCacheSmall = new CacheSimulation(0, ISOLATE_CACHE_MAX_ENTRIES);
    const noCacheBig = new CacheSimulation(0, ISOLATE_CACHE_MAX_ENTRIES);
    let countCache = false;
    const callbackPath = (pick: () => string, cache: CacheSimulation) => (): string => {
      const connection = pick();
      cache.access(connection, countCache);
      return `/login/callback?connection=${connection}`;
    };
    const authorizePath =
      "/authorize?client_id=x&response_type=code&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback" +
      "&scope=openid%20profile%20email&state=bench-state-1234567890&nonce=bench-nonce-0987654321";

    const checkRedirects = async (base: URL, connections: string[], cache: CacheSimulation): Promise<string[]> => {
      const problems: string[] = [];
      for (const connection of connections) {
        cache.access(connection, false);
        const url = new URL(`/login/callback?connection=${connection}`, base);
        const problem = await check(url, { method: "GET" }, 307, (res) => {
          const location = res.headers.get("location") ?? "";
          return location.startsWith(`https://${TARGET_HOST}/`) && location.endsWith(`connection=${connection}`)
            ? undefined
            : `connection ${connection}: Location "${location}"`;
        });
        if (problem !== undefined) problems.push(problem);
      }
      return problems;
    };
    const forwarded =
      (expectBytes: number) =>
      (res: Response): string | undefined =>
        res.headers.get("x-received-bytes") === String(expectBytes)
          ? undefined
          : `origin received ${res.headers.get("x-received-bytes")} body bytes, expected ${expectBytes}`;
    const only = (problems: Array<string | undefined>): string[] =>
      problems.filter((p): p is string => p !== undefined);
    const sample = (pick: () => string, n: number): string[] => Array.from({ length: n }, pick);

    const scenarios: Scenario[] = [
      {
        id: "c-bare",
        label: "(c') GET /authorize, bare Worker",
        worker: "bare",
        expectStatus: 200,
        usesOrigin: true,
        request: { method: "GET", path: authorizePath },
        preflight: async (base) =>
          only([await check(new URL(authorizePath, base), { method: "GET" }, 200, forwarded(0))]),
      },
      {
        id: "c",
        label: "(c)  GET /authorize, router",
        worker: "router",
        expectStatus: 200,
        usesOrigin: true,
        request: { method: "GET", path: authorizePath },
        preflight: async (base) =>
          only([await check(new URL(authorizePath, base), { method: "GET" }, 200, forwarded(0))]),
      },
      {
        id: "a",
        label: `(a)  GET callback -> 307, ${SMALL_ROUTES} routes`,
        worker: "router",
        expectStatus: 307,
        expectReason: "migrated",
        usesOrigin: false,
        request: { method: "GET" },
        nextPath: callbackPath(pickSmallMigrated, cacheSmall),
        cache: cacheSmall,
        preflight: (base) => checkRedirects(base, small.migrated, cacheSmall),
      },
      {
        id: "b",
        label: `(b)  POST callback, legacy, ${(samlBodyBytes / 1024).toFixed(1)} KB`,
        worker: "router",
        expectStatus: 200,
        expectReason: "legacy",
        usesOrigin: true,
        request: {
          method: "POST",
          path: `/login/callback?connection=${samlConnection}`,
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: samlBody,
        },
        preflight: async (base) =>
          only([
            await check(
              new URL(`/login/callback?connection=${samlConnection}`, base),
              { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: samlBody },
              200,
              forwarded(samlBodyBytes),
            ),
          ]),
      },
      {
        id: "a-100k",
        label: `(a)  GET callback -> 307, ${BIG_ROUTES} routes, random conn`,
        worker: "router-100k",
        expectStatus: 307,
        expectReason: "migrated",
        usesOrigin: false,
        request: { method: "GET" },
        nextPath: callbackPath(pickBigMigrated, cacheBig),
        cache: cacheBig,
        preflight: (base) => checkRedirects(base, sample(pickBigMigrated, 25), cacheBig),
      },
      {
        id: "a-100k-hot",
        label: `(a)  GET callback -> 307, ${BIG_ROUTES} routes, one conn`,
        worker: "router-100k",
        expectStatus: 307,
        expectReason: "migrated",
        usesOrigin: false,
        request: { method: "GET" },
        nextPath: callbackPath(() => hotConnection, cacheBig),
        cache: cacheBig,
        preflight: (base) => checkRedirects(base, [hotConnection], cacheBig),
      },
      {
        id: "a-nocache",
        label: `(a)  GET callback -> 307, ${SMALL_ROUTES} routes, no isolate cache`,
        worker: "router-nocache",
        expectStatus: 307,
        expectReason: "migrated",
        usesOrigin: false,
        request: { method: "GET" },
        nextPath: callbackPath(pickSmallMigrated, noCacheSmall),
        cache: noCacheSmall,
        preflight: (base) => checkRedirects(base, small.migrated, noCacheSmall),
      },
      {
        id: "a-100k-nocache",
        label: `(a)  GET callback -> 307, ${BIG_ROUTES} routes, no isolate cache`,
        worker: "router-100k-nocache",
        expectStatus: 307,
        expectReason: "migrated",
        usesOrigin: false,
        request: { method: "GET" },
        nextPath: callbackPath(pickBigMigrated, noCacheBig),
        cache: noCacheBig,
        preflight: (base) => checkRedirects(base, sample(pickBigMigrated, 25), noCacheBig),
      },
    ];

    for (const scenario of scenarios) {
      const base = urls[scenario.worker];
      const preflightProblems = await scenario.preflight(base);
      if (preflightProblems.length > 0) {
        failed = true;
        say(`${scenario.id}: PREFLIGHT FAILED: ${preflightProblems.slice(0, 3).join("; ")}`);
      }
      say(`${scenario.id}: warm-up ${WARMUP_S}s`);
      countCache = false;
      await runLoad(base, scenario, WARMUP_S);
      await sleep(300);
      logs.reset();
      scenario.cache?.resetCounts();
      const originBefore = await origin.requests();
      say(`${scenario.id}: measuring ${DURATION_S}s`);
      countCache = true;
      const stats = await runLoad(base, scenario, DURATION_S);
      countCache = false;
      await sleep(300); // let the last log lines arrive
      const originRequests = (await origin.requests()) - originBefore;

      const warnings: string[] = [];
      if (scenario.expectReason !== undefined) {
        const expected = scenario.expectReason;
        const other = [...logs.reasons.entries()].filter(([reason]) => reason !== expected);
        if (other.length > 0) {
          warnings.push(`router decided ${other.map(([r, n]) => `${r}×${n}`).join(", ")} (expected only ${expected})`);
        }
        if ((logs.reasons.get(expected) ?? 0) === 0) warnings.push(`no "${expected}" decisions in the Worker log`);
      }
      if (!scenario.usesOrigin && originRequests > 0)
        warnings.push(`${originRequests} requests reached the origin (expected none)`);
      if (scenario.usesOrigin && Math.abs(originRequests - stats.responses) > CONNECTIONS) {
        warnings.push(`the origin saw ${originRequests} requests for ${stats.responses} responses`);
      }
      if (logs.problemEvents.size > 0) {
        warnings.push(
          `Worker logged problems: ${JSON.stringify(Object.fromEntries(logs.problemEvents))}; e.g. ${logs.lastProblems[0] ?? ""}`,
        );
      }
      const socketErrorCount = Object.values(stats.socketErrors).reduce((a, b) => a + b, 0);
      const result: ScenarioResult = {
        id: scenario.id,
        label: scenario.label,
        worker: scenario.worker,
        requests: stats.responses,
        seconds: stats.seconds,
        reqPerSec: stats.responses / stats.seconds,
        p50Ms: percentile(stats.latencies, 0.5),
        p90Ms: percentile(stats.latencies, 0.9),
        p99Ms: percentile(stats.latencies, 0.99),
        maxMs: percentile(stats.latencies, 1),
        errors: stats.wrongStatus + stats.timeouts + socketErrorCount,
        wrongStatus: stats.wrongStatus,
        status5xx: stats.status5xx,
        timeouts: stats.timeouts,
        socketErrors: stats.socketErrors,
        statusCounts: stats.statusCounts,
        originRequests,
        workerDecisions: Object.fromEntries(logs.reasons),
        workerProblems: Object.fromEntries(logs.problemEvents),
        autocannon: {
          reqPerSecAverage: stats.autocannon.requests.average,
          latencyP50Ms: stats.autocannon.latency.p50,
          latencyP99Ms: stats.autocannon.latency.p99,
          non2xx: stats.autocannon.non2xx,
          total: stats.autocannon.requests.total,
        },
        preflightProblems,
        warnings,
      };
      const cache = scenario.cache;
      if (cache !== undefined) {
        const total = cache.hits + cache.misses;
        result.isolateCacheEstimate = {
          hits: cache.hits,
          misses: cache.misses,
          hitRate: total === 0 ? NaN : cache.hits / total,
          distinctConnections: cache.distinctKeys,
        };
      }
      if (result.errors > 0) failed = true;
      results.push(result);
      say(
        `${scenario.id}: ${result.requests} req, ${fmt(result.reqPerSec, 0)} req/s, p50 ${fmt(result.p50Ms)} ms, ` +
          `p99 ${fmt(result.p99Ms)} ms, errors ${result.errors}` +
          warnings.map((w) => `\n         WARNING: ${w}`).join(""),
      );
    }
  } catch (err) {
    failed = true;
    fatal.push(describeError(err));
    console.error(`benchmark aborted: ${fatal[0]}`);
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await cleanup();
    // A freshly seeded KV (workerd has exited, so its files are complete) is kept for the next run.
    if (!seeding.restoredFromSnapshot && seeding.ms > 0 && fatal.length === 0) {
      try {
        const t0 = performance.now();
        mkdirSync(SNAPSHOT_DIR, { recursive: true });
        for (const old of readdirSync(SNAPSHOT_DIR)) rmSync(path.join(SNAPSHOT_DIR, old), { force: true });
        await run("tar", ["-czf", `${snapshotTar}.partial`, "-C", kvPersist, "."]);
        renameSync(`${snapshotTar}.partial`, snapshotTar);
        const meta: SnapshotMeta = {
          entries: bigEntries.length,
          seedMs: Math.round(seeding.ms),
          createdAt: new Date().toISOString(),
        };
        writeFileSync(snapshotMetaFile, `${JSON.stringify(meta)}\n`);
        seeding.snapshotSavedMs = performance.now() - t0;
        say(
          `saved the seeded KV to ${seeding.snapshot} in ${(seeding.snapshotSavedMs / 1000).toFixed(1)} s (reused by the next run)`,
        );
      } catch (err) {
        say(`could not save the KV snapshot: ${firstLine(describeError(err))}`);
      }
    }
    removeKvRoot();
  }

  // -------------------------------------------------------------------------
  // Report

  const byId = new Map(results.map((r) => [r.id, r]));
  const ratio = (a: string, b: string, field: "reqPerSec" | "p50Ms" | "p99Ms"): number => {
    const x = byId.get(a)?.[field];
    const y = byId.get(b)?.[field];
    return x !== undefined && y !== undefined && y !== 0 ? x / y : NaN;
  };
  const ratios = [
    { name: "(c)/(c')  router vs bare pass-through", of: "c", to: "c-bare" },
    { name: "(a)/(c)   307 decision vs pass-through", of: "a", to: "c" },
    { name: "(a 100k)/(a 10)  random conn: mostly KV reads", of: "a-100k", to: "a" },
    { name: "(a 100k hot)/(a 10)  both isolate-cache hits", of: "a-100k-hot", to: "a" },
    { name: "(a 100k)/(a 10)  no isolate cache: table size alone", of: "a-100k-nocache", to: "a-nocache" },
    { name: "(b)/(c)   8 KB POST forward vs GET forward", of: "b", to: "c" },
  ].map((r) => ({
    ...r,
    reqPerSec: ratio(r.of, r.to, "reqPerSec"),
    p50: ratio(r.of, r.to, "p50Ms"),
    p99: ratio(r.of, r.to, "p99Ms"),
  }));

  console.log("");
  const header = ["scenario", "requests", "req/s", "p50 ms", "p99 ms", "errors"];
  const rows = results.map((r) => [
    r.label,
    String(r.requests),
    fmt(r.reqPerSec, 0),
    fmt(r.p50Ms),
    fmt(r.p99Ms),
    String(r.errors),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows) console.log(line(row));
  console.log("");
  console.log(`${"ratio".padEnd(47)}  req/s    p50    p99`);
  for (const r of ratios) {
    console.log(
      `${r.name.padEnd(47)} ${fmt(r.reqPerSec).padStart(6)} ${fmt(r.p50).padStart(6)} ${fmt(r.p99).padStart(6)}`,
    );
  }
  console.log("");
  for (const r of results) {
    const c = r.isolateCacheEstimate;
    if (c === undefined) continue;
    console.log(
      `${r.id}: ${c.distinctConnections} distinct connections requested; est. isolate route-cache hit rate ` +
        `${fmt(100 * c.hitRate, 1)}% (${c.misses} route:* reads from KV)`,
    );
  }
  const loadAfter = os.loadavg();
  const seedRate = seeding.ms > 0 ? Math.round(bigEntries.length / (seeding.ms / 1000)) : NaN;
  console.log(
    seeding.restoredFromSnapshot
      ? `KV: ${bigEntries.length} entries restored from a snapshot in ${(seeding.restoreMs / 1000).toFixed(1)} s; ` +
          `seeding them took ${(seeding.ms / 1000).toFixed(1)} s (${seedRate} puts/s) when the snapshot was made`
      : `KV: seeded ${bigEntries.length} entries in ${(seeding.ms / 1000).toFixed(1)} s (${seedRate} puts/s, Miniflare KV in ${storage})`,
  );
  console.log(
    `(a) and "(a) with ${SMALL_ROUTES} routes" are the same run. (b) body: ${samlBodyBytes} bytes. ` +
      `load average before ${loadBefore.map((l) => l.toFixed(2)).join(" ")}, after ${loadAfter.map((l) => l.toFixed(2)).join(" ")}`,
  );
  console.log(
    `shared ${cpus}-core machine: autocannon, the origin and workerd compete for CPU (with whatever else runs); compare ratios, not absolutes.`,
  );
  for (const r of results) {
    const notes = [...r.preflightProblems.map((p) => `preflight: ${p}`), ...r.warnings];
    if (r.errors > 0) {
      notes.unshift(
        `errors: wrong status ${r.wrongStatus} (5xx ${r.status5xx}), timeouts ${r.timeouts}, ` +
          `socket ${JSON.stringify(r.socketErrors)}; statuses ${JSON.stringify(r.statusCounts)}`,
      );
    }
    for (const n of notes) console.log(`! ${r.id}: ${n}`);
  }
  if (logs.stderr.length > 0) console.log(`workerd stderr (first lines):\n  ${logs.stderr.slice(0, 10).join("\n  ")}`);

  const json = {
    generatedAt: new Date().toISOString(),
    machine: {
      cpus,
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadAfter,
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      shared: true,
    },
    tools: { miniflare: miniflareVersion, autocannon: autocannonVersion, compatibilityDate, compatibilityFlags },
    settings: {
      connections: CONNECTIONS,
      pipelining: 1,
      warmupSeconds: WARMUP_S,
      durationSeconds: DURATION_S,
      routeCacheSeconds: ROUTE_CACHE_SECONDS,
      smallRoutes: SMALL_ROUTES,
      bigRoutes: BIG_ROUTES,
      smallKvEntries: smallEntries.length,
      samlBodyBytes,
      storage,
    },
    seeding: {
      ...seeding,
      ms: Math.round(seeding.ms),
      restoreMs: Math.round(seeding.restoreMs),
      snapshotSavedMs: Math.round(seeding.snapshotSavedMs),
      putsPerSecond: seedRate,
      batch: SEED_BATCH,
      requestsInFlight: SEED_REQUESTS_IN_FLIGHT,
      putsPerRequest: SEED_PUTS_PER_REQUEST,
    },
    scenarios: results,
    ratios,
    failed,
    fatal,
    totalSeconds: (performance.now() - started) / 1000,
  };
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(
    path.join(OUT_DIR, "results.json"),
    `${JSON.stringify(json, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2)}\n`,
  );
  console.log(`results: .bench/results.json; total ${elapsed()}; ${failed ? "FAILED (see above)" : "no errors"}`);
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
    // Everything has been closed; should a stray handle still hold the event loop, do not hang.
    setTimeout(() => {
      console.error("open handles remained after cleanup; exiting");
      process.exit(code);
    }, 5000).unref();
  },
  (err: unknown) => {
    console.error(describeError(err));
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 5000).unref();
  },
);
