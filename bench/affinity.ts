/**
 * The cost of transaction affinity (`npm run bench:affinity`), side by side in one run:
 * the same router bundle in one workerd, once without AFFINITY_SECRET ("off") and once
 * with it ("on"), against the same loopback origin, in interleaved rounds. Pass-through
 * answers only (what affinity adds to; callbacks are the other benchmarks' business):
 *
 *   login-start   /authorize → 302 to an IdP with state + redirect_uri = /login/callback:
 *                 recorded ("on" adds one HMAC and one Set-Cookie line)
 *   app-redirect  /authorize/resume → 302 back to the application (code + state): not recorded
 *   page-200k     /u/login → 200 text/html, 200 KiB, Content-Length: streamed, never read
 *   json          /userinfo → 200 application/json: nothing to look at
 *
 * Prints, per path, the median over rounds of requests/s and p50/p99 latency for each
 * Worker, and the ratio on/off. Also the affinity cookie's size at 1 and 50 transactions.
 * Loopback only; bounded: ROUNDS × paths × 2 × SECONDS (default 5 × 4 × 2 × 3 s).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { convertV4MiniflareOptions, Miniflare, type V4WorkerOptionsShape } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { affinityKey, transactionSetCookie } from "../src/affinity/cookie";
import { bundle } from "./bundle";
import { runLoad, type RunStats } from "./load";
import { BUILD_DIR, ROOT } from "./settings";
import { fmt, formatTable, median, percentile, say } from "./util";

const ROUNDS = Number(process.env["AFFINITY_BENCH_ROUNDS"] ?? 5);
const SECONDS = Number(process.env["AFFINITY_BENCH_SECONDS"] ?? 3);
const CONNECTIONS = 8;
const SECRET = "bench-affinity-secret-0123456789abcdef";
const PAGE = Buffer.from(`<!DOCTYPE html><html><body>${"<p>Universal Login</p>".repeat(9600)}</body></html>`);

interface PathSpec {
  name: string;
  path: string;
  status: number;
}
const PATHS: PathSpec[] = [
  { name: "login-start", path: "/authorize?client_id=app&connection=contoso-waad", status: 302 },
  { name: "app-redirect", path: "/authorize/resume?state=abc", status: 302 },
  { name: "page-200k", path: "/u/login?state=ul", status: 200 },
  { name: "json", path: "/userinfo", status: 200 },
];

function startOrigin(workerOrigins: () => string[]): Promise<{ url: string; close(): void }> {
  let n = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    const url = req.url ?? "/";
    const cookies = ["did=s%3Av0%3Abench; Path=/; Max-Age=31557600; HttpOnly; Secure; SameSite=None"];
    if (url.startsWith("/authorize/resume")) {
      res.writeHead(302, { location: "https://app.example.com/callback?code=c&state=app", "set-cookie": cookies });
      res.end("Found");
    } else if (url.startsWith("/authorize")) {
      // The router's own origin is the redirect_uri's (a login start it must record).
      const host = req.headers["x-bench-worker"] ?? workerOrigins()[0];
      const q = new URLSearchParams({
        client_id: "idp",
        response_type: "code",
        redirect_uri: `${String(host)}/login/callback`,
        state: `state-${++n}-${"x".repeat(24)}`,
      });
      res.writeHead(302, {
        location: `https://login.microsoftonline.com/t/oauth2/v2.0/authorize?${q}`,
        "set-cookie": cookies,
      });
      res.end("Found");
    } else if (url.startsWith("/u/login")) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": PAGE.byteLength });
      res.end(PAGE);
    } else {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"sub":"auth0|bench"}');
    }
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => server.close(),
      }),
    ),
  );
}

async function cookieSizes(): Promise<string[]> {
  const key = await affinityKey(SECRET);
  const lines: string[] = [];
  const cases: Array<
    [string, Array<{ kind: "state" | "RelayState" | "InResponseTo"; value: string }>, string | undefined]
  > = [
    ["OIDC, connection unknown", [{ kind: "state", value: "s" }], undefined],
    ["OIDC, connection contoso-waad", [{ kind: "state", value: "s" }], "contoso-waad"],
    [
      "SAML (RelayState + ID), acme-saml",
      [
        { kind: "RelayState", value: "r" },
        { kind: "InResponseTo", value: "_id" },
      ],
      "acme-saml",
    ],
  ];
  for (const [label, handles, connection] of cases) {
    const made = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        transactionSetCookie(
          key,
          handles.map((h) => ({ ...h, value: `${h.value}-${i}` })),
          connection,
          { maxAgeSeconds: 3600 },
        ),
      ),
    );
    const pairs = made.map((c) => (c?.header ?? "").split(";")[0] ?? "");
    const one = pairs[0] ?? "";
    lines.push(
      `${label}: Set-Cookie ${made[0]?.header.length ?? 0} B; Cookie header at 1 transaction ${one.length} B, ` +
        `at 50 transactions ${pairs.join("; ").length} B`,
    );
  }
  return lines;
}

async function main(): Promise<void> {
  say("affinity cookie sizes (codec in src/affinity/cookie.ts):");
  for (const line of await cookieSizes()) say(`  ${line}`);

  const wranglerOptions = unstable_getMiniflareWorkerOptions(path.join(ROOT, "wrangler.toml"));
  const { modulesRules: _bundled, ...wranglerWorker } = wranglerOptions.workerOptions;
  const { compatibilityDate = "2026-04-20" } = wranglerWorker as V4WorkerOptionsShape;
  const routerJs = path.join(BUILD_DIR, "router-affinity.mjs");
  await bundle(wranglerOptions.main ?? path.join(ROOT, "src/index.ts"), routerJs, "browser", wranglerOptions.define);

  let workerUrls: Record<"off" | "on", URL> | undefined;
  const origin = await startOrigin(() => (workerUrls === undefined ? [] : [workerUrls.on.origin]));
  const bindings = {
    ENVIRONMENT: "development",
    AUTH0_ORIGIN: origin.url,
    ALLOWED_TARGET_HOSTS: "sso.example.com",
    ROUTE_CACHE_SECONDS: "10",
  };
  const router = (name: string, extra: Record<string, string>) => ({
    ...wranglerWorker,
    name,
    modules: true,
    scriptPath: routerJs,
    bindings: { ...bindings, ...extra },
    kvNamespaces: { ROUTES: `routes-${name}` },
    // No admin Worker here: no ADMIN service binding (wrangler.toml's names one).
    serviceBindings: {},
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  });
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      resourcePersistencePath: path.join(BUILD_DIR, "affinity-state"),
      handleStructuredLogs() {
        // login-start lines: not what is measured.
      },
      workers: [router("off", {}), router("on", { AFFINITY_SECRET: SECRET })],
    }),
  );
  try {
    await mf.ready;
    workerUrls = { off: await mf.unsafeGetDirectURL("off"), on: await mf.unsafeGetDirectURL("on") };
    say(`workerd up (compatibility date ${compatibilityDate}); origin ${origin.url}`);
    // The origin builds redirect_uri from the Worker's own origin: tell it which one asks.
    const spec = (p: PathSpec, worker: URL) => ({
      connections: CONNECTIONS,
      expectStatus: p.status,
      request: { method: "GET" as const, path: p.path, headers: { "x-bench-worker": worker.origin } },
    });
    // Check first: "on" sets the cookie on a login start, and only there.
    for (const p of PATHS) {
      for (const side of ["off", "on"] as const) {
        const res = await fetch(new URL(p.path, workerUrls[side]), {
          redirect: "manual",
          headers: { "x-bench-worker": workerUrls[side].origin },
        });
        await res.arrayBuffer();
        const ours = res.headers.getSetCookie().filter((c) => c.startsWith("cra-")).length;
        const want = side === "on" && p.name === "login-start" ? 1 : 0;
        if (res.status !== p.status || ours !== want) {
          throw new Error(
            `${p.name} via ${side}: status ${res.status}, ${ours} affinity cookies (want ${p.status}, ${want})`,
          );
        }
      }
    }
    const runs: Record<string, { off: RunStats[]; on: RunStats[] }> = {};
    for (const p of PATHS) runs[p.name] = { off: [], on: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const p of PATHS) {
        // Alternate which side goes first, so neither always runs on a warmer machine.
        const order = round % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const);
        for (const side of order) {
          const stats = await runLoad(workerUrls[side], spec(p, workerUrls[side]), SECONDS);
          if (stats.wrongStatus > 0 || stats.status5xx > 0 || stats.timeouts > 0) {
            throw new Error(`${p.name} via ${side}: ${JSON.stringify(stats.statusCounts)}, ${stats.timeouts} timeouts`);
          }
          runs[p.name]![side].push(stats);
        }
      }
      say(`round ${round}/${ROUNDS} done`);
    }
    const rows = PATHS.map((p) => {
      const r = runs[p.name]!;
      const rps = (s: RunStats[]) => median(s.map((x) => x.responses / x.seconds));
      const p50 = (s: RunStats[]) => median(s.map((x) => percentile(x.latencies, 0.5)));
      const p99 = (s: RunStats[]) => median(s.map((x) => percentile(x.latencies, 0.99)));
      return [
        p.name,
        fmt(rps(r.off), 0),
        fmt(rps(r.on), 0),
        fmt(rps(r.on) / rps(r.off)),
        `${fmt(p50(r.off))} / ${fmt(p50(r.on))}`,
        `${fmt(p99(r.off))} / ${fmt(p99(r.on))}`,
        fmt(p50(r.on) / p50(r.off)),
      ];
    });
    console.log(
      [
        "",
        `transaction affinity on vs off, pass-through answers (${ROUNDS} interleaved rounds × ${SECONDS} s, ${CONNECTIONS} connections; medians over rounds)`,
        ...formatTable(
          ["path", "req/s off", "req/s on", "ratio on/off", "p50 ms off / on", "p99 ms off / on", "p50 ratio"],
          rows,
        ),
      ].join("\n"),
    );
  } finally {
    await mf.dispose();
    origin.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
