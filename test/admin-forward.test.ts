/**
 * The router's side of the split (src/admin-forward.ts): requests under ADMIN_PREFIX go to
 * the admin Worker through the ADMIN service binding when the router has one (local
 * development), and are otherwise answered by the router itself with a problem naming what
 * to deploy, never forwarded to Auth0. The real binding, the real route and the two built
 * Workers are started in e2e/topology.e2e.ts; here the router is src/index.ts itself.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import router from "../src/index";
import type { Env } from "../src/env";
import { ADMIN_TOKEN, adminEnv } from "./support/admin";
import { TEST_TABLE } from "./support/table";
import { captureLogs, seed, testEnv } from "./support/worker";

beforeEach(() => seed(TEST_TABLE));
afterEach(() => vi.restoreAllMocks());

async function callRouter(request: Request, overrides: Partial<Env>): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await router.fetch(request, testEnv(overrides), ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** Every URL the Worker fetch()ed while `fn` ran (Auth0's stand-in or anything else). */
async function fetchedDuring<T>(fn: () => Promise<T>): Promise<{ result: T; fetched: string[] }> {
  const fetched: string[] = [];
  const real = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
    fetched.push(String(input instanceof Request ? input.url : input));
    return real(input, init);
  });
  const result = await fn();
  return { result, fetched };
}

const API_REQUEST = () =>
  new Request("https://auth.example.com/__router/v1/routes", {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });

describe("a deployed router (no ADMIN binding) given a request under the admin prefix", () => {
  it("answers 503 problem+json naming the admin Worker to deploy, and forwards nothing", async () => {
    const { result: res, fetched } = await fetchedDuring(() => callRouter(API_REQUEST(), adminEnv()));
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("x-origin")).toBeNull();
    const problem = (await res.json()) as { title: string; detail: string };
    expect(problem.title).toBe("Management API not deployed");
    expect(problem.detail).toContain("callback-router-admin");
    expect(problem.detail).toContain("/__router/*");
    expect(fetched).toEqual([]);
  });

  it("logs one config-error line saying what to deploy, without the credential", async () => {
    const { logs } = await captureLogs(() => callRouter(API_REQUEST(), adminEnv()));
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ event: "config-error" });
    expect(String(logs[0]?.["message"])).toContain("callback-router-admin");
    expect(JSON.stringify(logs)).not.toContain(ADMIN_TOKEN);
  });

  it("answers 503 too when the ADMIN binding cannot reach the admin Worker", async () => {
    const unreachable = {
      fetch: () => Promise.reject(new Error("Could not resolve service binding")),
      connect: () => {
        throw new Error("not used");
      },
    } as unknown as Fetcher;
    const { result: res, fetched } = await fetchedDuring(() =>
      callRouter(API_REQUEST(), adminEnv({ ADMIN: unreachable })),
    );
    expect(res.status).toBe(503);
    expect(((await res.json()) as { detail: string }).detail).toContain("ADMIN binding");
    expect(fetched).toEqual([]);
  });
});

describe("a router with the ADMIN binding (local development)", () => {
  it("hands the request to the admin Worker unchanged: method, URL, credential and body", async () => {
    const seen: Array<{ method: string; url: string; authorization: string | null; body: string }> = [];
    const admin = {
      fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
        const request = new Request(input, init);
        seen.push({
          method: request.method,
          url: request.url,
          authorization: request.headers.get("authorization"),
          body: await request.text(),
        });
        return new Response("from admin", { status: 201 });
      },
    } as unknown as Fetcher;
    const res = await callRouter(
      new Request("https://auth.example.com/__router/v1/import?mode=merge", {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: '{"routes":[]}',
      }),
      adminEnv({ ADMIN: admin }),
    );
    expect(res.status).toBe(201);
    expect(await res.text()).toBe("from admin");
    expect(seen).toEqual([
      {
        method: "POST",
        url: "https://auth.example.com/__router/v1/import?mode=merge",
        authorization: `Bearer ${ADMIN_TOKEN}`,
        body: '{"routes":[]}',
      },
    ]);
  });

  it("keeps other /__ paths and other hosts than ADMIN_HOSTNAME to itself (404, nothing handed on)", async () => {
    let handed = 0;
    const admin = {
      fetch: () => {
        handed++;
        return Promise.resolve(new Response("from admin"));
      },
    } as unknown as Fetcher;
    const other = await callRouter(
      new Request("https://auth.example.com/__router/v2/routes"),
      adminEnv({ ADMIN: admin }),
    );
    const wrongHost = await callRouter(API_REQUEST(), adminEnv({ ADMIN: admin, ADMIN_HOSTNAME: "admin.example.com" }));
    expect([other.status, wrongHost.status]).toEqual([404, 404]);
    expect(handed).toBe(0);
  });
});
