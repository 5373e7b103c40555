/**
 * What one console.log of a pre-built ~300-byte line costs a Worker in local workerd,
 * depending on how the logs are captured:
 *
 *   npx tsx bench/log-cost.ts [--rounds 3] [--seconds 3] [--connections 32]
 *
 * Two Workers in one workerd, identical but for one console.log(LINE) per request
 * (a 307 like the router's). Each capture mode gets its own workerd:
 *   plain       workerd directly, structuredLogging off, stdout read and dropped
 *   structured  workerd directly, structuredLogging on (each line wrapped in JSON), stdout dropped
 *   miniflare   Miniflare as `npm run bench` runs it (structured logs parsed by handleStructuredLogs)
 *   inspector   the same with workerd's DevTools inspector on (as `npm run bench:profile`), nobody attached
 * Figures: workerd CPU µs per request (from /proc) and req/s, medians of interleaved rounds.
 * Loopback only; bounded by --rounds × --seconds.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import autocannon, { type Options, type Result } from "autocannon";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { cpuSeconds, descendantsNamed } from "./cpu";
import { LogTally } from "./logs";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "3" },
    connections: { type: "string", default: "32" },
    modes: { type: "string", default: "plain,structured,miniflare,inspector" },
  },
  strict: true,
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const COMPAT = "2026-04-20";

// A callback line of the router's shape and size (~300 bytes), built once.
const LINE = JSON.stringify({
  ts: "2026-11-30T14:00:00.000Z",
  event: "callback",
  method: "GET",
  connection: "acme-okta-saml-0001",
  identifiedBy: "query:connection",
  bodyScan: "none",
  decision: "new",
  reason: "route-migrated",
  targetHost: "sso.new-provider.example",
  status: 307,
  durationMs: 0,
  padding: "x".repeat(40),
});

const worker = (logs: boolean): string => `
const LINE = ${JSON.stringify(LINE)};
export default {
  fetch(request) {
    ${logs ? "console.log(LINE);" : ""}
    const q = request.url.indexOf("?");
    return new Response(null, { status: 307, headers: { location: "https://sso.new-provider.example/cb" + (q < 0 ? "" : request.url.slice(q)) } });
  },
};`;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Running {
  urls: { log: string; nolog: string };
  pids: () => number[];
  stop: () => Promise<void>;
}

async function startDirect(structured: boolean, dir: string): Promise<Running> {
  const [p1, p2] = [await freePort(), await freePort()];
  writeFileSync(path.join(dir, "log.js"), worker(true));
  writeFileSync(path.join(dir, "nolog.js"), worker(false));
  const capnp = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "log", worker = .logW), (name = "nolog", worker = .nologW) ],
  sockets = [ (name = "log", address = "127.0.0.1:${p1}", http = (), service = "log"),
              (name = "nolog", address = "127.0.0.1:${p2}", http = (), service = "nolog") ],
  structuredLogging = ${structured},
);
const logW :Workerd.Worker = ( modules = [ (name = "w.js", esModule = embed "log.js") ], compatibilityDate = "${COMPAT}" );
const nologW :Workerd.Worker = ( modules = [ (name = "w.js", esModule = embed "nolog.js") ], compatibilityDate = "${COMPAT}" );
`;
  const file = path.join(dir, "config.capnp");
  writeFileSync(file, capnp);
  const bin = path.join(process.cwd(), "node_modules/@cloudflare/workerd-linux-64/bin/workerd");
  const child: ChildProcess = spawn(bin, ["serve", file], { stdio: ["ignore", "pipe", "pipe"] });
  let lines = 0;
  child.stdout?.on("data", (b: Buffer) => {
    for (const c of b) if (c === 10) lines++;
  });
  child.stderr?.on("data", () => {});
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${p2}/`, { redirect: "manual" });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    urls: { log: `http://127.0.0.1:${p1}`, nolog: `http://127.0.0.1:${p2}` },
    pids: () => [child.pid ?? -1],
    stop: async () => {
      console.log(`    (stdout lines seen: ${lines})`);
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

async function startMiniflare(inspector: boolean, tally: boolean): Promise<Running> {
  let lines = 0;
  const logs = new LogTally();
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      ...(inspector ? { inspectorPort: await freePort() } : {}),
      handleStructuredLogs({ message }: { message: string }) {
        if (tally) logs.line(message);
        else if (message.length > 0) lines++;
      },
      workers: [
        {
          name: "log",
          modules: true,
          script: worker(true),
          compatibilityDate: COMPAT,
          unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
        },
        {
          name: "nolog",
          modules: true,
          script: worker(false),
          compatibilityDate: COMPAT,
          unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
        },
      ],
    }),
  );
  await mf.ready;
  const log = await mf.unsafeGetDirectURL("log");
  const nolog = await mf.unsafeGetDirectURL("nolog");
  return {
    urls: { log: log.origin, nolog: nolog.origin },
    pids: () => descendantsNamed("workerd"),
    stop: async () => {
      console.log(`    (log lines seen: ${tally ? logs.lines : lines})`);
      await mf.dispose();
    },
  };
}

function cannon(options: Options): Promise<Result> {
  return new Promise((resolve, reject) => {
    autocannon(options, (err, result) => (err !== null ? reject(err) : resolve(result)));
  });
}

async function measure(url: string, pids: number[]): Promise<{ rps: number; cpuUs: number }> {
  const c0 = cpuSeconds(pids);
  const result = await cannon({
    url: `${url}/login/callback?connection=acme&code=abc&state=xyz`,
    connections: CONNECTIONS,
    duration: SECONDS,
  });
  const c1 = cpuSeconds(pids);
  const n = result.requests.total;
  return { rps: n / SECONDS, cpuUs: ((c1 - c0) * 1e6) / n };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

async function main(): Promise<void> {
  console.log(
    `line: ${LINE.length} bytes; ${ROUNDS} rounds × ${SECONDS}s, ${CONNECTIONS} connections; load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const rows: string[] = [];
  for (const mode of (values.modes ?? "").split(",")) {
    const dir = mkdtempSync(path.join(os.tmpdir(), "log-cost-"));
    const running =
      mode === "plain" || mode === "structured"
        ? await startDirect(mode === "structured", dir)
        : await startMiniflare(mode === "inspector", mode === "tally");
    const pids = running.pids();
    const got: Record<"log" | "nolog", { rps: number[]; cpu: number[] }> = {
      log: { rps: [], cpu: [] },
      nolog: { rps: [], cpu: [] },
    };
    // warm-up
    await cannon({ url: `${running.urls.log}/login/callback`, connections: 8, duration: 1 });
    await cannon({ url: `${running.urls.nolog}/login/callback`, connections: 8, duration: 1 });
    for (let r = 0; r < ROUNDS; r++) {
      const order: Array<"log" | "nolog"> = r % 2 === 0 ? ["log", "nolog"] : ["nolog", "log"];
      for (const w of order) {
        const m = await measure(running.urls[w], pids);
        got[w].rps.push(m.rps);
        got[w].cpu.push(m.cpuUs);
        console.log(
          `  ${mode} ${w} round ${r + 1}: ${m.rps.toFixed(0)} req/s, workerd ${m.cpuUs.toFixed(1)} µs CPU/req`,
        );
      }
    }
    await running.stop();
    rmSync(dir, { recursive: true, force: true });
    const [lc, nc, lr, nr] = [median(got.log.cpu), median(got.nolog.cpu), median(got.log.rps), median(got.nolog.rps)];
    rows.push(
      `${mode.padEnd(11)} CPU µs/req log ${lc.toFixed(1).padStart(6)}  no log ${nc.toFixed(1).padStart(6)}  cost of the line ${(lc - nc).toFixed(1).padStart(6)}  ` +
        `req/s log ${lr.toFixed(0).padStart(6)}  no log ${nr.toFixed(0).padStart(6)}  ratio ${(lr / nr).toFixed(2)}`,
    );
  }
  console.log(
    `\nmedians of ${ROUNDS} rounds; load after ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  for (const r of rows) console.log(r);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
