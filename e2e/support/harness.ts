/**
 * Starts everything the browser suite needs, on loopback only, and stops it again:
 *
 *   - the Auth0, new-SSO and IdP stand-ins (stand-ins.ts);
 *   - the Worker in workerd via Miniflare (worker.ts), with the e2e bindings;
 *   - headless Chromium (Debian's package) through playwright-core.
 *
 * The route table is seeded through the management API only (`api()`), never in KV.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { getSamlTestCredentials } from "../../test/fixtures/saml";
import { Auth0StandIn, IdpStandIn, NewSsoStandIn, SSO_CALLBACK_PATH } from "./stand-ins";
import { bundleWorker, ROOT, startBundledWorker } from "./worker";

export { ROOT };
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
  /** More Worker bindings (e.g. AFFINITY_SECRET). */
  bindings?: Record<string, string>;
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
  /**
   * Replaces the table through the API (`POST /import?mode=replace`) with `routes` and the
   * suites' settings: mode route, 307, the new SSO stand-in's callback as defaultTarget, no
   * rollout, and `unknown` (default auth0). Throws with the API's answer unless it is 200;
   * returns that answer.
   */
  replaceTable(routes: unknown[], unknown?: "auth0" | "probe"): Promise<ApiAnswer>;
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
    const auth0 = new Auth0StandIn();
    const sso = new NewSsoStandIn(new Set(options.ssoConnections), new Set(options.ssoIssuers));
    const idp = new IdpStandIn();
    stops.push(
      () => auth0.server.close(),
      () => sso.server.close(),
      () => idp.server.close(),
    );

    const launching = chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 });
    // Close the browser even if another step below fails first.
    stops.push(async () => {
      const browser = await launching.catch(() => undefined);
      await browser?.close();
    });
    const bundling = bundleWorker();
    stops.push(async () => (await bundling.catch(() => undefined))?.remove());
    const [browser, bundle] = await Promise.all([
      launching,
      bundling,
      auth0.start(),
      sso.start(),
      idp.start(),
      getSamlTestCredentials(), // RSA key generation, once, off the first test's clock
    ]);

    const adminToken = randomBytes(32).toString("base64url");
    // The e2e bindings replace wrangler.toml's [vars]; KV and the Durable Object live in Miniflare's temporary storage.
    const worker = await startBundledWorker(bundle, {
      ENVIRONMENT: "development",
      AUTH0_ORIGIN: auth0.origin,
      ALLOWED_TARGET_HOSTS: `localhost:${sso.port}`,
      ADMIN_TOKEN: adminToken,
      ROUTE_CACHE_SECONDS: "0",
      AUTH0_TENANT,
      ...options.bindings,
    });
    stops.push(() => worker.stop());
    const workerLogs = worker.logs;
    const workerStderr = worker.stderr;
    const workerOrigin = worker.origin;
    sso.workerOrigin = workerOrigin;
    auth0.workerOrigin = workerOrigin;
    auth0.idpOrigin = idp.origin;

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
        `the Worker did not come up: /health answered ${health.status}; workerd stderr: ${workerStderr.join("\n").slice(0, 1000)}`,
      );
    }

    const replaceTable: Harness["replaceTable"] = async (routes, unknown = "auth0") => {
      const answer = await api("POST", "/import?mode=replace", {
        settings: {
          mode: "route",
          // An import leaves the kill switch as it is unless the file says: every test starts with it off.
          killSwitch: { on: false },
          unknown,
          redirect: "307",
          defaultTarget: `${sso.origin}${SSO_CALLBACK_PATH}`,
          rollout: { percentage: 0, include: [], exclude: [] },
        },
        routes,
      });
      if (answer.status !== 200) {
        throw new Error(`importing the test table answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      }
      return answer;
    };

    return { workerOrigin, auth0, sso, idp, browser, adminToken, workerLogs, api, replaceTable, stop: stopAll };
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
}
