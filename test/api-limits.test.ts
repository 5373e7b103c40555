/**
 * Management API limits an attacker (or a mistaken script) would probe: body
 * limits by route, JSON depth, token lifetime, and If-Match: * (RFC 9110 §13.1.1).
 */
import { importJWK, SignJWT } from "jose";
import { beforeEach, describe, expect, inject, it } from "vitest";
import { jsonLimitProblem } from "../src/admin/json-limits";
import { api, AUDIENCE, ISSUER, json, resetTable } from "./support/admin";

beforeEach(() => resetTable());

const nested = (depth: number): string => `${"[".repeat(depth)}${"]".repeat(depth)}`;

describe("body limits by route", () => {
  it.each(["PUT", "PATCH"])("refuses a %s /routes/import body over 64 KiB with 413", async (method) => {
    const res = await api("/routes/import", {
      method,
      text: JSON.stringify({ state: "legacy", note: "x".repeat(70 * 1024) }),
      contentType: "application/json",
    });
    expect(res.status).toBe(413);
    expect((await json(res))["detail"]).toContain("65536 bytes");
  });

  it("still takes a POST /import body larger than 64 KiB", async () => {
    const file = JSON.stringify({ routes: [{ connection: "big-one", state: "legacy" }] }) + " ".repeat(200 * 1024);
    const res = await api("/import?dryRun=true", { text: file, contentType: "application/json" });
    expect(res.status).toBe(200);
  });
});

describe("JSON depth", () => {
  it("refuses a deeply nested import with a 400 naming the depth, before the writer sees it", async () => {
    const file = `{"routes":[{"connection":"deep","state":"legacy","note":${nested(50_000)}}]}`;
    const res = await api("/import", { text: file, contentType: "application/json" });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect((await json(res))["detail"]).toMatch(/nested deeper than 16/);
    expect((await json(await api("/audit")))["entries"]).toEqual([]);
  });

  it("refuses a deeply nested route body with a 400 naming the depth", async () => {
    const res = await api("/routes/deep", {
      method: "PUT",
      text: `{"state":"legacy","match":${nested(1000)}}`,
      contentType: "application/json",
    });
    expect(res.status).toBe(400);
    expect((await json(res))["detail"]).toMatch(/nested deeper than 16/);
  });

  it("counts only brackets outside strings", () => {
    expect(jsonLimitProblem(`{"a":"${"[".repeat(100)}"}`, 16)).toBeUndefined();
    expect(jsonLimitProblem(`{"a":"\\"${"{".repeat(100)}"}`, 16)).toBeUndefined();
    expect(jsonLimitProblem(nested(16), 16)).toBeUndefined();
    expect(jsonLimitProblem(nested(17), 16)).toMatch(/nested deeper than 16/);
  });
});

async function jwt(claims: Record<string, unknown>): Promise<string> {
  const key = await importJWK(inject("jwtPrivateKey"), "RS256");
  return new SignJWT({ scope: "routes:read", ...claims })
    .setProtectedHeader({ alg: "RS256", kid: "test-key-1" })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .sign(key);
}

describe("token lifetime", () => {
  const now = () => Math.floor(Date.now() / 1000);

  it("refuses a JWT without exp", async () => {
    const res = await api("/routes", { token: await jwt({ iat: now() }) });
    expect(res.status).toBe(401);
    expect((await json(res))["detail"]).toContain('"exp"');
  });

  it("refuses a JWT issued longer ago than ADMIN_JWT_MAX_AGE_SECONDS, even when exp is far ahead", async () => {
    const token = await jwt({ iat: now() - 600, exp: now() + 10 * 365 * 86400 });
    const res = await api("/routes", { token, env: { ADMIN_JWT_MAX_AGE_SECONDS: "300" } });
    expect(res.status).toBe(401);
    expect((await json(res))["detail"]).toContain('"iat"');
  });

  it("refuses a JWT without iat (its age cannot be told)", async () => {
    const res = await api("/routes", { token: await jwt({ exp: now() + 60 }) });
    expect(res.status).toBe(401);
  });

  it("accepts a JWT within both limits", async () => {
    const res = await api("/routes", { token: await jwt({ iat: now(), exp: now() + 300 }) });
    expect(res.status).toBe(200);
  });

  it("names ADMIN_JWT_MAX_AGE_SECONDS when it is not a number of seconds", async () => {
    const res = await api("/routes", { env: { ADMIN_JWT_MAX_AGE_SECONDS: "a day" } });
    expect(res.status).toBe(503);
    expect((await json(res))["detail"]).toContain("ADMIN_JWT_MAX_AGE_SECONDS");
  });
});

