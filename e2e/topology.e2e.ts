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
import { unstable_readConfig } from "wrangler";
import { adminOnlyInputs } from "../scripts/bundle-size.mjs";
import { ADMIN_PREFIX as DEFAULT_PREFIX } from "./support/harness";
import { RecordingServer } from "./support/recording-server";
import {
  bundleOne,
  bundleWorker,
  CONFIGS,
  ROOT,
  startBundledWorker,
  type Bundles,
  type RunningWorker,
} from "./support/worker";

/** The part of Miniflare's KV namespace these tests use. */
interface KvList {
  list(): Promise<{ keys: Array<{ name: string }> }>;
}

const TOKEN = "topology-e2e-admin-token-0123456789abcdef";
const TARGET = "https://sso.example.com/sso/client_01TOPOLOGY/auth0/callback";

/** What these tests read of a wrangler config (wrangler's own reading of the file). */
interface WorkerConfigFile {
  name: string;
  vars: Record<string, unknown>;
  kv_namespaces: Array<{ binding: string; id?: string }>;
  durable_objects: { bindings: Array<{ name: string; class_name: string; script_name?: string }> };
  migrations: Array<{ new_sqlite_classes?: string[]; new_classes?: string[] }>;
  triggers: { crons?: string[] };
  routes?: Array<string | { pattern: string }>;
  services?: Array<{ binding: string; service: string }>;
}

function readConfig(role: keyof typeof CONFIGS, env: string | undefined): WorkerConfigFile {
  return unstable_readConfig(
    { config: path.join(ROOT, CONFIGS[role]), env },
    { hideWarnings: true },
  ) as WorkerConfigFile;
}

describe("the two configs agree (wrangler.toml, wrangler.admin.toml)", () => {
  it.each([
    ["the top level (local development)", undefined],
    ["[env.staging]", "staging"],
    ["[env.production]", "production"],
  ] as const)("in %s: same vars, same KV namespace, the router's Durable Objects", (_name, env) => {
    const router = readConfig("router", env);
    const admin = readConfig("admin", env);
    expect(admin.vars).toEqual(router.vars);
    expect(admin.kv_namespaces.map((k) => [k.binding, k.id])).toEqual(
      router.kv_namespaces.map((k) => [k.binding, k.id]),
    );
    // wrangler names an environment's script <name>-<env>; the admin must bind that script's classes.
    expect(router.name).toBe(env === undefined ? "callback-router" : `callback-router-${env}`);
    expect(admin.durable_objects.bindings).toEqual(
      router.durable_objects.bindings.map((b) => ({ ...b, script_name: router.name })),
    );
    const migrated = router.migrations.flatMap((m) => [...(m.new_sqlite_classes ?? []), ...(m.new_classes ?? [])]);
    for (const b of admin.durable_objects.bindings) expect(migrated).toContain(b.class_name);
    // The cron runs the provider sync in the admin Worker only.
    expect(router.triggers.crons ?? []).toEqual([]);
    expect(admin.triggers.crons?.length).toBeGreaterThan(0);
  });

  it.each(["staging", "production"])(
    "in %s: the admin route is the router's host (or ADMIN_HOSTNAME) under /__router/, no service binding",
    (env) => {
      const router = readConfig("router", env);
      const admin = readConfig("admin", env);
      const patterns = (routes: WorkerConfigFile["routes"]) =>
        (routes ?? []).map((r) => (typeof r === "string" ? r : r.pattern));
      const hosts = patterns(router.routes).map((p) => p.slice(0, p.indexOf("/")));
      expect(patterns(router.routes)).toEqual(hosts.map((h) => `${h}/*`));
      // README step 4: with ADMIN_HOSTNAME set, the API lives on that host alone.
      const adminHostname = admin.vars.ADMIN_HOSTNAME;
      const adminHosts = typeof adminHostname === "string" && adminHostname !== "" ? [adminHostname] : hosts;
      expect(patterns(admin.routes)).toEqual(adminHosts.map((h) => `${h}/__router/*`));
      expect(DEFAULT_PREFIX.startsWith("/__router/")).toBe(true);
      expect(router.services ?? []).toEqual([]);
      expect(admin.services ?? []).toEqual([]);
    },
  );

  it("binds the admin Worker to the router in local development only (top level)", () => {
    expect(readConfig("router", undefined).services).toEqual([
      { binding: "ADMIN", service: readConfig("admin", undefined).name },
    ]);
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
