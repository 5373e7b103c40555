/**
 * The two Workers as they are deployed (docs/design.md, "Topology"): the router
 * (wrangler.toml) and the admin Worker (wrangler.admin.toml), each built by esbuild as
 * wrangler builds it, in one workerd: [env.production] of both configs, so no service
 * binding: Miniflare picks the Worker by the configs' own route patterns (host replaced by
 * 127.0.0.1), most specific first, as Cloudflare does; the admin binds the router's
 * Durable Objects by script name and the same KV namespace. A loopback server stands in
 * for Auth0 and records everything that reaches it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminOnlyInputs } from "../scripts/bundle-size.mjs";
import { checkConfigs } from "../scripts/deploy/checks";
import { readPair } from "../scripts/deploy/configs";
import { ADMIN_PREFIX as DEFAULT_PREFIX } from "./support/harness";
import { buildDashboard } from "../scripts/build-dashboard";
import { RecordingServer } from "./support/recording-server";
import { bundleOne, bundleWorker, startBundledWorker, type Bundles, type RunningWorker } from "./support/worker";

/** The part of Miniflare's KV namespace these tests use. */
interface KvList {
  list(): Promise<{ keys: Array<{ name: string }> }>;
}

const TOKEN = "topology-e2e-admin-token-0123456789abcdef";
const TARGET = "https://sso.example.com/sso/client_01TOPOLOGY/auth0/callback";

describe("the two configs agree (wrangler.toml, wrangler.admin.toml)", () => {
  it.each([
    ["the top level (local development)", undefined],
    ["[env.staging]", "staging"],
    ["[env.production]", "production"],
  ] as const)("in %s: npm run deploy's checks find no problem", (_name, env) => {
    const { router, admin } = readPair(env);
    expect(checkConfigs(router, admin, env).problems).toEqual([]);
  });

  it("binds each Worker to the other in local development only (top level): ADMIN one way, ROUTER (RPC) the other", () => {
    const { router, admin } = readPair(undefined);
    expect(router.services).toEqual([{ binding: "ADMIN", service: admin.name }]);
    expect(admin.services).toEqual([{ binding: "ROUTER", service: router.name, entrypoint: "Router" }]);
  });

  it("writes the router's variables and KV namespace once: the admin config has none of them", () => {
    for (const env of [undefined, "staging", "production"]) {
      const { admin } = readPair(env);
      expect(admin.kv_namespaces).toEqual([]);
      expect(Object.keys(admin.vars)).toEqual(["ENVIRONMENT"]);
    }
  });
});

describe("the router's bundle", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "callback-router-bundles-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("holds no management API, OpenAPI, CSV import, dashboard or provider sync; the admin's does", async () => {
    const [router, admin] = await Promise.all([
      bundleOne("router", path.join(dir, "router.mjs"), true),
      bundleOne("admin", path.join(dir, "admin.mjs"), true),
    ]);
    expect(adminOnlyInputs(router!)).toEqual([]);
    // The same check finds them where they belong (so it can fail).
    const adminOnly = adminOnlyInputs(admin!).join("\n");
    for (const module of [
      "src/admin/app.ts",
      "src/dashboard/route.ts",
      "@hono/zod-openapi",
      "csv-parse",
      "zod-to-openapi",
    ]) {
      expect(adminOnly).toContain(module);
    }
  });
});

/**
 * Registers, for the enclosing describe, the production configs' Workers (built as
 * wrangler builds them) started beside an Auth0 stand-in that records what reaches it;
 * `vars` are added to the usual ones. Stopped after the describe's tests.
 */
function deployedWorkers(vars: Record<string, string>, config: { withoutAdmin?: true } = {}) {
  const deployed = {} as { worker: RunningWorker; auth0: RecordingServer; bundles?: Bundles };
  beforeAll(async () => {
    deployed.auth0 = new RecordingServer("auth0", () => ({ status: 200, body: "auth0 stand-in" }));
    const [bundles, port] = await Promise.all([bundleWorker(), deployed.auth0.start()]);
    deployed.bundles = bundles;
    deployed.worker = await startBundledWorker(
      bundles,
      {
        ENVIRONMENT: "development",
        AUTH0_ORIGIN: `http://127.0.0.1:${port}`,
        ALLOWED_TARGET_HOSTS: "sso.example.com",
        ADMIN_TOKEN: TOKEN,
        ...vars,
      },
      { environment: "production", ...config },
    );
  });
  afterAll(async () => {
    await deployed.worker?.stop();
    deployed.bundles?.remove();
    await deployed.auth0?.close();
  });
  return deployed;
}

