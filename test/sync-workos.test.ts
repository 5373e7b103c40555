import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { WorkosClient, retryAfterMs } from "../src/sync/workos-client";
import { routeKey } from "../src/table/kv-layout";
import { api, json, resetTable, signJwt } from "./support/admin";
import { call, HOST } from "./support/worker";
import { fakeRequests, fakeWorkos, fakeWorkosUrl, manyConnections, workosEnv } from "./support/workos";

const KEY = "sk_test_sync_workos";

type Report = {
  dryRun: boolean;
  providerConnections: number;
  updated: Array<{ connection: string; fields: string[] }>;
  unchanged: string[];
  migrated: string[];
  unmatchedProviderConnections: Array<{ id: string; name: string; state: string; reason: string }>;
  routesWithoutProviderConnection: Array<{ connection: string; state: string; reason: string }>;
  flagged: Array<{
    connection: string;
    state: string;
    providerState: string | null;
    severity: "critical" | "warning";
    reason: string;
  }>;
  kvPending: number;
};
type Route = {
  connection: string;
  state: string;
  version: number;
  providerConnectionId?: string;
  providerState?: string;
  providerOrganizationId?: string;
  providerSyncedAt?: string;
};
type Problem = { status: number; title: string; detail: string; errors?: Array<{ field: string; reason: string }> };
type Audit = { entries: Array<{ action: string; actor: string; after: Record<string, unknown> }> };

const syncWorkos = (query = "", envOverrides = workosEnv(KEY)) =>
  api(`/sync/workos${query}`, { method: "POST", env: envOverrides });
const put = (connection: string, body: unknown) => api(`/routes/${connection}`, { method: "PUT", body });
const route = async (connection: string) => json<Route>(await api(`/routes/${connection}`));
const auditActions = async () => (await json<Audit>(await api("/audit"))).entries.map((e) => e.action);

beforeEach(async () => {
  await resetTable();
  await fakeWorkos(KEY, {});
});

describe("POST /sync/workos: reading every WorkOS connection", () => {
  it("follows list_metadata.after to the last page: 250 connections in three pages of 100", async () => {
    await fakeWorkos(KEY, { connections: manyConnections(250) });
    for (const name of ["sso-001", "sso-125", "sso-250"]) await put(name, { state: "legacy" });
    const res = await syncWorkos("?dryRun=true");
    expect(res.status).toBe(200);
    const report = await json<Report>(res);
    expect(report.providerConnections).toBe(250);
    expect(report.updated.map((u) => u.connection)).toEqual(["sso-001", "sso-125", "sso-250"]);
    expect(report.unmatchedProviderConnections).toHaveLength(247);
    expect((await fakeRequests(KEY)).map((r) => r.query)).toEqual([
      { limit: "100" },
      { limit: "100", after: "conn_151" },
      { limit: "100", after: "conn_051" },
    ]);
  });

  it("pages with a smaller limit too, and stops at the page bound without returning anything", async () => {
    await fakeWorkos(KEY, { connections: manyConnections(250) });
    const client = new WorkosClient(new URL(fakeWorkosUrl()), KEY, { pageLimit: 10 });
    expect(await client.listConnections()).toHaveLength(250);
    expect(await fakeRequests(KEY)).toHaveLength(25);
    const bounded = new WorkosClient(new URL(fakeWorkosUrl()), KEY, { pageLimit: 10, maxPages: 3 });
    await expect(bounded.listConnections()).rejects.toThrow(/more than 3 pages of 10/);
  });
});

