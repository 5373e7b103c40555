/**
 * Headers a client must not choose never reach Auth0, in either origin mode;
 * and Auth0's slowness is answered once, late enough, and never retried.
 */
import { beforeEach, describe, expect, inject, it } from "vitest";
import wranglerToml from "../wrangler.toml?raw";
import { parseConfig } from "../src/config";
import { TEST_TABLE } from "./support/table";
import { call, HOST, received, seed, testEnv } from "./support/worker";

beforeEach(() => seed(TEST_TABLE));

const SPOOFED = {
  forwarded: "for=198.51.100.1;host=evil.example;proto=http",
  "x-forwarded-host": "evil.example",
  "x-forwarded-proto": "http",
  "x-forwarded-port": "8443",
  "cname-api-key": "attacker",
};

describe("headers a client must not choose", () => {
  it.each([
    ["tenant-domain mode", {}],
    ["custom-domain mode", { AUTH0_CNAME_API_KEY: "the-real-key" }],
  ])("drops Forwarded and X-Forwarded-Host/Proto/Port in %s (pass-through and callback)", async (_mode, env) => {
    for (const path of ["/authorize?client_id=abc", "/login/callback?connection=globex-saml"]) {
      const got = await received(await call(new Request(`${HOST}${path}`, { headers: SPOOFED }), env));
      expect(got.headers["forwarded"]).toBeUndefined();
      expect(got.headers["x-forwarded-host"]).toBeUndefined();
      expect(got.headers["x-forwarded-proto"]).toBeUndefined();
      expect(got.headers["x-forwarded-port"]).toBeUndefined();
      expect(got.headers["cname-api-key"]).toBe("AUTH0_CNAME_API_KEY" in env ? "the-real-key" : undefined);
      // Host is the Auth0 origin's own, never the client's.
      expect(got.headers["host"]).toBe(`127.0.0.1:${inject("originPort")}`);
    }
  });
});

const originCount = async (id: string): Promise<number> => {
  const res = await fetch(`http://127.0.0.1:${inject("originPort")}/__stand-in/count?id=${id}`);
  return ((await res.json()) as { requests: number }).requests;
};

describe("waiting for Auth0", () => {
  it("waits at least 30 s by default, longer than an Auth0 Action may run (20 s)", () => {
    const env = testEnv({ AUTH0_TIMEOUT_MS: undefined });
    const result = parseConfig(env);
    expect(result.ok && result.config.auth0TimeoutMs).toBeGreaterThanOrEqual(30_000);
  });

  it("sets AUTH0_TIMEOUT_MS to at least 30 s in every wrangler.toml environment", () => {
    const values = [...wranglerToml.matchAll(/^AUTH0_TIMEOUT_MS\s*=\s*"(\d+)"/gm)].map((m) => Number(m[1]));
    expect(values.length).toBeGreaterThanOrEqual(3);
    for (const v of values) expect(v).toBeGreaterThanOrEqual(30_000);
  });

  it.each([
    ["the callback", "/login/callback?connection=globex-saml", {}],
    ["a pass-through path", "/u/login", {}],
    [
      "the fail-safe path (config partly wrong)",
      "/login/callback?connection=globex-saml",
      { ALLOWED_TARGET_HOSTS: "?" },
    ],
  ])("answers 504 on %s with a page saying to start again, after exactly one request", async (_name, path, env) => {
    const id = `timeout-${Math.random().toString(36).slice(2)}`;
    const res = await call(
      new Request(`${HOST}${path}`, {
        method: "POST",
        headers: { "x-test-origin": "hang", "x-test-id": id, "content-type": "application/x-www-form-urlencoded" },
        body: "SAMLResponse=abc",
      }),
      { AUTH0_TIMEOUT_MS: "300", ...env },
    );
    expect(res.status).toBe(504);
    expect(await res.text()).toMatch(/start signing in again/i);
    expect(await originCount(id)).toBe(1);
  });

  it.each([
    ["the callback", "/login/callback?connection=globex-saml"],
    ["a pass-through path", "/u/login"],
  ])("streams on %s an answer Auth0 began within the timeout, however long its body takes", async (_name, path) => {
    const res = await call(new Request(`${HOST}${path}`, { headers: { "x-test-origin": "slow-body" } }), {
      AUTH0_TIMEOUT_MS: "300",
    });
    expect(res.status).toBe(200);
    // The rest of the body comes 700 ms after the answer began: the timeout covers only its start.
    expect(await res.text()).toBe("started-and-finished");
  });
});
