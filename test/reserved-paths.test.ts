/**
 * /__ is the router's own namespace: what the API does not serve answers 404
 * from the Worker and is never forwarded, and an admin credential never reaches
 * Auth0 on an admin-looking path.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { isAdminLookingPath, isReservedPath } from "../src/request-path";
import { ADMIN_TOKEN, adminEnv, signJwt } from "./support/admin";
import { TEST_TABLE } from "./support/table";
import { call, received, seed } from "./support/worker";

beforeEach(() => seed(TEST_TABLE));
afterEach(() => vi.restoreAllMocks());

const NEAR_MISSES = [
  "/__ROUTER/v1/routes",
  "/__Router/V1/routes",
  "/__router/v1%2Froutes",
  "/__router/v1%2froutes",
  "/__router/v1/../routes",
  "/__router/v1/%2e%2e/routes",
  "//__router/v1/routes",
  "///__router/v1/routes",
  "/.//__router/v1/routes",
  "/\\__router/v1/routes",
  "/%5F%5Frouter/v1/routes",
  "/%255F%255Frouter/v1/routes",
  "/%2F__router/v1/routes",
  "/__router/v1;x/routes",
  "/__router/v2/routes",
  "/__router",
  "/__router/",
  "/__anything",
  "/__router%2F..%2Fuserinfo",
];

describe("paths under /__ the API does not serve", () => {
  it.each(NEAR_MISSES)("answers %s with a 404 from the Worker and forwards nothing", async (path) => {
    const fetched: string[] = [];
    const real = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
      fetched.push(String(input instanceof Request ? input.url : input));
      return real(input, init);
    });
    const res = await call(
      new Request(`https://auth.example.com${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
      adminEnv(),
    );
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("x-origin")).toBeNull();
    expect(fetched).toEqual([]);
  });

  it("answers the API's own path on another host than ADMIN_HOSTNAME with a 404, not Auth0", async () => {
    const res = await call(
      new Request("https://auth.example.com/__router/v1/routes", {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      }),
      adminEnv({ ADMIN_HOSTNAME: "admin.example.com" }),
    );
    expect(res.status).toBe(404);
    expect(res.headers.get("x-origin")).toBeNull();
  });

  it("answers 404 under /__ even when the router's configuration is wrong", async () => {
    const res = await call(new Request("https://auth.example.com/__ROUTER/v1/routes"), {
      ALLOWED_TARGET_HOSTS: "not a host!",
    });
    expect(res.status).toBe(404);
  });

  it.each(["/u/__router/v1/routes", "/x/%5F%5Frouter/v1", "/authorize/__x", "/a/__router%2F..%2F..%2Fuserinfo"])(
    "forwards the admin-looking %s to Auth0 without its Authorization header",
    async (path) => {
      const res = await call(
        new Request(`https://auth.example.com${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
        adminEnv(),
      );
      const got = await received(res);
      expect(got.headers["authorization"]).toBeUndefined();
    },
  );

  it.each(["/u%2F%5f_router;v=1%5Cv1/%2e%2e/routes", "/x/%2e%2e%5C%5f_router;v=1%5Cv1/../routes", "/userinfo"])(
    "never sends the admin token to Auth0, even where the path no longer looks admin (%s)",
    async (path) => {
      const got = await received(
        await call(
          new Request(`https://auth.example.com${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
          adminEnv(),
        ),
      );
      expect(got.headers["authorization"]).toBeUndefined();
    },
  );

  it("never sends a JWT meant for the management API (aud) to Auth0; other bearer tokens pass", async () => {
    const admin = await signJwt({ scope: "routes:read" });
    const other = await signJwt({ scope: "openid" }, { audience: "https://api.example.com" });
    const send = (token: string) =>
      call(
        new Request("https://auth.example.com/userinfo", { headers: { authorization: `Bearer ${token}` } }),
        adminEnv(),
      );
    expect((await received(await send(admin))).headers["authorization"]).toBeUndefined();
    expect((await received(await send(other))).headers["authorization"]).toBe(`Bearer ${other}`);
  });

  it("keeps Authorization on Auth0's own paths (userinfo, token endpoint)", async () => {
    for (const path of ["/userinfo", "/oauth/token", "/api/v2/users/auth0%7C__abc"]) {
      const got = await received(
        await call(new Request(`https://auth.example.com${path}`, { headers: { authorization: "Bearer at-123" } })),
      );
      expect(got.headers["authorization"]).toBe("Bearer at-123");
    }
  });

  it("classifies paths", () => {
    expect(isReservedPath("/__router/v1/routes")).toBe(true);
    expect(isReservedPath("/authorize")).toBe(false);
    expect(isReservedPath("/_x")).toBe(false);
    expect(isAdminLookingPath("/a/b/__c")).toBe(true);
    expect(isAdminLookingPath("/a/b_/c__")).toBe(false);
  });
});