describe("POST /sync/workos: what it changes", () => {
  beforeEach(async () => {
    await fakeWorkos(KEY, {
      connections: [
        { id: "conn_acme", name: "acme-saml", state: "active", organization_id: "org_01ACME" },
        { id: "conn_globex", name: "globex-saml", state: "inactive", organization_id: "org_01GLOBEX" },
        { id: "conn_lonely", name: "lonely-saml", state: "draft", organization_id: null },
      ],
    });
    await put("acme-saml", { state: "legacy", organization: "org_acme" });
    await put("globex-saml", { state: "migrated" });
    await put("initech-saml", { state: "legacy" });
  });

  it("dry run returns the report and writes nothing: table, KV and audit unchanged", async () => {
    const kvBefore = await env.ROUTES.get(routeKey("acme-saml"));
    const res = await syncWorkos("?dryRun=true");
    expect(res.status).toBe(200);
    const report = await json<Report>(res);
    expect(report.dryRun).toBe(true);
    expect(report.updated).toEqual([
      {
        connection: "acme-saml",
        fields: ["providerConnectionId", "providerState", "providerOrganizationId"],
      },
      { connection: "globex-saml", fields: ["providerConnectionId", "providerState", "providerOrganizationId"] },
    ]);
    expect(await route("acme-saml")).not.toHaveProperty("providerState");
    expect((await route("acme-saml")).version).toBe(1);
    expect(await env.ROUTES.get(routeKey("acme-saml"))).toBe(kvBefore);
    expect(await auditActions()).not.toContain("sync.workos");
  });

  it("applies: records the WorkOS connection id, state and organization, writes KV, one audit entry", async () => {
    const res = await syncWorkos();
    expect(res.status).toBe(200);
    expect((await json<Report>(res)).dryRun).toBe(false);
    const acme = await route("acme-saml");
    expect(acme).toMatchObject({
      state: "legacy",
      version: 2,
      providerConnectionId: "conn_acme",
      providerState: "active",
      providerOrganizationId: "org_01ACME",
    });
    expect(Date.parse(acme.providerSyncedAt ?? "")).toBeGreaterThan(Date.now() - 60_000);
    // The write went through to KV (version 2), without the provider's fields (docs/storage.md).
    const kv = JSON.parse((await env.ROUTES.get(routeKey("acme-saml"))) ?? "{}") as Record<string, unknown>;
    expect(kv).toMatchObject({ connection: "acme-saml", version: 2, providerConnectionId: "conn_acme" });
    expect(kv).not.toHaveProperty("providerState");
    const audit = await json<Audit>(await api("/audit"));
    expect(audit.entries.filter((e) => e.action === "sync.workos")).toHaveLength(1);
    expect(audit.entries[0]).toMatchObject({
      action: "sync.workos",
      actor: "token:ci",
      after: { updated: ["acme-saml", "globex-saml"], migrated: [], flagged: ["globex-saml"] },
    });
  });

  it("a second run finds nothing to change: no version bump, no audit entry", async () => {
    await syncWorkos();
    const report = await json<Report>(await syncWorkos());
    expect(report.updated).toEqual([]);
    expect(report.unchanged).toEqual(["acme-saml", "globex-saml", "initech-saml"]);
    expect((await route("acme-saml")).version).toBe(2);
    expect((await auditActions()).filter((a) => a === "sync.workos")).toHaveLength(1);
  });

  it("reports WorkOS connections with no route and routes with no WorkOS connection", async () => {
    const report = await json<Report>(await syncWorkos());
    expect(report.unmatchedProviderConnections).toEqual([
      {
        id: "conn_lonely",
        name: "lonely-saml",
        state: "draft",
        organizationId: null,
        reason: "no route has this providerConnectionId or connection name",
      },
    ]);
    expect(report.routesWithoutProviderConnection).toEqual([
      { connection: "initech-saml", state: "legacy", reason: "no provider connection has this id or name" },
    ]);
  });

  it("flags a migrated route whose WorkOS connection is not active as critical, a legacy one as a warning", async () => {
    await fakeWorkos(KEY, {
      connections: [
        { id: "conn_acme", name: "acme-saml", state: "validating" },
        { id: "conn_globex", name: "globex-saml", state: "inactive" },
      ],
    });
    const report = await json<Report>(await syncWorkos());
    expect(report.flagged).toEqual([
      expect.objectContaining({
        connection: "acme-saml",
        state: "legacy",
        providerState: "validating",
        severity: "warning",
      }),
      expect.objectContaining({
        connection: "globex-saml",
        state: "migrated",
        providerState: "inactive",
        severity: "critical",
        reason: "migrated, but its provider connection is inactive: callbacks sent there may fail",
      }),
    ]);
  });

  it("matches by providerConnectionId before the name; a route whose id WorkOS no longer lists loses its state", async () => {
    await fakeWorkos(KEY, {
      connections: [
        { id: "conn_acme", name: "Acme Corp SAML", state: "active" },
        { id: "conn_imposter", name: "acme-saml", state: "inactive" },
        { id: "conn_globex", name: "globex-saml", state: "active" },
      ],
    });
    await put("acme-saml", { state: "legacy", providerConnectionId: "conn_acme" });
    await syncWorkos();
    expect(await route("acme-saml")).toMatchObject({ providerConnectionId: "conn_acme", providerState: "active" });
    expect(await route("globex-saml")).toMatchObject({ providerState: "active" });

    // conn_globex disappears at WorkOS: globex-saml (migrated) is no longer known to be active.
    await fakeWorkos(KEY, { connections: [{ id: "conn_acme", name: "Acme Corp SAML", state: "active" }] });
    const report = await json<Report>(await syncWorkos());
    const globex = await route("globex-saml");
    expect(globex.providerConnectionId).toBe("conn_globex");
    expect(globex).not.toHaveProperty("providerState");
    expect(report.flagged).toContainEqual(
      expect.objectContaining({ connection: "globex-saml", severity: "critical", providerState: null }),
    );
  });

  it("reports the connection that lost a name match to a route already linked by id", async () => {
    await fakeWorkos(KEY, {
      connections: [
        { id: "conn_acme", name: "Acme Corp SAML", state: "active" },
        { id: "conn_imposter", name: "acme-saml", state: "inactive" },
      ],
    });
    await put("acme-saml", { state: "legacy", providerConnectionId: "conn_acme" });
    const report = await json<Report>(await syncWorkos());
    expect(report.unmatchedProviderConnections).toEqual([
      expect.objectContaining({
        id: "conn_imposter",
        reason: 'route "acme-saml" is linked to another provider connection',
      }),
    ]);
  });
});

