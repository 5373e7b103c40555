/**
 * Faults around the router: each must leave callbacks going to the safest
 * correct place, with a clear page, nothing retried, and a log that says why.
 */
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, inject, it } from "vitest";
import { api, json, resetTable } from "./support/admin";
import { failingKv, passThrough, slowKv } from "./support/kv";
import { TEST_TABLE } from "./support/table";
import { call, captureLogs, HOST, postForm, seed } from "./support/worker";

const originCount = async (id: string): Promise<number> => {
  const res = await fetch(`http://127.0.0.1:${inject("originPort")}/__stand-in/count?id=${id}`);
  return ((await res.json()) as { requests: number }).requests;
};
let n = 0;
const testId = (): string => `fault-${Date.now()}-${n++}`;

describe("Auth0 origin faults", () => {
  beforeEach(() => seed(TEST_TABLE));

  it.each<[string, Record<string, string>, Record<string, string>, number]>([
    ["hangs past the timeout", { "x-test-origin": "hang" }, { AUTH0_TIMEOUT_MS: "300" }, 504],
    ["answers 503", { "x-test-origin": "status-503" }, {}, 503],
  ])("sends a legacy SAML POST exactly once when Auth0 %s", async (_name, headers, overrides, status) => {
    const id = testId();
    const res = await call(
      postForm("/login/callback?connection=globex-saml", "SAMLResponse=abc&RelayState=r", {
        ...headers,
        "x-test-id": id,
      }),
      overrides,
    );
    expect(res.status).toBe(status);
    await res.body?.cancel();
    expect(await originCount(id)).toBe(1);
  });

  it("passes on Auth0's answer when it closes mid-body, without retrying, and logs the decision", async () => {
    const id = testId();
    const { result, logs } = await captureLogs(() =>
      call(
        postForm("/login/callback?connection=globex-saml", "SAMLResponse=abc", {
          "x-test-origin": "close-mid-body",
          "x-test-id": id,
        }),
      ),
    );
    expect(result.status).toBe(200);
    await expect(result.text()).rejects.toThrow();
    expect(await originCount(id)).toBe(1);
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({
      connection: "globex-saml",
      decision: "auth0",
      status: 200,
    });
  });
});

describe("route table faults", () => {
  beforeEach(() => seed(TEST_TABLE));

  it("treats a KV read slower than KV_READ_TIMEOUT_MS as failed: Auth0 when nothing was seen", async () => {
    const { result, logs } = await captureLogs(() =>
      call(new Request(`${HOST}/login/callback?connection=acme-saml`), {
        ROUTES: slowKv(400),
        KV_READ_TIMEOUT_MS: "100",
      }),
    );
    expect(result.status).toBe(200);
    await result.body?.cancel();
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({
      reason: "settings-unavailable",
      problem: expect.stringContaining("longer than 100 ms") as unknown,
    });
  });

  it("keeps routing from the last table seen while KV is slow", async () => {
    expect((await call(new Request(`${HOST}/login/callback?connection=acme-saml`))).status).toBe(307);
    const res = await call(new Request(`${HOST}/login/callback?connection=acme-saml`), {
      ROUTES: slowKv(400),
      KV_READ_TIMEOUT_MS: "100",
    });
    expect(res.status).toBe(307);
  });

  it("waits for a slow KV read within the timeout and routes normally", async () => {
    const res = await call(new Request(`${HOST}/login/callback?connection=acme-saml`), {
      ROUTES: slowKv(50),
      KV_READ_TIMEOUT_MS: "2000",
    });
    expect(res.status).toBe(307);
  });

  it("sends the callbacks of a KV that throws on every read to Auth0 with the body intact", async () => {
    const { isolateCache } = await import("../src/table/store");
    isolateCache.clear();
    const res = await call(postForm("/login/callback?connection=acme-saml", "SAMLResponse=kept"), {
      ROUTES: failingKv(),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { bodyText: string }).bodyText).toBe("SAMLResponse=kept");
  });
});

describe("writer Durable Object unavailable", () => {
  beforeEach(() => resetTable());

  const brokenWriter = new Proxy(env.ROUTE_WRITER, {
    get(target, prop) {
      if (prop === "get") {
        return () =>
          new Proxy(
            {},
            {
              get: () => () => Promise.reject(new Error("Durable Object reset because its code was updated.")),
            },
          );
      }
      return passThrough(target, prop);
    },
  });

  it("answers writes with a 503 problem while callbacks keep routing from KV", async () => {
    await api("/settings", { method: "PUT", body: { defaultTarget: "https://sso.example.com/cb" } });
    await api("/routes/acme-saml", { method: "PUT", body: { state: "migrated" } });
    const { result, logs } = await captureLogs(() =>
      api("/routes/acme-saml", { method: "PATCH", body: { state: "legacy" }, env: { ROUTE_WRITER: brokenWriter } }),
    );
    expect(result.status).toBe(503);
    expect(result.headers.get("content-type")).toBe("application/problem+json");
    expect((await json<{ detail: string }>(result)).detail).toContain("nothing was changed");
    expect(logs).toContainEqual(
      expect.objectContaining({
        event: "unexpected",
        message: expect.stringContaining("Durable Object reset") as unknown,
      }),
    );
    const callback = await call(new Request(`${HOST}/login/callback?connection=acme-saml`), {
      ROUTE_WRITER: brokenWriter,
    });
    expect(callback.status).toBe(307);
    // The writer, once back, still holds the route as it was.
    expect((await json<{ state: string }>(await api("/routes/acme-saml"))).state).toBe("migrated");
  });

  it("answers reads with a 503 problem too, and /health still answers", async () => {
    expect((await api("/routes", { env: { ROUTE_WRITER: brokenWriter } })).status).toBe(503);
    expect((await api("/health", { token: null, env: { ROUTE_WRITER: brokenWriter } })).status).toBe(200);
  });
});
