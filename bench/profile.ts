/**
 * CPU profiles of the router on one path at a time, through workerd's DevTools
 * inspector (the V8 Profiler domain), while that path is under load:
 *
 *   npx tsx bench/profile.ts [--scenario c,a,b,f,s8,s2m] [--seconds 5] [--connections 32] [--interval-us 200]
 *
 * For each scenario: a warm-up, then the router isolate is profiled for
 * --seconds of load. Each profile is written to .bench/profiles/<id>.cpuprofile
 * (open it in Chrome DevTools > Performance, or VS Code) and summarized here:
 * self time per source module and per function, mapped through the bundle's
 * source map. The profiled router runs on the 10-route table. Loopback only;
 * recipe and readings in bench/README.md.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadSourceMap, summarize, type CpuProfile } from "./cpuprofile";
import { makeKvDir } from "./kv-dir";
import { seedKv } from "./kv-seed";
import { runLoad } from "./load";
import { LogTally } from "./logs";
import { MIXED_ROUTE_CACHE_SECONDS, newAdminToken } from "./mixed";
import { startOrigin } from "./origin";
import { ScenarioContext } from "./scenarios/common";
import { allScenarios } from "./scenarios/index";
import { BUILD_DIR, OUT_DIR, SMALL_ROUTES } from "./settings";
import { buildTables } from "./tables";
import { describeError, say } from "./util";
import { buildWorkers, startWorkerd } from "./workers";

const { values } = parseArgs({
  options: {
    scenario: { type: "string", default: "c,a,b,f,s8,s2m" },
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "32" },
    "interval-us": { type: "string", default: "200" },
    "inspector-port": { type: "string", default: "9329" },
  },
  strict: true,
});
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const INTERVAL_US = Number(values["interval-us"]);
const INSPECTOR_PORT = Number(values["inspector-port"]);
const PROFILE_DIR = path.join(OUT_DIR, "profiles");

/** A minimal Chrome DevTools Protocol client over the inspector's WebSocket. */
class Inspector {
  private nextId = 1;
  private readonly waiting = new Map<number, (result: unknown) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: unknown };
      if (message.id === undefined) return;
      const resolve = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      resolve?.(message.error !== undefined ? { error: message.error } : message.result);
    });
  }

  /** Connects to the isolate whose inspector target is named `worker`. */
  static async open(port: number, worker: string): Promise<Inspector> {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{
      id: string;
      title?: string;
      webSocketDebuggerUrl?: string;
    }>;
    const target = targets.find((t) => t.id === worker || t.title === worker || t.id.endsWith(`:${worker}`));
    if (target?.webSocketDebuggerUrl === undefined) {
      throw new Error(`no inspector target "${worker}" in ${JSON.stringify(targets.map((t) => t.id))}`);
    }
    const ws = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error("inspector WebSocket failed")), { once: true });
    });
    return new Inspector(ws);
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

async function main(): Promise<void> {
  mkdirSync(BUILD_DIR, { recursive: true });
  mkdirSync(PROFILE_DIR, { recursive: true });
  const builds = await buildWorkers({ sourcemap: true });
  const map = loadSourceMap(`${builds.routerJs}.map`);
  const tables = buildTables(SMALL_ROUTES);
  const ctx = new ScenarioContext(tables);
  const wanted = (values.scenario ?? "").split(",").map((s) => s.trim());
  const scenarios = allScenarios(ctx, SMALL_ROUTES).filter((s) => wanted.includes(s.id));
  if (scenarios.length === 0) throw new Error(`no scenario among ${values.scenario}`);
  const origin = await startOrigin(builds.originJs);
  const kvDir = makeKvDir();
  const workerd = await startWorkerd({
    builds,
    originUrl: `http://127.0.0.1:${origin.port}`,
    kvPersist: kvDir.persist,
    logs: new LogTally(),
    adminToken: newAdminToken(),
    mixedRouteCacheSeconds: MIXED_ROUTE_CACHE_SECONDS,
    inspectorPort: INSPECTOR_PORT,
  });
  try {
    await seedKv(workerd.urls.seeder, "SMALL", tables.smallEntries, false);
    for (const scenario of scenarios) {
      const base = workerd.urls[scenario.worker];
      const problems = await scenario.preflight(base);
      if (problems.length > 0) say(`${scenario.id}: PREFLIGHT FAILED: ${problems.join("; ")}`);
      const spec = { ...scenario, connections: scenario.connections ?? CONNECTIONS };
      await runLoad(base, spec, 2);
      const inspector = await Inspector.open(INSPECTOR_PORT, scenario.worker);
      await inspector.send("Profiler.enable");
      await inspector.send("Profiler.setSamplingInterval", { interval: INTERVAL_US });
      await inspector.send("Profiler.start");
      const stats = await runLoad(base, spec, SECONDS);
      const stopped = (await inspector.send("Profiler.stop")) as { profile?: CpuProfile };
      inspector.close();
      if (stopped.profile === undefined) throw new Error(`${scenario.id}: Profiler.stop returned no profile`);
      const file = path.join(PROFILE_DIR, `${scenario.id}.cpuprofile`);
      writeFileSync(file, JSON.stringify(stopped.profile));
      const summary = summarize(stopped.profile, map, path.basename(builds.routerJs));
      const perRequest = (ms: number): string => `${((ms * 1000) / Math.max(1, stats.responses)).toFixed(1)} µs/req`;
      console.log(
        `\n${scenario.label}: ${stats.responses} responses in ${SECONDS}s; isolate busy ${summary.busyMs.toFixed(0)} ms ` +
          `(${perRequest(summary.busyMs)}); ${path.relative(process.cwd(), file)}`,
      );
      console.log("  self time by module:");
      for (const [m, ms] of summary.byModule.slice(0, 12)) console.log(`    ${perRequest(ms).padStart(14)}  ${m}`);
      console.log("  self time by function:");
      for (const [f, ms] of summary.byFunction.slice(0, 15)) console.log(`    ${perRequest(ms).padStart(14)}  ${f}`);
    }
  } finally {
    await Promise.allSettled([workerd.mf.dispose(), origin.close()]);
    kvDir.remove();
  }
}

main().catch((err: unknown) => {
  console.error(describeError(err));
  process.exitCode = 1;
});
