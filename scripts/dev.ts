/**
 * The one start command for local development (`npm run dev`):
 *   1. starts the demo Auth0 and new-SSO origins in this process,
 *   2. runs `wrangler dev` with both Workers (the router, wrangler.toml, on 127.0.0.1:8787
 *      or $DEV_PORT, and the admin Worker, wrangler.admin.toml, behind the router's ADMIN binding) with a
 *      fresh random ADMIN_TOKEN and AFFINITY_SECRET (transaction affinity on, as a deployment
 *      should have it), and waits until it answers,
 *   3. loads routes.json through the management API (mode=replace), so the
 *      writer Durable Object and the KV replica both hold the seed table,
 *   4. prints curl lines that walk through each routing case and the dashboard's URL,
 *   5. unless DEMO_TRAFFIC=0, sends a few demo callbacks every few seconds (the
 *      cases of the curl lines) so the dashboard's counters move.
 * Ctrl-C / SIGTERM stops everything; if wrangler exits, this exits with its code.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { constants } from "node:os";
import path from "node:path";
import readline from "node:readline";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { nodeIo } from "../cli/node-io";
import { runCli } from "../cli/run";
import { demoOptionsFromEnv, startDemoOrigins, type DemoOrigins } from "./demo-origins";
import { BrowserCookies } from "./browser-cookies";
import { curlLines } from "./walkthrough";

const require = createRequire(import.meta.url);
const PROJECT_ROOT = path.dirname(fileURLToPath(new URL("../package.json", import.meta.url)));
const WRANGLER_BIN = path.join(path.dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
/**
 * Your .dev.vars, when there is one: wrangler dev gives it to both Workers, and the admin
 * Worker (the second config) gets nothing else, so its secrets are the ones used here.
 */
const DEV_VARS_PATH = path.join(PROJECT_ROOT, ".dev.vars");
const DEV_VARS = existsSync(DEV_VARS_PATH) ? parseEnv(readFileSync(DEV_VARS_PATH, "utf8")) : undefined;
/** A new token per run: nothing secret is committed, and the printed one works with the CLI. */
const ADMIN_TOKEN = process.env["ROUTER_TOKEN"] ?? DEV_VARS?.["ADMIN_TOKEN"] ?? randomBytes(24).toString("base64url");
/** The same for transaction affinity's HMAC key (32 random bytes); AFFINITY_SECRET in the environment wins. */
const AFFINITY_SECRET =
  process.env["AFFINITY_SECRET"] ?? DEV_VARS?.["AFFINITY_SECRET"] ?? randomBytes(32).toString("base64url");

// With a .dev.vars, the admin Worker authenticates with its ADMIN_TOKEN only: a different one
// here would make every API call (the seed below first) fail with 401.
if (DEV_VARS !== undefined && DEV_VARS["ADMIN_TOKEN"] !== ADMIN_TOKEN) {
  console.error(
    DEV_VARS["ADMIN_TOKEN"] === undefined
      ? ".dev.vars has no ADMIN_TOKEN: both Workers read .dev.vars, and the admin Worker gets its token only from there. Add ADMIN_TOKEN=<at least 32 characters> to it (or remove .dev.vars); not starting."
      : "ROUTER_TOKEN differs from ADMIN_TOKEN in .dev.vars, which is the admin Worker's token; unset one of them. Not starting.",
  );
  process.exit(1);
}

/**
 * The router's port: DEV_PORT, default 8787. The demo new SSO bounces callbacks back here and
 * the printed lines use it; the demo origins' own ports (8788, 8789) are fixed by wrangler.toml
 * and routes.json (docs/development.md, "Ports").
 */
const WORKER_PORT = devPort(process.env["DEV_PORT"]);
/** wrangler dev's false "types out of date" notice (see checkTypes). */
const TYPES_NOTICE = "Your types might be out of date";
const READY_TIMEOUT_MS = 60_000;
/** How long wrangler gets to shut down workerd itself before the group is killed. */
const STOP_GRACE_MS = 5_000;

