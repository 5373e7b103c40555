/**
 * The forward target is the Auth0 origin, always: whatever the path says, no
 * request the Worker sends towards Auth0 goes to another host.
 */
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { forwardToAuth0 } from "../src/auth0/forward";
import { TEST_TABLE } from "./support/table";
import { call, captureLogs, received, seed } from "./support/worker";

const AUTH0 = () => `http://127.0.0.1:${inject("originPort")}`;

/** Every URL the Worker fetched while `fn` ran (the real fetch still runs). */
async function fetchedUrls<T>(fn: () => Promise<T>): Promise<{ result: T; urls: string[] }> {
  const urls: string[] = [];
  const real = globalThis.fetch;
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
    urls.push(input instanceof Request ? input.url : String(input));
    return real(input, init);
  });
  try {
    return { result: await fn(), urls };
  } finally {
    spy.mockRestore();
  }
}

beforeEach(() => seed(TEST_TABLE));
afterEach(() => vi.restoreAllMocks());

const HOSTILE = [
  "//attacker.example/x",
  "/\\attacker.example/x",
  "/.//attacker.example/x",
  "/..//attacker.example/x",
  "/%2F%2Fattacker.example/x",
  "/%2f/attacker.example/x",
  "/%5Cattacker.example/x",
  "/%5C%5Cattacker.example/x",
  "/%2e%2e//attacker.example/x",
  "///attacker.example/x",
  "//attacker.example:443/x?y=1",
  "//user@attacker.example/x",
  "//attacker.example/login/callback?connection=globex-saml",
];

describe("the forward target", () => {
  it.each(HOSTILE)("sends %s to the Auth0 origin and nowhere else", async (path) => {
    const { result, urls } = await fetchedUrls(() =>
      call(new Request(`https://auth.example.com${path}`), { AUTH0_CNAME_API_KEY: "secret-key" }),
    );
    expect(urls.length).toBe(1);
    expect(new URL(urls[0] ?? "").origin).toBe(AUTH0());
    expect(result.status).toBe(200);
    const got = await received(result);
    // The path arrives as the Worker saw it, under the Auth0 origin.
    expect(got.url).toBe(
      new URL(`https://auth.example.com${path}`).pathname + new URL(`https://auth.example.com${path}`).search,
    );
    expect(got.headers["cname-api-key"]).toBe("secret-key");
  });

  it.each(HOSTILE)("sends %s to the Auth0 origin on the fail-safe path too (config partly wrong)", async (path) => {
    const { result, urls } = await fetchedUrls(() =>
      call(new Request(`https://auth.example.com${path}`), { ALLOWED_TARGET_HOSTS: "not a host!" }),
    );
    expect(urls.map((u) => new URL(u).origin)).toEqual([AUTH0()]);
    expect(result.status).toBe(200);
    await result.body?.cancel();
  });

  it.each(["@attacker.example/x", "attacker.example/x", "", "?x=1", "\\\\attacker.example/x"])(
    "refuses a path and query that does not start with / (%j) with a logged 400, fetching nothing",
    async (pathAndQuery) => {
      const request = new Request("https://auth.example.com/authorize");
      const { result, logs } = await captureLogs(() =>
        fetchedUrls(() =>
          forwardToAuth0(
            request,
            { auth0Origin: new URL(AUTH0()), cnameApiKey: undefined, auth0TimeoutMs: 5000 },
            { pathAndQuery, body: null },
          ),
        ),
      );
      expect(result.urls).toEqual([]);
      expect(result.result.status).toBe(400);
      expect(logs).toContainEqual(expect.objectContaining({ event: "forward-refused" }));
    },
  );
});
