/**
 * A callback whose settings and route are in the isolate cache is decided without a KV read
 * and, when it is a 307, answered without a promise (src/callback/route-callback.ts,
 * routeFromCache). It must get exactly the answer and the log line the same callback gets
 * when the table is read from KV.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { Env } from "../src/env";
import { routeKey, tableToKvEntries } from "../src/table/kv-layout";
import type { RouteTableFile } from "../src/table/schema";
import worker from "./support/in-process-worker";
import { TEST_TABLE } from "./support/table";
import type { Received } from "./support/origin-server";
import { captureLogs, form, HOST, postForm, received, seed, testEnv } from "./support/worker";

const SECRET = "a-test-affinity-secret-of-32-characters-or-more";

function withSettings(settings: Partial<RouteTableFile["settings"]>): RouteTableFile {
  return { ...TEST_TABLE, settings: { ...TEST_TABLE.settings, ...settings } };
}

interface Case {
  name: string;
  /** Answered from the cache without a promise. */
  sync?: boolean;
  table?: RouteTableFile;
  request: () => Request;
  env?: Partial<Env>;
}

/** Affinity-shaped names with values no router wrote: read as malformed, and the oldest beyond 32 expired. */
const MALFORMED_COOKIES = Array.from({ length: 40 }, (_, i) => `cra-AA${String(i).padStart(2, "0")}=x!`).join("; ");

const SAML_BODY = form({ SAMLResponse: "PHNhbWxwOlJlc3BvbnNlLz4=", RelayState: "opaque-relay" });
const get = (query: string, init?: RequestInit) => () => new Request(`${HOST}/login/callback?${query}`, init);

const CASES: Case[] = [
  { name: "a migrated connection's GET", sync: true, request: get("connection=acme-saml&code=c&state=s") },
  {
    name: "a migrated connection's POST",
    sync: true,
    request: () => postForm("/login/callback?connection=acme-saml", SAML_BODY),
  },
  {
    name: "a route without its own target (defaultTarget)",
    sync: true,
    request: get("connection=initech-saml&code=c"),
  },
  { name: "a legacy connection's GET", request: get("connection=globex-saml&code=c") },
  {
    name: "a legacy connection's POST",
    request: () => postForm("/login/callback?connection=globex-saml", SAML_BODY),
  },
  { name: "a rollout route", request: get("connection=stark-saml&code=c") },
  { name: "a route whose target is refused", request: get("connection=evil-target&code=c") },
  { name: "an unknown connection", request: get("connection=nobody-here&code=c") },
  {
    name: "an unknown connection under unknown: probe",
    sync: true,
    table: withSettings({ unknown: "probe" }),
    request: get("connection=nobody-here&code=c"),
  },
  { name: "the kill switch", table: withSettings({ mode: "passthrough" }), request: get("connection=acme-saml") },
  { name: "shadow mode", table: withSettings({ mode: "shadow" }), request: get("connection=acme-saml&code=c") },
  { name: "a fallback=auth0 bounce", request: get("connection=acme-saml&code=c&fallback=auth0") },
  {
    name: "a fallback=auth0 POST bounce",
    request: () => postForm("/login/callback?fallback=auth0&connection=acme-saml&x=1", SAML_BODY),
  },
  { name: "a bounce without connection=", request: get("code=c&fallback=auth0&iss=https%3A%2F%2Fhooli.okta.test") },
  { name: "a HEAD", request: get("connection=acme-saml", { method: "HEAD" }) },
  { name: "two connection parameters", request: get("connection=acme-saml&connection=globex-saml") },
  { name: "an invalid connection name", request: get("connection=%3Cscript%3E") },
  { name: "an OIDC callback identified by iss", request: get("code=c&state=s&iss=https%3A%2F%2Fhooli.okta.test") },
  { name: "a GET with nothing to identify it", request: get("code=c&state=s") },
  {
    name: "a POST under redirect: form",
    table: withSettings({ redirect: "form" }),
    request: () => postForm("/login/callback?connection=acme-saml", SAML_BODY),
  },
  {
    name: "a GET under redirect: form",
    sync: true,
    table: withSettings({ redirect: "form" }),
    request: get("connection=acme-saml"),
  },
  {
    name: "affinity on, no cookie",
    sync: true,
    env: { AFFINITY_SECRET: SECRET },
    request: get("connection=acme-saml&state=s"),
  },
  {
    name: "affinity on, only other cookies",
    sync: true,
    env: { AFFINITY_SECRET: SECRET },
    request: get("connection=acme-saml&state=s", { headers: { cookie: "session=1; cra-=x; other=2" } }),
  },
  {
    name: "affinity on, 40 malformed affinity cookies (the oldest expired)",
    sync: true,
    env: { AFFINITY_SECRET: SECRET },
    request: get("connection=acme-saml&state=s", { headers: { cookie: MALFORMED_COOKIES } }),
  },
  {
    name: "affinity on, an affinity cookie that matches nothing",
    env: { AFFINITY_SECRET: SECRET },
    request: get("connection=acme-saml&state=s", { headers: { cookie: "cra-AAAA=AAAAAAAA" } }),
  },
  {
    name: "affinity off at run time",
    sync: true,
    table: withSettings({ affinity: "off" }),
    env: { AFFINITY_SECRET: SECRET },
    request: get("connection=acme-saml&state=s"),
  },
];

