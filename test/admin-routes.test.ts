import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { matchKey, routeKey } from "../src/table/kv-layout";
import { api, json, resetTable } from "./support/admin";
import { call, HOST } from "./support/worker";

beforeEach(() => resetTable());

type Route = {
  connection: string;
  state: string;
  version: number;
  target?: string;
  note?: string;
  match?: Record<string, string>;
};
type Problem = { status: number; title: string; detail: string; errors?: Array<{ field: string; reason: string }> };

const put = (connection: string, body: unknown, headers: Record<string, string> = {}) =>
  api(`/routes/${connection}`, { method: "PUT", body, headers });

describe("routes: create, read, change, delete", () => {
  it("creates a route (201 + ETag), writes it through to KV, and reads it back", async () => {
    const res = await put("acme-saml", {
      state: "migrated",
      target: "https://sso.example.com/acme",
      match: { idpEntityId: "https://idp.acme" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("etag")).toBe('"1"');
    expect(res.headers.get("cache-control")).toBe("no-store, no-transform");
    const got = await api("/routes/acme-saml");
    expect(got.headers.get("etag")).toBe('"1"');
    expect(await json<Route>(got)).toMatchObject({ connection: "acme-saml", state: "migrated", version: 1 });
    expect(JSON.parse((await env.ROUTES.get(routeKey("acme-saml"))) ?? "{}")).toMatchObject({
      state: "migrated",
      version: 1,
    });
    expect(await env.ROUTES.get(matchKey("idp", "https://idp.acme"))).toBe("acme-saml");
  });

  it("replaces with If-Match and refuses a stale If-Match with 412", async () => {
    await put("acme-saml", { state: "legacy" });
    const ok = await put("acme-saml", { state: "migrated" }, { "if-match": '"1"' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("etag")).toBe('"2"');
    const stale = await put("acme-saml", { state: "legacy" }, { "if-match": '"1"' });
    expect(stale.status).toBe(412);
    expect((await json<Problem>(stale)).detail).toContain("version 2");
    expect((await json<Route>(await api("/routes/acme-saml"))).state).toBe("migrated");
  });

  it("answers 400 naming If-Match when it is not an ETag", async () => {
    const res = await put("acme-saml", { state: "legacy" }, { "if-match": "yesterday" });
    expect(res.status).toBe(400);
    expect((await json<Problem>(res)).errors?.[0]?.field).toBe("If-Match");
  });

  it("patches just the state, keeps the other fields, and removes a field given null", async () => {
    await put("acme-saml", { state: "legacy", note: "wave 1", target: "https://sso.example.com/acme" });
    const res = await api("/routes/acme-saml", { method: "PATCH", body: { state: "migrated", note: null } });
    expect(res.status).toBe(200);
    const route = await json<Route>(res);
    expect(route).toMatchObject({ state: "migrated", target: "https://sso.example.com/acme", version: 2 });
    expect(route.note).toBeUndefined();
  });

  it("deletes a route and its KV records", async () => {
    await put("acme-saml", { state: "legacy", match: { oidcIssuer: "https://acme.okta" } });
    expect((await api("/routes/acme-saml", { method: "DELETE" })).status).toBe(200);
    expect((await api("/routes/acme-saml")).status).toBe(404);
    expect(await env.ROUTES.get(routeKey("acme-saml"))).toBeNull();
    expect(await env.ROUTES.get(matchKey("oidc", "https://acme.okta"))).toBeNull();
    expect((await api("/routes/acme-saml", { method: "DELETE" })).status).toBe(404);
  });

  it("moves a match index with the route when it changes", async () => {
    await put("acme-saml", { state: "legacy", match: { idpEntityId: "https://old" } });
    await api("/routes/acme-saml", { method: "PATCH", body: { match: { idpEntityId: "https://new" } } });
    expect(await env.ROUTES.get(matchKey("idp", "https://old"))).toBeNull();
    expect(await env.ROUTES.get(matchKey("idp", "https://new"))).toBe("acme-saml");
  });

  it("lists with state and organization filters and cursor pagination", async () => {
    for (let i = 0; i < 7; i++) {
      await put(`conn-${i}`, { state: i % 2 === 0 ? "migrated" : "legacy", organization: i < 3 ? "org_a" : "org_b" });
    }
    const first = await json<{ routes: Route[]; nextCursor: string | null }>(await api("/routes?limit=3"));
    expect(first.routes.map((r) => r.connection)).toEqual(["conn-0", "conn-1", "conn-2"]);
    const second = await json<{ routes: Route[]; nextCursor: string | null }>(
      await api(`/routes?limit=3&cursor=${first.nextCursor}`),
    );
    expect(second.routes.map((r) => r.connection)).toEqual(["conn-3", "conn-4", "conn-5"]);
    const third = await json<{ routes: Route[]; nextCursor: string | null }>(
      await api(`/routes?limit=3&cursor=${second.nextCursor}`),
    );
    expect(third).toEqual({ routes: [expect.objectContaining({ connection: "conn-6" })], nextCursor: null });
    const migrated = await json<{ routes: Route[] }>(await api("/routes?state=migrated&organization=org_a"));
    expect(migrated.routes.map((r) => r.connection)).toEqual(["conn-0", "conn-2"]);
  });
});

describe("routes: validation names the field and the reason", () => {
  it.each<[string, unknown, string, number]>([
    ["an unknown state", { state: "moved" }, "state", 422],
    ["an unknown field", { state: "legacy", colour: "red" }, "(body)", 422],
    ["an http target", { state: "migrated", target: "http://sso.example.com/cb" }, "target", 422],
    [
      "a target off the allow-list",
      { state: "migrated", target: "https://sso.example.com.evil.test/cb" },
      "target",
      422,
    ],
    ["a missing state", {}, "state", 422],
    ["a 2000-character note", { state: "legacy", note: "n".repeat(2000) }, "note", 422],
  ])("refuses %s", async (_name, body, field, status) => {
    const res = await put("acme-saml", body);
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = await json<Problem>(res);
    expect(problem.errors?.map((e) => e.field)).toContain(field);
    expect((await api("/routes/acme-saml")).status).toBe(404);
  });

  it.each<[string, string, unknown]>([
    ["GET", "/routes", undefined],
    ["PUT", "/routes", { state: "legacy" }],
    ["PATCH", "/routes", { state: "migrated" }],
    ["DELETE", "/routes", undefined],
    ["GET", "/stats", undefined],
  ])(
    "%s %s/{connection} with a 129-character name names connection and its 128-character limit",
    async (method, path, body) => {
      const res = await api(`${path}/${"a".repeat(129)}`, { method, ...(body === undefined ? {} : { body }) });
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      const problem = await json<Problem>(res);
      expect(problem.detail).toBe("The path does not name a valid Auth0 connection.");
      expect(problem.errors).toEqual([
        { field: "connection", reason: "an Auth0 connection name has at most 128 characters (this one has 129)" },
      ]);
    },
  );

  it("refuses malformed JSON with 400", async () => {
    const res = await api("/routes/acme-saml", { method: "PUT", text: "{not json", contentType: "application/json" });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });

  it.each(["..%2F..%2Fsettings", "a_b", "-lead", "x".repeat(129)])(
    "refuses the connection name %s in the path",
    async (name) => {
      const res = await put(name, { state: "legacy" });
      expect([400, 404]).toContain(res.status);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    },
  );

  it("refuses a match value another route already claims, with 409", async () => {
    await put("acme-saml", { state: "legacy", match: { idpEntityId: "https://idp.shared" } });
    const res = await put("other-saml", { state: "legacy", match: { idpEntityId: "https://idp.shared" } });
    expect(res.status).toBe(409);
    expect((await json<Problem>(res)).errors?.[0]?.field).toBe("match.idpEntityId");
  });

  it("refuses a body over 64 KiB with 413", async () => {
    const res = await api("/routes/acme-saml", {
      method: "PUT",
      text: JSON.stringify({ state: "legacy", note: "x".repeat(70_000) }),
      contentType: "application/json",
    });
    expect(res.status).toBe(413);
  });

  it("never returns a secret", async () => {
    await put("acme-saml", { state: "legacy" });
    for (const path of [
      "/routes",
      "/routes/acme-saml",
      "/settings",
      "/rollout",
      "/export",
      "/audit",
      "/status",
      "/openapi.json",
    ]) {
      const text = await (await api(path, { env: { AUTH0_CNAME_API_KEY: "CNAME-SECRET-VALUE" } })).text();
      expect(text).not.toContain("CNAME-SECRET-VALUE");
      expect(text).not.toContain("test-admin-token");
    }
  });
});

describe("a route change takes effect on the callback path", () => {
  it("redirects the next callback after a PATCH to migrated, and forwards it again after the kill switch", async () => {
    await api("/settings", { method: "PUT", body: { defaultTarget: "https://sso.example.com/cb" } });
    await put("acme-saml", { state: "legacy" });
    expect((await call(new Request(`${HOST}/login/callback?connection=acme-saml`))).status).toBe(200);
    await api("/routes/acme-saml", { method: "PATCH", body: { state: "migrated" } });
    const moved = await call(new Request(`${HOST}/login/callback?connection=acme-saml`));
    expect(moved.status).toBe(307);
    expect(moved.headers.get("location")).toBe("https://sso.example.com/cb?connection=acme-saml");
    await api("/settings", { method: "PUT", body: { killSwitch: { on: true } } });
    expect((await call(new Request(`${HOST}/login/callback?connection=acme-saml`))).status).toBe(200);
  });
});