describe("POST /sync/workos: autoMigrate", () => {
  beforeEach(async () => {
    await fakeWorkos(KEY, {
      connections: [
        { id: "conn_acme", name: "acme-saml", state: "active" },
        { id: "conn_globex", name: "globex-saml", state: "inactive" },
        { id: "conn_stark", name: "stark-saml", state: "active" },
      ],
    });
    await api("/settings", { method: "PUT", body: { defaultTarget: "https://sso.example.com/cb" } });
    await put("acme-saml", { state: "legacy" });
    await put("globex-saml", { state: "legacy" });
    await put("stark-saml", { state: "rollout" });
  });

  it("off (the default): never marks a route migrated, even with an active WorkOS connection", async () => {
    const report = await json<Report>(await syncWorkos());
    expect(report.migrated).toEqual([]);
    expect((await route("acme-saml")).state).toBe("legacy");
  });

  it("on: migrates only legacy routes whose WorkOS connection is active, reports them, and callbacks follow", async () => {
    await api("/settings", { method: "PUT", body: { provider: { autoMigrate: true } } });
    const dry = await json<Report>(await syncWorkos("?dryRun=true"));
    expect(dry.migrated).toEqual(["acme-saml"]);
    expect((await route("acme-saml")).state).toBe("legacy");

    const report = await json<Report>(await syncWorkos());
    expect(report.migrated).toEqual(["acme-saml"]);
    expect(report.updated).toContainEqual({
      connection: "acme-saml",
      fields: ["state", "providerConnectionId", "providerState"],
    });
    expect((await route("acme-saml")).state).toBe("migrated");
    expect((await route("globex-saml")).state).toBe("legacy");
    expect((await route("stark-saml")).state).toBe("rollout");
    const callback = await call(new Request(`${HOST}/login/callback?connection=acme-saml`));
    expect(callback.status).toBe(307);
  });
});