interface Seen {
  status: number;
  location: string | null;
  cacheControl: string | null;
  referrerPolicy: string | null;
  contentType: string | null;
  setCookie: string[];
  log: Record<string, unknown> | undefined;
  /** What the Auth0 stand-in received, for a forwarded callback. */
  forwarded: Pick<Received, "method" | "url" | "bodyLength" | "bodySha256"> | undefined;
}

async function seen(request: Request, env: Partial<Env>): Promise<{ seen: Seen; sync: boolean }> {
  const ctx = createExecutionContext();
  let sync = false;
  const { result: response, logs } = await captureLogs(async () => {
    const answer = worker.fetch(request, testEnv(env), ctx);
    sync = answer instanceof Response;
    return await answer;
  });
  await waitOnExecutionContext(ctx);
  let forwarded: Seen["forwarded"];
  // A HEAD's answer has no body to echo what the stand-in received.
  if (response.headers.get("x-origin") !== null && request.method !== "HEAD") {
    const { method, url, bodyLength, bodySha256 } = await received(response);
    forwarded = { method, url, bodyLength, bodySha256 };
  } else {
    await response.body?.cancel();
  }
  const log = logs.find((l) => l.event === "callback");
  if (log !== undefined) {
    delete log.ts;
    delete log.durationMs;
  }
  return {
    sync,
    seen: {
      status: response.status,
      location: response.headers.get("location"),
      cacheControl: response.headers.get("cache-control"),
      referrerPolicy: response.headers.get("referrer-policy"),
      contentType: response.headers.get("content-type"),
      // Each hand-off's bounce mark has a nonce (and so a tag) of its own: compared by its shape.
      setCookie: response.headers
        .getSetCookie()
        .map((c) => c.replace(/^(crb[^=]*=[0-9a-z]+)\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{16};/, "$1.{nonce}.{tag};")),
      log,
      forwarded,
    },
  };
}

describe("callbacks decided from the isolate cache", () => {
  for (const c of CASES) {
    it(`answers ${c.name} from the cache as it does from KV`, async () => {
      await seed(c.table ?? TEST_TABLE);
      const fromKv = await seen(c.request(), { ...c.env, ROUTE_CACHE_SECONDS: "0" });
      const cachedEnv = { ...c.env, ROUTE_CACHE_SECONDS: "60" };
      await seen(c.request(), cachedEnv); // fills the isolate cache
      const fromCache = await seen(c.request(), cachedEnv);
      expect(fromKv.seen.log).toBeDefined();
      expect(fromCache.seen).toEqual(fromKv.seen);
      // The shapes the cache answers without a promise: a 307 needing no body and no HMAC.
      expect(fromCache.sync).toBe(c.sync === true);
    });
  }

  it("answers a cached migrated connection's 307 without a promise, and a first one with one", async () => {
    await seed(TEST_TABLE);
    const env = { ROUTE_CACHE_SECONDS: "60" };
    const first = await seen(get("connection=acme-saml&code=c")(), env);
    expect(first.sync).toBe(false);
    const cached = await seen(get("connection=acme-saml&code=c")(), env);
    expect(cached.sync).toBe(true);
    expect(cached.seen.status).toBe(307);
    expect(cached.seen.log).toMatchObject({ decision: "new", reason: "migrated", connection: "acme-saml" });
  });

  it("answers from the cached copy until it is ROUTE_CACHE_SECONDS old, then reads KV again", async () => {
    await seed(TEST_TABLE);
    const cacheOn = { ROUTE_CACHE_SECONDS: "60" };
    const start = Date.now();
    vi.useFakeTimers({ toFake: ["Date"], now: start });
    try {
      const first = await seen(get("connection=acme-saml")(), cacheOn);
      expect(first.seen.status).toBe(307);
      // acme-saml goes back to legacy in KV; the isolate's copy is kept (seed() would drop it).
      const legacy = tableToKvEntries(
        {
          ...TEST_TABLE,
          routes: TEST_TABLE.routes.map((r) => (r.connection === "acme-saml" ? { ...r, state: "legacy" as const } : r)),
        },
        "2026-11-23T00:00:00.000Z",
      ).find((e) => e.key === routeKey("acme-saml"));
      await env.ROUTES.put(routeKey("acme-saml"), legacy?.value ?? "");
      vi.setSystemTime(start + 59_000);
      const cached = await seen(get("connection=acme-saml")(), cacheOn);
      expect(cached).toMatchObject({ sync: true, seen: { status: 307 } });
      vi.setSystemTime(start + 60_000);
      const reread = await seen(get("connection=acme-saml")(), cacheOn);
      expect(reread).toMatchObject({ sync: false, seen: { status: 200, log: { reason: "legacy" } } });
    } finally {
      vi.useRealTimers();
    }
  });
});
