/**
 * Starts everything the browser suite needs, on loopback only, and stops it again:
 *
 *   - the Auth0, new-SSO and IdP stand-ins (stand-ins.ts);
 *   - the Worker in workerd via Miniflare: src/index.ts bundled by esbuild (as wrangler
 *     and bench/run.ts do), compatibility settings and the ROUTE_WRITER Durable Object
 *     from wrangler.toml, an in-memory ROUTES KV namespace, the e2e bindings;
 *   - headless Chromium (Debian's package) through playwright-core.
 *
 * The route table is seeded through the management API only (`api()`), never in KV.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { chromium, type Browser } from "playwright-core";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { getSamlTestCredentials } from "../../test/fixtures/saml";
import { Auth0StandIn, IdpStandIn, NewSsoStandIn } from "./stand-ins";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SCREENSHOT_DIR = path.join(ROOT, "test-results", "e2e");
export const CHROMIUM_PATH = "/usr/bin/chromium";
export const AUTH0_TENANT = "e2e-tenant";
export const ADMIN_PREFIX = "/__router/v1";

const CHROMIUM_ARGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface HarnessOptions {
  /** Connections the new SSO accepts (by `connection` parameter); others are bounced back. */
  ssoConnections: string[];
  /** OIDC issuers the new SSO accepts when there is no `connection` parameter. */
  ssoIssuers: string[];
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface Harness {
  /** The Worker as the browser reaches it: http://127.0.0.1:<port>. */
  workerOrigin: string;
  auth0: Auth0StandIn;
  sso: NewSsoStandIn;
  idp: IdpStandIn;
  browser: Browser;
  /** The run's ADMIN_TOKEN (random), for signing in to the dashboard. */
  adminToken: string;
  /** The Worker's JSON log lines (one per callback, plus problem events), in order. */
  workerLogs: Array<Record<string, unknown>>;
  /** Calls the management API with the run's admin token. */
  api(method: string, apiPath: string, body?: unknown, headers?: Record<string, string>): Promise<ApiAnswer>;
  stop(): Promise<void>;
}

export function chromiumMissingMessage(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  return (
    `The browser end-to-end suite needs Chromium at ${CHROMIUM_PATH}, and it is not there. ` +
    `Install Debian's package: apt-get update && apt-get install -y chromium. ` +
    `(The suite fails rather than skips: a missing browser must not look like a pass.)`
  );
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const missing = chromiumMissingMessage();
  if (missing !== undefined) throw new Error(missing);

  // Everything started is stopped again, in reverse order, also when a later step fails.
  const stops: Array<() => Promise<void> | void> = [];
  const stopAll = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const stop of stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, "e2e harness: stopping failed");
  };

  try {
    const buildDir = mkdtempSync(path.join(os.tmpdir(), "callback-router-e2e-"));
    stops.push(() => rmSync(buildDir, { recursive: true, force: true }));

    const auth0 = new Auth0StandIn();
    const sso = new NewSsoStandIn(new Set(options.ssoConnections), new Set(options.ssoIssuers));
    const idp = new IdpStandIn();
    stops.push(
      () => auth0.server.close(),
      () => sso.server.close(),
      () => idp.server.close(),
    );

    const wranglerOptions = unstable_getMiniflareWorkerOptions(path.join(ROOT, "wrangler.toml"));
    const scriptPath = path.join(buildDir, "router.mjs");
    const launching = chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
    // Close the browser even if another step below fails first.
    stops.push(async () => {
      const browser = await launching.catch(() => undefined);
      await browser?.close();
    });
    const [browser] = await Promise.all([
      launching,
      bundleWorker(wranglerOptions.main ?? path.join(ROOT, "src/index.ts"), scriptPath, wranglerOptions.define),
      auth0.start(),
      sso.start(),
      idp.start(),
      getSamlTestCredentials(), // RSA key generation, once, off the first test's clock
    ]);

    const adminToken = randomBytes(32).toString("base64url");
    const workerLogs: Array<Record<string, unknown>> = [];
    const workerStderr: string[] = [];
    const { workerOptions } = wranglerOptions;
    const mf = new Miniflare({
      host: "127.0.0.1",
      port: 0,
      handleRuntimeStdio(stdout: Readable, stderr: Readable) {
        collectJsonLines(stdout, workerLogs);
        stderr.on("data", (chunk: Buffer) => {
          if (workerStderr.length < 100) workerStderr.push(chunk.toString("utf8"));
        });
      },
      workers: [
        {
          ...workerOptions,
          name: "router",
          modules: true,
          scriptPath,
          // Module names are relative to this; the bundle lives in a temp directory outside the repo.
          modulesRoot: buildDir,
          // The e2e bindings replace wrangler.toml's [vars]; KV and the Durable Object stay in memory.
          bindings: {
            ENVIRONMENT: "development",
            AUTH0_ORIGIN: auth0.origin,
            ALLOWED_TARGET_HOSTS: `localhost:${sso.port}`,
            ADMIN_TOKEN: adminToken,
            ROUTE_CACHE_SECONDS: "0",
            AUTH0_TENANT,
          },
          kvNamespaces: { ROUTES: "e2e-routes" },
          unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
        },
      ],
    });
    stops.push(() => mf.dispose());
    await mf.ready.catch((err: unknown) => {
      throw new Error(`workerd did not start; its stderr: ${workerStderr.join("").slice(0, 2000) || "(empty)"}`, {
        cause: err,
      });
    });
    const workerUrl = await mf.unsafeGetDirectURL("router");
    const workerOrigin = `http://127.0.0.1:${workerUrl.port}`;
    sso.workerOrigin = workerOrigin;

    const api: Harness["api"] = async (method, apiPath, body, headers = {}) => {
      const res = await fetch(`${workerOrigin}${ADMIN_PREFIX}${apiPath}`, {
        method,
        headers: {
          authorization: `Bearer ${adminToken}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...headers,
        },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: res.status, headers: res.headers, body: parsed };
    };

    const health = await api("GET", "/health");
    if (health.status !== 200) {
      throw new Error(
        `the Worker did not come up: /health answered ${health.status}; workerd stderr: ${workerStderr.join("").slice(0, 1000)}`,
      );
    }

    return { workerOrigin, auth0, sso, idp, browser, adminToken, workerLogs, api, stop: stopAll };
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
}

/** Bundles the Worker as wrangler does: ESM, workerd conditions, cloudflare:* left external. */
async function bundleWorker(entry: string, outfile: string, define: Record<string, string> = {}): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    external: ["cloudflare:*"],
    define,
    keepNames: true,
    sourcemap: false,
    logLevel: "warning",
  });
}

/** The Worker logs one JSON object per line; anything else is kept as {text}. */
function collectJsonLines(stream: Readable, into: Array<Record<string, unknown>>): void {
  let rest = "";
  stream.on("data", (chunk: Buffer) => {
    const lines = (rest + chunk.toString("utf8")).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      if (line.trim() === "") continue;
      try {
        const value: unknown = JSON.parse(line);
        into.push(typeof value === "object" && value !== null ? (value as Record<string, unknown>) : { text: line });
      } catch {
        into.push({ text: line });
      }
    }
  });
}