const WORKER_URL = `http://127.0.0.1:${WORKER_PORT}/`;
/** Background demo callbacks: on unless DEMO_TRAFFIC=0. */
const DEMO_TRAFFIC = process.env["DEMO_TRAFFIC"] !== "0";
const DEMO_TRAFFIC_EVERY_MS = 5_000;
let stopDemoTraffic = (): void => {};
/** The curl lines' cases, weighted: mostly migrated and legacy, some fallback, OIDC, unidentified. */
const DEMO_CALLBACKS: ReadonlyArray<{ query: string; method: "GET" | "POST"; follow: boolean; weight: number }> = [
  { query: "connection=acme-saml", method: "POST", follow: false, weight: 4 },
  { query: "connection=globex-saml", method: "POST", follow: false, weight: 3 },
  // Bounced back by the demo new SSO with fallback=auth0, then on to the Auth0 demo.
  { query: "connection=umbrella-saml", method: "POST", follow: true, weight: 1 },
  {
    query: "code=abc&state=xyz&iss=https%3A%2F%2Fsso.hooli.example%2Frealms%2Fhooli",
    method: "GET",
    follow: false,
    weight: 2,
  },
  // No connection, nothing identifiable in the body.
  { query: "", method: "POST", follow: false, weight: 1 },
];

// Otherwise the readiness check below would take the other server's answer for ours.
if (await answers(WORKER_URL)) {
  console.error(`Something already answers on ${WORKER_URL} (another dev session?); not starting.`);
  process.exit(1);
}

const tablePath = path.join(PROJECT_ROOT, "routes.json");

const origins: DemoOrigins = await startDemoOrigins({
  ...demoOptionsFromEnv(),
  workerOrigin: `http://localhost:${WORKER_PORT}`,
}).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

// wrangler gets its own process group (POSIX) so that stopping signals the whole
// group (wrangler, workerd, esbuild) at once and nothing is left behind. stdin is
// not passed on: a background group reading the terminal would be stopped (SIGTTIN);
// this only turns off wrangler's hotkeys.
const ownGroup = process.platform !== "win32";
const wrangler = spawn(
  process.execPath,
  [
    WRANGLER_BIN,
    "dev",
    // Both Workers in one wrangler dev: the router (first: it serves the port) and the admin
    // Worker, which the router reaches through its ADMIN service binding (docs/design.md, "Topology").
    "-c",
    "wrangler.toml",
    "-c",
    "wrangler.admin.toml",
    "--ip",
    "127.0.0.1",
    "--port",
    String(WORKER_PORT),
    "--var",
    `ADMIN_TOKEN:${ADMIN_TOKEN}`,
    "--var",
    `AFFINITY_SECRET:${AFFINITY_SECRET}`,
  ],
  {
    cwd: PROJECT_ROOT,
    detached: ownGroup,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      // The admin Worker (second config) gets no --var: wrangler dev gives it these from the
      // environment instead (wrangler.admin.toml [secrets]), unless a .dev.vars exists.
      ADMIN_TOKEN,
      AFFINITY_SECRET,
      // Otherwise every start downloads Request.cf data from workers.cloudflare.com; the router does not read it.
      CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? "false",
    },
  },
);
prefixLines(wrangler.stdout, process.stdout, "[wrangler] ", (line) => !line.includes(TYPES_NOTICE));
prefixLines(wrangler.stderr, process.stderr, "[wrangler] ");
void checkTypes();

const wranglerExit = new Promise<number>((resolve) => {
  wrangler.once("exit", (code, signal) => resolve(code ?? 128 + (signal === null ? 0 : constants.signals[signal])));
});
let stopping = false;