describe("POST /sync/workos: when WorkOS misbehaves", () => {
  beforeEach(async () => {
    await put("acme-saml", { state: "legacy" });
  });

  const untouched = async () => {
    const acme = await route("acme-saml");
    expect(acme.version).toBe(1);
    expect(acme).not.toHaveProperty("providerState");
    expect(await auditActions()).not.toContain("sync.workos");
  };

  it("honours Retry-After on a 429: waits the 1 s it asks for, retries, and succeeds", async () => {
    await fakeWorkos(KEY, {
      connections: [{ id: "conn_acme", name: "acme-saml", state: "active" }],
      rateLimitOnce: "1",
    });
    const slept: number[] = [];
    const client = new WorkosClient(new URL(fakeWorkosUrl()), KEY, { sleep: async (ms) => void slept.push(ms) });
    expect(await client.listConnections()).toHaveLength(1);
    expect(slept).toEqual([1000]);
    expect((await fakeRequests(KEY)).map((r) => r.status)).toEqual([429, 200]);
  });

  it("applies a sync whose first WorkOS request was rate-limited (429, then 200)", async () => {
    await fakeWorkos(KEY, {
      connections: [{ id: "conn_acme", name: "acme-saml", state: "active" }],
      rateLimitOnce: "1",
    });
    const res = await syncWorkos();
    expect(res.status).toBe(200);
    expect((await fakeRequests(KEY)).map((r) => r.status)).toEqual([429, 200]);
    expect((await route("acme-saml")).providerState).toBe("active");
  });

  it("gives up without waiting when Retry-After asks for more than the sync waits in total (502, nothing applied)", async () => {
    await fakeWorkos(KEY, {
      connections: [{ id: "conn_acme", name: "acme-saml", state: "active" }],
      rateLimitOnce: "30",
    });
    const slept: number[] = [];
    const client = new WorkosClient(new URL(fakeWorkosUrl()), KEY, { sleep: async (ms) => void slept.push(ms) });
    await expect(client.listConnections()).rejects.toThrow(/30 s wait \(Retry-After\), beyond the 10 s/);
    expect(slept).toEqual([]);
    await fakeWorkos(KEY, {
      connections: [{ id: "conn_acme", name: "acme-saml", state: "active" }],
      rateLimitOnce: "30",
    });
    const res = await syncWorkos();
    expect(res.status).toBe(502);
    expect((await json<Problem>(res)).detail).toMatch(/30 s wait \(Retry-After\), beyond the 10 s/);
    await untouched();
  });

  it("retries a passing 5xx and succeeds", async () => {
    await fakeWorkos(KEY, { connections: [{ id: "conn_acme", name: "acme-saml", state: "active" }], failures: 2 });
    expect((await syncWorkos()).status).toBe(200);
    expect((await fakeRequests(KEY)).map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it("answers 502 after a bounded number of 5xx retries and applies nothing", async () => {
    await fakeWorkos(KEY, {
      connections: [{ id: "conn_acme", name: "acme-saml", state: "active" }],
      failures: "always",
    });
    const res = await syncWorkos();
    expect(res.status).toBe(502);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect((await json<Problem>(res)).detail).toMatch(/GET \/connections: WorkOS answered 503 3 times/);
    expect(await fakeRequests(KEY)).toHaveLength(3);
    await untouched();
  });

  it("applies nothing when a later page fails, though earlier pages were read", async () => {
    await fakeWorkos(KEY, { connections: manyConnections(250), failures: "always", failuresAfter: 1 });
    await put("sso-250", { state: "legacy" });
    const res = await syncWorkos();
    expect(res.status).toBe(502);
    expect((await fakeRequests(KEY))[0]?.status).toBe(200);
    expect(await route("sso-250")).not.toHaveProperty("providerState");
  });

  it("answers 502 naming (body) when the body is not JSON", async () => {
    await fakeWorkos(KEY, { malformed: "json" });
    const res = await syncWorkos();
    expect(res.status).toBe(502);
    expect((await json<Problem>(res)).errors?.[0]?.field).toBe("(body)");
    await untouched();
  });

  it("answers 502 naming the field when a field has the wrong type", async () => {
    await fakeWorkos(KEY, {
      connections: [{ id: "conn_acme", name: "acme-saml", state: "active" }],
      malformed: "types",
    });
    const res = await syncWorkos();
    expect(res.status).toBe(502);
    const problem = await json<Problem>(res);
    expect(problem.errors?.[0]?.field).toBe("data.0.state");
    expect(problem.detail).toContain("malformed answer at data.0.state");
    await untouched();
  });

  it("answers 502 when WorkOS refuses the key", async () => {
    const res = await syncWorkos("", workosEnv("sk_test_not_registered"));
    expect(res.status).toBe(502);
    expect((await json<Problem>(res)).detail).toContain("WorkOS refused WORKOS_API_KEY (401)");
  });

  it("answers 503 when WORKOS_API_KEY is not configured, and when WORKOS_API_URL is not usable", async () => {
    const noKey = await syncWorkos("", workosEnv(undefined));
    expect(noKey.status).toBe(503);
    expect((await json<Problem>(noKey)).detail).toMatch(/^WORKOS_API_KEY is not set/);
    const badUrl = await syncWorkos("", workosEnv(KEY, { WORKOS_API_URL: "http://workos.example.com" }));
    expect(badUrl.status).toBe(503);
    expect((await json<Problem>(badUrl)).detail).toMatch(/^WORKOS_API_URL must be https/);
  });
});

describe("POST /sync/*: access and documentation", () => {
  it("needs routes:write, even for a dry run", async () => {
    const reader = await signJwt({ sub: "reader", scope: "routes:read" });
    for (const path of ["/sync/workos?dryRun=true", "/sync/flags?dryRun=true"]) {
      const res = await api(path, { method: "POST", token: reader, env: workosEnv(KEY) });
      expect(res.status).toBe(403);
    }
  });

  it("refuses a dryRun that is not true or false with 400", async () => {
    expect((await syncWorkos("?dryRun=yes")).status).toBe(400);
  });

  it("documents both endpoints in the OpenAPI document, with their 502 and 503 problems", async () => {
    const doc = await json<{ paths: Record<string, { post?: { responses: Record<string, unknown> } }> }>(
      await api("/openapi.json"),
    );
    for (const path of ["/__router/v1/sync/workos", "/__router/v1/sync/flags"]) {
      expect(Object.keys(doc.paths[path]?.post?.responses ?? {})).toEqual(
        expect.arrayContaining(["200", "502", "503"]),
      );
    }
  });
});

describe("Retry-After", () => {
  it("reads delay-seconds and HTTP dates", () => {
    const now = Date.parse("2026-11-23T10:00:00Z");
    expect(retryAfterMs("3", now)).toBe(3000);
    expect(retryAfterMs("Mon, 23 Nov 2026 10:00:02 GMT", now)).toBe(2000);
    expect(retryAfterMs("Mon, 23 Nov 2026 09:00:00 GMT", now)).toBe(0);
    expect(retryAfterMs("soon", now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });

  it("waits until an HTTP-date Retry-After, then retries", async () => {
    await fakeWorkos(KEY, {
      connections: [{ id: "conn_acme", name: "acme-saml", state: "active" }],
      rateLimitOnce: new Date(Date.now() + 2000).toUTCString(),
    });
    const slept: number[] = [];
    const client = new WorkosClient(new URL(fakeWorkosUrl()), KEY, {
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    expect(await client.listConnections()).toHaveLength(1);
    expect(slept).toHaveLength(1);
    expect(slept[0]).toBeGreaterThan(0);
    expect(slept[0]).toBeLessThanOrEqual(2000);
  });
});