describe("deployed topology: router and admin Worker on their routes", () => {
  const deployed = deployedWorkers({ ROUTE_CACHE_SECONDS: "0", STATS_FLUSH_MS: "0" });

  const api = (method: string, apiPath: string, body?: unknown) =>
    fetch(`${deployed.worker.origin}${DEFAULT_PREFIX}${apiPath}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? null : JSON.stringify(body),
      redirect: "manual",
    });

  it("starts the two Workers under their production script names", () => {
    expect(deployed.worker.names).toEqual({
      router: "callback-router-production",
      admin: "callback-router-admin-production",
    });
  });

  it("an import through the admin prefix lands in the router's KV, and a callback then 307s by it", async () => {
    const res = await api("POST", "/import?mode=replace", {
      settings: { mode: "route", unknown: "auth0", redirect: "307", defaultTarget: TARGET },
      routes: [
        { connection: "acme-saml", organization: "org_acme", protocol: "samlp", state: "migrated" },
        { connection: "globex-saml", organization: "org_globex", protocol: "samlp", state: "legacy" },
      ],
    });
    expect(res.status, await res.clone().text()).toBe(200);
    // The writer (in the router's script) replicates to KV; read it as the router sees it.
    const kv = (await deployed.worker.mf.getKVNamespace("ROUTES", deployed.worker.names.router)) as unknown as KvList;
    await expect
      .poll(async () => (await kv.list()).keys.map((k) => k.name), { timeout: 10_000 })
      .toEqual(expect.arrayContaining(["settings", "route:acme-saml", "route:globex-saml"]));

    const before = deployed.auth0.received.length;
    // The same SAML POST for each connection; only the route decides where it goes.
    const postCallback = (connection: string) =>
      fetch(`${deployed.worker.origin}/login/callback?connection=${connection}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "SAMLResponse=PHNhbWxwOlJlc3BvbnNlLz4%3D&RelayState=topology",
        redirect: "manual",
      });
    const migrated = await postCallback("acme-saml");
    expect(migrated.status).toBe(307);
    expect(migrated.headers.get("location")).toBe(`${TARGET}?connection=acme-saml`);
    const legacy = await postCallback("globex-saml");
    expect(legacy.status).toBe(200);
    expect(await legacy.text()).toBe("auth0 stand-in");
    expect(deployed.auth0.received.slice(before).map((r) => r.url)).toEqual(["/login/callback?connection=globex-saml"]);
  });

  it("counts the router's callbacks where the admin Worker's /stats reads them", async () => {
    await expect
      .poll(
        async () => {
          const stats = (await (await api("GET", "/stats")).json()) as { totals?: { callbacks?: number } };
          return stats.totals?.callbacks;
        },
        { timeout: 10_000 },
      )
      .toBe(2);
  });

  it("serves the dashboard page from the admin Worker", async () => {
    const res = await fetch(`${deployed.worker.origin}${DEFAULT_PREFIX}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).toContain("<script");
  });

  it("never lets a request under the admin prefix, with the admin token, reach Auth0", async () => {
    const before = deployed.auth0.received.length;
    for (const apiPath of ["/routes", "/no-such-endpoint", "/routes%2F..%2F..%2Fuserinfo"]) {
      const res = await fetch(`${deployed.worker.origin}${DEFAULT_PREFIX}${apiPath}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(res.headers.get("content-type") ?? "", apiPath).toMatch(/^application\/(problem\+)?json/);
    }
    expect(deployed.auth0.received.slice(before)).toEqual([]);
  });

  it("strips the admin token from what the router forwards to Auth0 on any other path", async () => {
    const before = deployed.auth0.received.length;
    const res = await fetch(`${deployed.worker.origin}/userinfo`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const forwarded = deployed.auth0.received.slice(before);
    expect(forwarded.map((r) => r.path)).toEqual(["/userinfo"]);
    expect(forwarded[0]?.headers.authorization).toBeUndefined();
  });
});