function signalWrangler(signal: NodeJS.Signals): void {
  try {
    if (ownGroup && wrangler.pid !== undefined) process.kill(-wrangler.pid, signal);
    else wrangler.kill(signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

async function stop(exitCode: number): Promise<never> {
  stopping = true;
  stopDemoTraffic();
  console.log("\nStopping wrangler and the demo origins…");
  // SIGINT is what Ctrl-C would have sent them had they shared our terminal.
  signalWrangler("SIGINT");
  const timer = setTimeout(() => signalWrangler("SIGKILL"), STOP_GRACE_MS);
  await wranglerExit;
  clearTimeout(timer);
  // wrangler may exit before its children; whatever is left of its group goes too.
  signalWrangler("SIGKILL");
  await origins.close();
  console.log("Stopped.");
  process.exit(exitCode);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (!stopping) void stop(128 + constants.signals[signal]);
  });
}
// Last resort (e.g. an uncaught error): never leave a wrangler running.
process.on("exit", () => signalWrangler("SIGKILL"));

void wranglerExit.then(async (code) => {
  if (stopping) return;
  stopping = true;
  stopDemoTraffic();
  console.error(`wrangler exited (code ${code}); stopping the demo origins.`);
  signalWrangler("SIGKILL");
  await origins.close();
  process.exit(code);
});

if (await waitUntilAnswering(WORKER_URL)) {
  if (await seedThroughApi()) {
    console.log(tryThese());
    if (DEMO_TRAFFIC) stopDemoTraffic = startDemoTraffic();
  } else await stop(1);
} else if (!stopping) {
  console.error(`wrangler dev did not answer on port ${WORKER_PORT} within ${READY_TIMEOUT_MS / 1000} s; stopping.`);
  await stop(1);
}

/** routes.json → POST /import?mode=replace, printed like `npm run routes -- push` prints it. */
async function seedThroughApi(): Promise<boolean> {
  const code = await runCli(
    ["push", tablePath, "--replace"],
    nodeIo(
      process.cwd(),
      (text) => console.log(`Seed table ${path.relative(process.cwd(), tablePath)}: ${text}`),
      (text) => console.error(`Not starting: routes.json could not be loaded:\n${text}`),
      { ROUTER_URL: `http://127.0.0.1:${WORKER_PORT}`, ROUTER_TOKEN: ADMIN_TOKEN },
    ),
  );
  return code === 0;
}

/**
 * Sends 1–3 demo callbacks every few seconds; returns what stops it. Each callback is one
 * simulated browser with its own cookie jar: redirects are followed by hand (a 307 keeps the
 * method and body) and the cookies a hop sets go back on the next, so the umbrella-saml bounce
 * carries the router's bounce mark (docs/design.md, "Bounce marks") and counts as a bounce.
 */
function startDemoTraffic(): () => void {
  const bag = DEMO_CALLBACKS.flatMap((c) => Array.from({ length: c.weight }, () => c));
  let failures = 0;
  const send = async (): Promise<void> => {
    const c = bag[Math.floor(Math.random() * bag.length)];
    if (c === undefined) return;
    try {
      const jar = new BrowserCookies();
      // localhost, not 127.0.0.1: the new SSO bounces back to localhost, and a browser's
      // cookies are per host.
      let url = new URL(`http://localhost:${WORKER_PORT}/login/callback${c.query === "" ? "" : `?${c.query}`}`);
      for (let hop = 0; ; hop++) {
        const cookie = jar.header(url);
        const res = await fetch(url, {
          method: c.method,
          headers: {
            ...(c.method === "POST" ? { "content-type": "application/x-www-form-urlencoded" } : {}),
            ...(cookie === undefined ? {} : { cookie }),
          },
          body: c.method === "POST" ? "SAMLResponse=PHNhbWxwOlJlc3BvbnNlLz4%3D&RelayState=demo-traffic" : null,
          redirect: "manual",
          signal: AbortSignal.timeout(10_000),
        });
        jar.store(url, res.headers.getSetCookie());
        const text = await res.text();
        // wrangler dev's proxy answers this itself when the Worker is reloaded while a POST is
        // in flight: the router never saw the callback, so it has no log line and no count.
        if (res.status === 503 && text.startsWith("Your worker restarted mid-request")) {
          console.log(
            `Demo traffic: 503 from wrangler dev, not the router (the Worker was reloading mid-request; not counted).`,
          );
        }
        const location = res.headers.get("location");
        if (!c.follow || location === null || (res.status !== 307 && res.status !== 308) || hop >= 4) break;
        url = new URL(location, url);
      }
    } catch (err) {
      // Only the first few: a stopped Worker would otherwise print this every few seconds.
      if (++failures <= 3 && !stopping) {
        console.error(`Demo traffic: a callback failed (${err instanceof Error ? err.message : String(err)}).`);
      }
    }
  };
  const timer = setInterval(() => {
    const n = 1 + Math.floor(Math.random() * 3);
    for (let i = 0; i < n; i++) void send();
  }, DEMO_TRAFFIC_EVERY_MS);
  return () => clearInterval(timer);
}

/** DEV_PORT as a TCP port (default 8787); anything else stops the start with one line. */
function devPort(raw: string | undefined): number {
  if (raw === undefined || raw === "") return 8787;
  const port = Number(raw);
  if (!/^[0-9]+$/.test(raw) || port < 1 || port > 65535 || port === 8788 || port === 8789) {
    console.error(
      `DEV_PORT=${raw} is not usable: give a free TCP port (1–65535) other than 8788 and 8789 (the demo origins'); not starting.`,
    );
    process.exit(1);
  }
  return port;
}

/** Whether any HTTP answer comes back (the Worker forwards "/" to the Auth0 demo). */
async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return true;
  } catch {
    return false;
  }
}