describe("If-Match: * (RFC 9110 §13.1.1)", () => {
  it("refuses to create a route that does not exist with 412", async () => {
    const res = await api("/routes/absent", { method: "PUT", body: { state: "legacy" }, headers: { "if-match": "*" } });
    expect(res.status).toBe(412);
    expect((await api("/routes/absent")).status).toBe(404);
  });

  it.each(["PATCH", "DELETE"])("answers %s of a missing route with If-Match: * by 412", async (method) => {
    const init = method === "PATCH" ? { body: { state: "migrated" } } : {};
    const res = await api("/routes/absent", { method, ...init, headers: { "if-match": "*" } });
    expect(res.status).toBe(412);
  });

  it("replaces an existing route under If-Match: *", async () => {
    expect((await api("/routes/present", { method: "PUT", body: { state: "legacy" } })).status).toBe(201);
    const res = await api("/routes/present", {
      method: "PUT",
      body: { state: "legacy", note: "again" },
      headers: { "if-match": "*" },
    });
    expect(res.status).toBe(200);
  });

  it("changes settings under If-Match: * (they always exist)", async () => {
    const res = await api("/settings", { method: "PUT", body: { mode: "shadow" }, headers: { "if-match": "*" } });
    expect(res.status).toBe(200);
  });
});

describe("If-Match uses the strong comparison (RFC 9110 §13.1.1)", () => {
  it.each<[string, unknown]>([
    ["PUT", { state: "migrated" }],
    ["PATCH", { state: "migrated" }],
    ["DELETE", undefined],
  ])("answers %s with a weak ETag of the current version by 412 and changes nothing", async (method, body) => {
    const created = await api("/routes/present", { method: "PUT", body: { state: "legacy" } });
    expect(created.headers.get("etag")).toBe('"1"');
    const res = await api("/routes/present", {
      method,
      ...(body === undefined ? {} : { body }),
      headers: { "if-match": 'W/"1"' },
    });
    expect(res.status).toBe(412);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect((await json(res))["detail"]).toContain("weak");
    const after = await api("/routes/present");
    expect(after.status).toBe(200);
    expect(await json(after)).toMatchObject({ state: "legacy", version: 1 });
  });

  it.each(["/settings", "/rollout"])("answers PUT %s with a weak ETag by 412", async (path) => {
    const current = await api(path);
    const tag = current.headers.get("etag") ?? "";
    const body = path === "/settings" ? { mode: "shadow" } : { percentage: 20 };
    const weak = await api(path, { method: "PUT", body, headers: { "if-match": `W/${tag}` } });
    expect(weak.status).toBe(412);
    // The ETag exactly as given still matches.
    const strong = await api(path, { method: "PUT", body, headers: { "if-match": tag } });
    expect(strong.status).toBe(200);
  });

  it("sends every ETag with no-transform, so no proxy compresses the answer and weakens its ETag", async () => {
    const put = await api("/routes/present", { method: "PUT", body: { state: "legacy" } });
    for (const res of [put, await api("/routes/present"), await api("/settings"), await api("/rollout")]) {
      expect(res.headers.get("etag")).toMatch(/^"\d+"$/);
      expect(res.headers.get("cache-control")).toBe("no-store, no-transform");
    }
    expect((await api("/routes")).headers.get("cache-control")).toBe("no-store");
  });
});