describe("a router deployed before its admin Worker", () => {
  const deployed = deployedWorkers({}, { withoutAdmin: true });

  it("answers the admin prefix itself with a 503 naming the Worker to deploy; Auth0 sees nothing", async () => {
    const res = await fetch(`${deployed.worker.origin}${DEFAULT_PREFIX}/routes`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(((await res.json()) as { detail: string }).detail).toContain("callback-router-admin");
    expect(deployed.auth0.received).toEqual([]);
  });

  it("still serves sign-in traffic: a callback goes to Auth0 (empty table)", async () => {
    const res = await fetch(`${deployed.worker.origin}/login/callback?connection=acme-saml&code=x&state=y`, {
      redirect: "manual",
    });
    expect(res.status).toBe(200);
    expect(deployed.auth0.received.map((r) => r.path)).toEqual(["/login/callback"]);
  });
});

describe("the admin Worker asks the router (RPC over its ROUTER binding)", () => {
  // One admin bundle, two routers: the real one, and one whose decision for a legacy route
  // is changed. Nothing of the admin differs between the two runs.
  const LEGACY = 'case "legacy":\n      return { destination: "auth0", reason: "legacy" };';
  let dir: string;
  let auth0: RecordingServer;
  let auth0Port: number;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "callback-router-rpc-"));
    auth0 = new RecordingServer("auth0", () => ({ status: 200, body: "auth0 stand-in" }));
    auth0Port = await auth0.start();
    await buildDashboard();
    await Promise.all([
      bundleOne("admin", path.join(dir, "admin.mjs")),
      bundleOne("router", path.join(dir, "router.mjs")),
      bundleOne("router", path.join(dir, "patched-router.mjs"), false, {
        file: "src/callback/decide.ts",
        from: LEGACY,
        to: 'case "legacy":\n      return toNew("legacy", undefined, s);',
      }),
    ]);
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await auth0?.close();
  });

  /** The production configs with `router` as the router's script; the router's variables on the router only. */
  async function withRouter<T>(router: string, use: (worker: RunningWorker) => Promise<T>): Promise<T> {
    const worker = await startBundledWorker(
      { scriptPath: path.join(dir, router), adminScriptPath: path.join(dir, "admin.mjs"), buildDir: dir },
      { ENVIRONMENT: "development", ADMIN_TOKEN: TOKEN, ROUTE_CACHE_SECONDS: "0" },
      {
        environment: "production",
        routerOnly: {
          AUTH0_ORIGIN: `http://127.0.0.1:${auth0Port}`,
          AUTH0_TENANT: "rpc-tenant",
          ALLOWED_TARGET_HOSTS: "sso.example.com",
          STATS_FLUSH_MS: "0",
        },
      },
    );
    try {
      const res = await fetch(`${worker.origin}${DEFAULT_PREFIX}/import?mode=replace`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({
          settings: { mode: "route", unknown: "auth0", redirect: "307", defaultTarget: TARGET },
          routes: [{ connection: "globex-saml", organization: "org_globex", protocol: "samlp", state: "legacy" }],
        }),
      });
      expect(res.status, await res.clone().text()).toBe(200);
      return await use(worker);
    } finally {
      await worker.stop();
    }
  }

  const evaluate = async (worker: RunningWorker) => {
    const res = await fetch(`${worker.origin}${DEFAULT_PREFIX}/evaluate?connection=globex-saml`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as { destination: string; reason: string; target?: string };
  };
  const callback = (worker: RunningWorker) =>
    expect.poll(
      async () =>
        (
          await fetch(`${worker.origin}/login/callback?connection=globex-saml`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: "SAMLResponse=PHNhbWxwOlJlc3BvbnNlLz4%3D&RelayState=rpc",
            redirect: "manual",
          })
        ).status,
      { timeout: 10_000 },
    );

  it("/evaluate follows the router's code: the same admin reports each router's own decision", async () => {
    await withRouter("router.mjs", async (worker) => {
      await callback(worker).toBe(200);
      expect(await evaluate(worker)).toMatchObject({ destination: "auth0", reason: "legacy" });
    });
    await withRouter("patched-router.mjs", async (worker) => {
      await callback(worker).toBe(307);
      expect(await evaluate(worker)).toMatchObject({ destination: "new", reason: "legacy", target: TARGET });
    });
  });

  it("/status and /coverage answer from the router, whose variables the admin Worker does not have", async () => {
    await withRouter("router.mjs", async (worker) => {
      const get = (p: string) =>
        fetch(`${worker.origin}${DEFAULT_PREFIX}${p}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const status = await get("/status");
      expect(status.status, await status.clone().text()).toBe(200);
      expect(await status.json()).toMatchObject({ routes: { legacy: 1 }, affinity: "not-configured" });
      const coverage = await get("/coverage");
      expect(coverage.status).toBe(200);
      expect(await coverage.json()).toMatchObject({ routes: 1 });
    });
  });
});
