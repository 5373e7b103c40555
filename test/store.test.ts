import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { routeKey, SETTINGS_KEY } from "../src/table/kv-layout";
import { isolateCache, RouteStore } from "../src/table/store";
import { countingKv, failingKv } from "./support/kv";
import { TEST_TABLE } from "./support/table";
import { call, captureLogs, HOST, postForm, received, seed } from "./support/worker";

beforeEach(() => seed(TEST_TABLE));

const storeConfig = {
  routeCacheMs: 10_000,
  kvCacheTtlSeconds: 30,
  environment: "development" as const,
  allowedTargetHosts: new Set(["sso.example.com"]),
  kvReadTimeoutMs: 1_000,
};

describe("route table reads", () => {
  it("sends callbacks to Auth0 when KV fails and this isolate has seen nothing", async () => {
    isolateCache.clear();
    const { result, logs } = await captureLogs(() =>
      call(postForm("/login/callback?connection=acme-saml", "SAMLResponse=x"), { ROUTES: failingKv() }),
    );
    expect(result.status).toBe(200);
    expect((await received(result)).bodyText).toBe("SAMLResponse=x");
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({
      decision: "auth0",
      reason: "settings-unavailable",
      problem: expect.stringContaining("KV GET failed") as unknown,
    });
  });

  it("keeps routing from the last table this isolate saw when KV starts failing", async () => {
    const warm = await call(new Request(`${HOST}/login/callback?connection=acme-saml`));
    expect(warm.status).toBe(307);
    const { result, logs } = await captureLogs(() =>
      call(new Request(`${HOST}/login/callback?connection=acme-saml`), { ROUTES: failingKv() }),
    );
    expect(result.status).toBe(307);
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({ staleTable: true, reason: "migrated" });
  });

  it("sends a connection never seen before to Auth0 (not to the unknown policy) when KV fails", async () => {
    await seed({ ...TEST_TABLE, settings: { ...TEST_TABLE.settings, unknown: "probe" } });
    await call(new Request(`${HOST}/login/callback?connection=acme-saml`)); // warms settings only for this key set
    const { result, logs } = await captureLogs(() =>
      call(new Request(`${HOST}/login/callback?connection=never-seen`), { ROUTES: failingKv() }),
    );
    expect(result.status).toBe(200);
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({ reason: "route-table-unavailable" });
  });

  it("refuses a route record that fails the schema and sends its callbacks to Auth0", async () => {
    await env.ROUTES.put(
      routeKey("acme-saml"),
      JSON.stringify({ connection: "acme-saml", state: "teleported", version: 1 }),
    );
    const { result, logs } = await captureLogs(() => call(new Request(`${HOST}/login/callback?connection=acme-saml`)));
    expect(result.status).toBe(200);
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({
      reason: "route-invalid",
      problem: expect.stringContaining("state") as unknown,
    });
  });

  it("refuses a record that is not JSON", async () => {
    await env.ROUTES.put(routeKey("acme-saml"), "{not json");
    const res = await call(new Request(`${HOST}/login/callback?connection=acme-saml`));
    expect(res.status).toBe(200);
  });

  it("treats unreadable settings as the kill switch being unknown: everything to Auth0", async () => {
    await env.ROUTES.put(SETTINGS_KEY, JSON.stringify({ mode: "warp" }));
    const { result, logs } = await captureLogs(() => call(new Request(`${HOST}/login/callback?connection=acme-saml`)));
    expect(result.status).toBe(200);
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({ reason: "settings-invalid" });
  });

  it("uses default settings when the table has none", async () => {
    await env.ROUTES.delete(SETTINGS_KEY);
    const res = await call(new Request(`${HOST}/login/callback?connection=acme-saml`));
    // acme-saml has its own target, so the defaults (mode route) redirect it.
    expect(res.status).toBe(307);
  });

  it("reads the same two keys per callback with 10 routes and with 210: the reads do not grow with the table", async () => {
    const keysReadBy = async () => {
      const { kv, gets } = countingKv();
      isolateCache.clear();
      const res = await call(new Request(`${HOST}/login/callback?connection=acme-saml`), { ROUTES: kv });
      expect(res.status).toBe(307);
      return gets;
    };
    const small = await keysReadBy();
    expect(small.sort()).toEqual([SETTINGS_KEY, routeKey("acme-saml")].sort());
    const bulk = Array.from({ length: 200 }, (_, i) => ({ connection: `bulk-${i}`, state: "legacy" as const }));
    await seed({ ...TEST_TABLE, routes: [...TEST_TABLE.routes, ...bulk] });
    expect((await keysReadBy()).sort()).toEqual(small);
    const { kv, gets } = countingKv();
    isolateCache.clear();
    await new RouteStore(kv, storeConfig).route("acme-saml");
    expect(gets).toEqual([routeKey("acme-saml")]);
    await seed(TEST_TABLE);
  }, 60_000);

  it("answers repeated lookups from the isolate cache within its TTL", async () => {
    const { kv, gets } = countingKv();
    isolateCache.clear();
    let now = 1_000_000;
    const store = new RouteStore(kv, storeConfig, isolateCache, () => now);
    await store.route("acme-saml");
    await store.route("acme-saml");
    expect(gets).toHaveLength(1);
    now += 10_001;
    await store.route("acme-saml");
    expect(gets).toHaveLength(2);
  });

  it("caches a missing connection too, so unknown names do not hammer KV", async () => {
    const { kv, gets } = countingKv();
    isolateCache.clear();
    const store = new RouteStore(kv, storeConfig, isolateCache, () => 5);
    expect((await store.route("nobody")).status).toBe("absent");
    expect((await store.route("nobody")).status).toBe("absent");
    expect(gets).toHaveLength(1);
  });
});
