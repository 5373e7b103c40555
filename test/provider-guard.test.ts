import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import proxyRoutesCsv from "./fixtures/proxy_routes.csv?raw";
import { routeKey, SETTINGS_KEY } from "../src/table/kv-layout";
import { api, json, resetTable } from "./support/admin";
import { call, HOST } from "./support/worker";
import { fakeWorkos, workosEnv } from "./support/workos";

const KEY = "sk_test_provider_guard";

type Route = { connection: string; state: string; version: number; providerState?: string; note?: string };
type Problem = { status: number; title: string; detail: string; errors?: Array<{ field: string; reason: string }> };

const put = (connection: string, body: unknown) => api(`/routes/${connection}`, { method: "PUT", body });
const patch = (connection: string, body: unknown) => api(`/routes/${connection}`, { method: "PATCH", body });
const route = async (connection: string) => json<Route>(await api(`/routes/${connection}`));
const settings = (body: unknown) => api("/settings", { method: "PUT", body });
const sync = () => api("/sync/workos", { method: "POST", env: workosEnv(KEY) });

/** on-saml's WorkOS connection is active, off-saml's inactive; both routes synced, both legacy. */
beforeEach(async () => {
  await resetTable();
  await fakeWorkos(KEY, {
    connections: [
      { id: "conn_on", name: "on-saml", state: "active", organization_id: "org_01ON" },
      { id: "conn_off", name: "off-saml", state: "inactive", organization_id: "org_01OFF" },
    ],
  });
  await settings({ defaultTarget: "https://sso.example.com/cb" });
  await put("on-saml", { state: "legacy" });
  await put("off-saml", { state: "legacy" });
  expect((await sync()).status).toBe(200);
  await settings({ provider: { requireActive: true } });
});

describe("settings.provider.requireActive: no route is migrated while its WorkOS connection is not active", () => {
  it("refuses a PATCH to migrated with 409 naming state, and keeps the route", async () => {
    const res = await patch("off-saml", { state: "migrated" });
    expect(res.status).toBe(409);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = await json<Problem>(res);
    expect(problem.errors).toEqual([
      {
        field: "state",
        reason:
          'settings.provider.requireActive is on and the provider connection of "off-saml" is inactive, not active',
      },
    ]);
    expect(await route("off-saml")).toMatchObject({ state: "legacy", version: 2 });
  });

  it("refuses a PUT to migrated with 409 naming state", async () => {
    const res = await put("off-saml", { state: "migrated", providerConnectionId: "conn_off" });
    expect(res.status).toBe(409);
    expect((await json<Problem>(res)).errors?.[0]?.field).toBe("state");
  });

  it("refuses migrating a route never linked to a WorkOS connection, saying how to link it", async () => {
    const res = await put("new-saml", { state: "migrated" });
    expect(res.status).toBe(409);
    expect((await json<Problem>(res)).detail).toContain("run POST /sync/workos");
    expect((await api("/routes/new-saml")).status).toBe(404);
  });

  it("refuses an import row that would be migrated (422 per row) and imports nothing — a forged providerState is ignored", async () => {
    const res = await api("/import", {
      method: "POST",
      body: {
        routes: [
          { connection: "on-saml", state: "migrated", providerConnectionId: "conn_on" },
          { connection: "off-saml", state: "migrated", providerConnectionId: "conn_off", providerState: "active" },
        ],
      },
    });
    expect(res.status).toBe(422);
    expect((await json<Problem>(res)).errors).toEqual([
      {
        field: "routes.1.state",
        reason:
          'settings.provider.requireActive is on and the provider connection of "off-saml" is inactive, not active',
      },
    ]);
    expect((await route("on-saml")).state).toBe("legacy");
  });

  it("refuses a proxy_routes.csv row with cutoverState workos, naming its line", async () => {
    const res = await api("/import", { method: "POST", text: proxyRoutesCsv, contentType: "text/csv" });
    expect(res.status).toBe(422);
    expect((await json<Problem>(res)).errors).toContainEqual(expect.objectContaining({ field: "line 2.cutoverState" }));
  });

  it("lets a route whose WorkOS connection is active be migrated, and its callbacks follow", async () => {
    const res = await patch("on-saml", { state: "migrated" });
    expect(res.status).toBe(200);
    expect((await call(new Request(`${HOST}/login/callback?connection=on-saml`))).status).toBe(307);
  });

  it("applies when the setting is on, as an import sets it", async () => {
    await settings({ provider: { requireActive: false } });
    const res = await api("/import", {
      method: "POST",
      body: {
        settings: { provider: { requireActive: true } },
        routes: [{ connection: "off-saml", state: "migrated", providerConnectionId: "conn_off" }],
      },
    });
    expect(res.status).toBe(422);
    expect((await json<Problem>(res)).errors?.[0]?.field).toBe("routes.0.state");
  });

  it("allows it all when requireActive is off", async () => {
    await settings({ provider: { requireActive: false } });
    expect((await patch("off-saml", { state: "migrated" })).status).toBe(200);
  });

  it("still lets the sync record that a migrated route's WorkOS connection went inactive (flagged, not refused)", async () => {
    expect((await patch("on-saml", { state: "migrated" })).status).toBe(200);
    await fakeWorkos(KEY, { connections: [{ id: "conn_on", name: "on-saml", state: "inactive" }] });
    const res = await sync();
    expect(res.status).toBe(200);
    const report = await json<{ flagged: Array<{ connection: string; severity: string }> }>(res);
    expect(report.flagged).toContainEqual(expect.objectContaining({ connection: "on-saml", severity: "critical" }));
    expect(await route("on-saml")).toMatchObject({ state: "migrated", providerState: "inactive" });
    // Moving it back to legacy is always allowed.
    expect((await patch("on-saml", { state: "legacy" })).status).toBe(200);
  });
});