/** true once the Worker answers; false on timeout or once stopping (e.g. wrangler exited). */
async function waitUntilAnswering(url: string): Promise<boolean> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!stopping && Date.now() < deadline) {
    if (await answers(url)) return true;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  return false;
}

function prefixLines(from: Readable, to: Writable, prefix: string, keep: (line: string) => boolean = () => true): void {
  readline
    .createInterface({ input: from, crlfDelay: Infinity })
    .on("line", (line) => keep(line) && to.write(`${prefix}${line}\n`));
}

/**
 * The types check wrangler dev cannot do right, done right. wrangler dev compares the hash in
 * worker-configuration.d.ts with the env of EVERY config it runs; the file describes the
 * router's env (wrangler.toml: `npm run types`), and the admin Worker's (wrangler.admin.toml:
 * no ADMIN binding, a WORKOS_API_KEY secret, DOs of another script) differs by design, so it
 * printed "Your types might be out of date" on every start although they were not. That line
 * is dropped (TYPES_NOTICE) and the check `npm run typecheck` runs (`npm run types -- --check`)
 * runs here instead, printing one line only when the types really are stale.
 */
async function checkTypes(): Promise<void> {
  const check = spawn("npm", ["run", "--silent", "types", "--", "--check"], {
    cwd: PROJECT_ROOT,
    stdio: "ignore",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  const code = await new Promise<number | null>((resolve) => {
    check.once("exit", resolve);
    check.once("error", () => resolve(null));
  });
  if (code !== 0 && code !== null && !stopping) {
    console.error(
      "worker-configuration.d.ts does not match wrangler.toml: run `npm run types` (npm run typecheck fails until then).",
    );
  }
}

function tryThese(): string {
  const w = `http://localhost:${WORKER_PORT}`;
  return `
──────── callback-router is up on ${w} (Ctrl-C stops everything) ────────

${curlLines(w)}

# Steer it (management API, token of this run):
export ROUTER_TOKEN='${ADMIN_TOKEN}'${WORKER_PORT === 8787 ? "" : `\nexport ROUTER_URL='http://localhost:${WORKER_PORT}'`}
# Dashboard (sign in with this token): ${w}/__router/v1/
npm run routes -- list
npm run routes -- set globex-saml migrated       # then repeat curl 3: now a 307
npm run routes -- kill-switch on                 # every callback to Auth0 again
npm run routes -- audit
${
  DEMO_TRAFFIC
    ? `\nDemo traffic: 1–3 callbacks every ${DEMO_TRAFFIC_EVERY_MS / 1000} s (their log lines below); DEMO_TRAFFIC=0 turns it off.\n`
    : ""
}`;
}
