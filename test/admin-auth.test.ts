import { beforeEach, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, api, json, resetTable, signJwt } from "./support/admin";

beforeEach(() => resetTable());

const write = { method: "PUT", body: { state: "legacy" } };

describe("management API authentication (fails closed)", () => {
  it("refuses every request when no credential is configured", async () => {
    const res = await api("/routes", {
      env: {
        ADMIN_TOKEN: undefined,
        ADMIN_JWKS_URL: undefined,
        ADMIN_JWT_ISSUER: undefined,
        ADMIN_JWT_AUDIENCE: undefined,
      },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect((await json(res))["detail"]).toContain("no credential configured");
  });

  it("answers /health without a credential and without configuration details", async () => {
    const res = await api("/health", { token: null });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it.each<[string, string | null, number]>([
    ["no Authorization header", null, 401],
    ["a wrong static token", "wrong-token-wrong-token-wrong-token-00", 401],
    ["a token that is not Bearer syntax", "has spaces in it", 401],
  ])("answers 401 with WWW-Authenticate for %s, and changes nothing", async (_name, token, status) => {
    const res = await api("/routes/acme-saml", { ...write, token });
    expect(res.status).toBe(status);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="callback-router"/);
    expect((await api("/routes/acme-saml")).status).toBe(404);
  });

  it("accepts the static token for reads and writes and records its name as the actor", async () => {
    expect((await api("/routes/acme-saml", write)).status).toBe(201);
    const audit = await json<{ entries: Array<{ actor: string }> }>(await api("/audit"));
    expect(audit.entries[0]?.actor).toBe("token:ci");
  });

  it("refuses a static token shorter than 32 characters as a configuration error", async () => {
    const res = await api("/routes", {
      env: {
        ADMIN_TOKEN: "short",
        ADMIN_JWKS_URL: undefined,
        ADMIN_JWT_ISSUER: undefined,
        ADMIN_JWT_AUDIENCE: undefined,
      },
      token: "short",
    });
    expect(res.status).toBe(503);
    expect((await json(res))["detail"]).toContain("ADMIN_TOKEN");
  });

  it("accepts a JWT with routes:write (scope claim) and records its sub", async () => {
    const token = await signJwt({ sub: "operator@example.com", scope: "openid routes:write" });
    expect((await api("/routes/acme-saml", { ...write, token })).status).toBe(201);
    const audit = await json<{ entries: Array<{ actor: string }> }>(await api("/audit", { token }));
    expect(audit.entries[0]?.actor).toBe("jwt:operator@example.com");
  });

  it("accepts Auth0 RBAC permissions as scopes", async () => {
    const token = await signJwt({ sub: "m2m@clients", permissions: ["routes:read"] });
    expect((await api("/routes", { token })).status).toBe(200);
  });

  it("answers 403 to a valid JWT that lacks the scope, and changes nothing", async () => {
    const token = await signJwt({ sub: "reader", scope: "routes:read" });
    const res = await api("/routes/acme-saml", { ...write, token });
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    expect((await api("/routes/acme-saml")).status).toBe(404);
    const none = await signJwt({ sub: "nobody" });
    expect((await api("/routes", { token: none })).status).toBe(403);
  });

  it.each<[string, () => Promise<string>]>([
    ["expired", () => signJwt({ sub: "x", scope: "routes:read" }, { expiresIn: Math.floor(Date.now() / 1000) - 120 })],
    ["for another audience", () => signJwt({ sub: "x", scope: "routes:read" }, { audience: "someone-else" })],
    ["from another issuer", () => signJwt({ sub: "x", scope: "routes:read" }, { issuer: "https://evil.test/" })],
    [
      "with a forged signature",
      async () => {
        const [h, p] = (await signJwt({ sub: "x", scope: "routes:read" })).split(".");
        return `${h}.${p}.${"A".repeat(342)}`;
      },
    ],
  ])("answers 401 invalid_token to a JWT %s", async (_name, make) => {
    const res = await api("/routes", { token: await make() });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("serves the API only on ADMIN_HOSTNAME when set; elsewhere the path is a 404 and never reaches Auth0", async () => {
    const res = await api("/routes", { env: { ADMIN_HOSTNAME: "admin.example.com" } });
    expect(res.status).toBe(404);
    expect(res.headers.get("x-origin")).toBeNull();
  });

  it("publishes an OpenAPI 3.1 document generated from the schemas, behind the credential", async () => {
    expect((await api("/openapi.json", { token: null })).status).toBe(401);
    const doc = await json<{
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown[] }>>;
      components: { schemas: Record<string, unknown> };
    }>(await api("/openapi.json"));
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(
        [
          "/routes",
          "/routes/{connection}",
          "/import",
          "/export",
          "/settings",
          "/rollout",
          "/evaluate",
          "/audit",
          "/status",
          "/health",
        ].map((p) => `/__router/v1${p}`),
      ),
    );
    // /health is the one operation that needs no credential, and the document says so.
    expect(doc.paths["/__router/v1/health"]?.["get"]?.security).toEqual([]);
    expect(doc.paths["/__router/v1/status"]?.["get"]?.security).toBeUndefined();
    const health = await api("/health", { token: null });
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(["Route", "Settings", "Problem", "ImportDiff"]),
    );
  });
});