describe("the provider fields belong to the sync", () => {
  it("cannot be set through PUT or PATCH", async () => {
    const viaPut = await put("off-saml", { state: "legacy", providerState: "active" });
    expect(viaPut.status).toBe(422);
    const viaPatch = await patch("off-saml", { providerState: "active" });
    expect(viaPatch.status).toBe(422);
    expect((await route("off-saml")).providerState).toBe("inactive");
  });

  it("survive operator writes to other fields, and go when providerConnectionId changes", async () => {
    await patch("on-saml", { note: "wave 2" });
    expect(await route("on-saml")).toMatchObject({ note: "wave 2", providerState: "active" });
    await patch("on-saml", { providerConnectionId: "conn_other" });
    expect(await route("on-saml")).not.toHaveProperty("providerState");
  });

  it("round-trip through export and import unchanged", async () => {
    const exported = await json<{ routes: Array<Record<string, unknown>> }>(await api("/export"));
    expect(exported.routes.find((r) => r["connection"] === "on-saml")).toMatchObject({
      providerState: "active",
      providerOrganizationId: "org_01ON",
    });
    const again = await json<{ diff: { changed: unknown[]; unchanged: string[] } }>(
      await api("/import?dryRun=true&mode=replace", { method: "POST", body: exported }),
    );
    expect(again.diff).toMatchObject({ changed: [], unchanged: ["off-saml", "on-saml"] });
  });

  it("stay out of KV, which holds only what the callback router reads", async () => {
    const kv = JSON.parse((await env.ROUTES.get(routeKey("on-saml"))) ?? "{}") as Record<string, unknown>;
    expect(kv).toMatchObject({ connection: "on-saml", providerConnectionId: "conn_on" });
    for (const field of ["providerState", "providerOrganizationId", "providerSyncedAt"]) {
      expect(kv).not.toHaveProperty(field);
    }
    const kvSettings = JSON.parse((await env.ROUTES.get(SETTINGS_KEY)) ?? "{}") as Record<string, unknown>;
    expect(kvSettings).not.toHaveProperty("provider");
  });
});

describe("settings.provider", () => {
  it("changes only the fields sent, shows the defaults for the rest, and null restores the defaults", async () => {
    const res = await settings({ provider: { mirrorFlag: true } });
    expect(res.status).toBe(200);
    expect((await json<{ provider: unknown }>(res)).provider).toEqual({
      requireActive: true,
      autoMigrate: false,
      flagSlug: "workos-sso-enabled",
      mirrorFlag: true,
    });
    const cleared = await json<Record<string, unknown>>(await settings({ provider: null }));
    expect(cleared).not.toHaveProperty("provider");
    expect((await patch("off-saml", { state: "migrated" })).status).toBe(200);
  });

  it("refuses an unknown or mistyped provider field, naming it", async () => {
    const res = await settings({ provider: { flagSlug: "" } });
    expect(res.status).toBe(422);
    expect((await json<Problem>(res)).errors?.map((e) => e.field)).toContain("provider.flagSlug");
    expect((await settings({ provider: { colour: "red" } })).status).toBe(422);
  });
});
