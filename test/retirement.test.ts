/**
 * Auth0 retired (issue 21, docs/retirement.md): every callback goes to the new provider, a
 * bounce gets the contact page, other paths get the path table, SAML SP metadata is served
 * from its snapshot, the kill switch is refused, and not one request reaches the Auth0
 * stand-in (its own count of every request it received proves it). Before that: the
 * snapshot through the router, and the checked retirement.
 */
import { env } from "cloudflare:test";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { isolateCache } from "../src/table/store";
import { api, json, resetTable } from "./support/admin";
import { failingKv } from "./support/kv";
import { DEFAULT_TARGET } from "./support/table";
import { call, captureLogs, form, HOST, postForm } from "./support/worker";
import { resetCounters } from "./support/counters";

const ORIGIN = () => `http://127.0.0.1:${inject("retiredOriginPort")}`;
/** Every request of this file goes to the counting stand-in; AFFINITY_SECRET keys the bounce marks. */
const E = (more: Record<string, string | undefined> = {}) => ({
  AUTH0_ORIGIN: ORIGIN(),
  AFFINITY_SECRET: "retirement-test-secret-0123456789abcdef",
  ...more,
});
const docs = () => inject("spMetadata");

async function auth0Requests(): Promise<number> {
  const res = await fetch(`${ORIGIN()}/__stand-in/total`);
  return ((await res.json()) as { requests: number }).requests;
}

const ACME_TARGET = "https://sso.example.com/auth0/acme/callback";
const STARK_TARGET = "https://sso.example.com/auth0/stark/callback";
const BOUNCE_MESSAGE = 'Contact <it@example.com> & say "SSO-42"';

const TABLE = {
  settings: { mode: "route", unknown: "auth0", redirect: "307", defaultTarget: DEFAULT_TARGET },
  routes: [
    {
      connection: "acme-saml",
      state: "migrated",
      protocol: "samlp",
      target: ACME_TARGET,
      match: { idpEntityId: "https://idp.acme.test/metadata" },
    },
    {
      connection: "globex-saml",
      state: "legacy",
      protocol: "samlp",
      match: { idpEntityId: "https://idp.globex.test/entity" },
    },
    {
      connection: "hooli-adfs",
      state: "migrated",
      protocol: "adfs",
      match: { idpEntityId: "http://adfs.hooli.test/adfs/services/trust" },
    },
    { connection: "pied-oidc", state: "legacy", protocol: "oidc", match: { oidcIssuer: "https://login.pied.test/" } },
    { connection: "stark-saml", state: "rollout", organization: "org_stark", protocol: "samlp", target: STARK_TARGET },
  ],
};

async function importTable(): Promise<void> {
  const res = await api("/import?mode=replace", { method: "POST", body: TABLE, env: E() });
  expect(res.status).toBe(200);
}

const get = (path: string, more = {}) => call(new Request(`${HOST}${path}`), E(more));
const metadataUrl = (connection: string) => `/samlp/metadata?connection=${connection}`;

/** What `npm run routes -- metadata snapshot` does for one connection: fetch through the router, PUT to the API. */
async function snapshot(connection: string): Promise<Response> {
  const fetched = await get(metadataUrl(connection));
  expect(fetched.status).toBe(200);
  return api(`/metadata/${connection}`, {
    method: "PUT",
    text: await fetched.text(),
    contentType: "application/samlmetadata+xml",
    env: E(),
  });
}

type Problem = { status: number; title: string; detail: string; errors: Array<{ field: string; reason: string }> };

describe("before retirement: snapshot and the checked change", () => {
  beforeEach(async () => {
    await resetTable();
    await resetCounters();
    await importTable();
  });

  it("snapshots SAML SP metadata through the router's own forward, and still passes the URL through", async () => {
    const res = await snapshot("acme-saml");
    expect(res.status).toBe(200);
    const bytes = new TextEncoder().encode(docs()["acme-saml"]);
    const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("");
    expect(await json(res)).toMatchObject({
      connection: "acme-saml",
      bytes: bytes.byteLength,
      sha256: digest,
      entityId: "urn:auth0:example-tenant:acme-saml",
    });
    const listed = await json<{ snapshots: Array<{ connection: string }> }>(await api("/metadata", { env: E() }));
    expect(listed.snapshots.map((s) => s.connection)).toEqual(["acme-saml"]);
    // Auth0 is still up: the URL is Auth0's, as today.
    const passed = await get(metadataUrl("acme-saml"));
    expect(passed.headers.get("content-type")).toBe("text/xml; charset=utf-8");
    expect(await passed.text()).toBe(docs()["acme-saml"]);
    const audit = await json<{ entries: Array<{ action: string; subject: string | null }> }>(
      await api("/audit?connection=acme-saml", { env: E() }),
    );
    expect(audit.entries[0]).toMatchObject({ action: "metadata.snapshot", subject: "acme-saml" });
  });

  it.each([
    ["a DTD declaring an external entity", "xxe-saml", 422, "DOCTYPE"],
    ["an entity-expansion bomb", "bomb-saml", 422, "DOCTYPE"],
    ["a root other than md:EntityDescriptor", "other-root", 422, "EntitiesDescriptor"],
    ["a document over the size limit", "huge-saml", 413, "at most"],
  ])("refuses %s at snapshot time, storing nothing", async (_name, connection, status, words) => {
    const fetched = await get(metadataUrl(connection));
    const res = await api(`/metadata/globex-saml`, {
      method: "PUT",
      text: await fetched.text(),
      contentType: "application/samlmetadata+xml",
      env: E(),
    });
    expect(res.status).toBe(status);
    expect(JSON.stringify(await json(res))).toContain(words);
    expect(await env.ROUTES.get("metadata:globex-saml")).toBeNull();
  });

  it("refuses to retire while anything needs Auth0, listing every blocker, and writes nothing", async () => {
    // A legacy login reaches Auth0 (the counters see it).
    expect((await get("/login/callback?connection=globex-saml")).status).toBe(200);
    // The kill switch is on too.
    expect((await api("/settings", { method: "PUT", body: { killSwitch: { on: true } }, env: E() })).status).toBe(200);
    const check = await json<{ ready: boolean; blockers: Problem["errors"] }>(await api("/retirement", { env: E() }));
    const expected = [
      "routes.globex-saml.state",
      "routes.pied-oidc.state",
      "routes.stark-saml.state",
      "killSwitch",
      "traffic.globex-saml",
    ];
    expect(check.ready).toBe(false);
    expect(check.blockers.map((b) => b.field).sort()).toEqual([...expected].sort());
    const res = await api("/settings", { method: "PUT", body: { auth0: "retired" }, env: E() });
    expect(res.status).toBe(409);
    const problem = await json<Problem>(res);
    expect(problem.errors.map((e) => e.field).sort()).toEqual([...expected].sort());
    expect(problem.detail).toContain("force=true");
    expect((await json(await api("/settings", { env: E() })))["auth0"]).toBeUndefined();
  });

  it("retires with force, and the audit records every blocker it overrode", async () => {
    const res = await api("/settings?force=true", { method: "PUT", body: { auth0: "retired" }, env: E() });
    expect(res.status).toBe(200);
    expect((await json(res))["auth0"]).toBe("retired");
    const audit = await json<{ entries: Array<{ action: string; actor: string; after: unknown }> }>(
      await api("/audit", { env: E() }),
    );
    const retire = audit.entries.find((e) => e.action === "auth0.retire");
    expect(retire).toMatchObject({
      actor: "token:ci",
      after: {
        forced: true,
        blockers: expect.arrayContaining([expect.objectContaining({ field: "routes.globex-saml.state" })]),
      },
    });
    expect((await json(await api("/status", { env: E() })))["auth0"]).toBe("retired");
  });

  it("retires without force once nothing needs Auth0 (no audit of overridden blockers)", async () => {
    for (const connection of ["globex-saml", "pied-oidc", "stark-saml"]) {
      expect(
        (await api(`/routes/${connection}`, { method: "PATCH", body: { state: "migrated" }, env: E() })).status,
      ).toBe(200);
    }
    expect(await json(await api("/retirement", { env: E() }))).toMatchObject({ ready: true, blockers: [] });
    expect((await api("/settings", { method: "PUT", body: { auth0: "retired" }, env: E() })).status).toBe(200);
    const audit = await json<{ entries: Array<{ action: string; after: unknown }> }>(await api("/audit", { env: E() }));
    expect(audit.entries.find((e) => e.action === "auth0.retire")?.after).toEqual({ forced: false, blockers: [] });
  });

  it("refuses an import that would retire Auth0 (the check is PUT /settings')", async () => {
    const res = await api("/import", {
      method: "POST",
      body: { settings: { auth0: "retired" }, routes: [] },
      env: E(),
    });
    expect(res.status).toBe(422);
    expect((await json<Problem>(res)).errors).toEqual([expect.objectContaining({ field: "settings.auth0" })]);
  });
});

describe("retired: nothing reaches Auth0", () => {
  let before = 0;
  let stats: Record<string, unknown>;

  beforeAll(async () => {
    await resetTable();
    await resetCounters();
    await importTable();
    expect((await snapshot("acme-saml")).status).toBe(200);
    const retired = await api("/settings?force=true", {
      method: "PUT",
      body: {
        auth0: "retired",
        bounceMessage: BOUNCE_MESSAGE,
        paths: [
          { prefix: "/authorize", answer: "redirect", location: "https://sso.example.com/login" },
          { prefix: "/v2/logout", answer: "redirect", location: "https://sso.example.com/logout", query: "drop" },
          { prefix: "/u/", answer: "page", message: "Sign in from your application; this page has moved." },
          { prefix: "/.well-known", answer: "page", status: 404, title: "Moved", message: "Ask sso.example.com." },
        ],
      },
      env: E(),
    });
    expect(retired.status).toBe(200);
    isolateCache.clear();
    before = await auth0Requests();
  });

  afterAll(async () => {
    // The whole retired phase, every test of this describe: the stand-in got nothing.
    expect(await auth0Requests()).toBe(before);
  });

  it.each<[string, () => Request, string, string]>([
    ["a migrated SAML ACS", () => new Request(`${HOST}/login/callback?connection=acme-saml`), ACME_TARGET, "migrated"],
    [
      "a legacy SAML ACS",
      () => new Request(`${HOST}/login/callback?connection=globex-saml`),
      DEFAULT_TARGET,
      "auth0-retired",
    ],
    [
      "a rollout route kept on Auth0 by the flag",
      () => new Request(`${HOST}/login/callback?connection=stark-saml`),
      STARK_TARGET,
      "auth0-retired",
    ],
    [
      "a connection not in the table",
      () => new Request(`${HOST}/login/callback?connection=nobody-saml`),
      DEFAULT_TARGET,
      "auth0-retired",
    ],
    [
      "two connection= values",
      () => new Request(`${HOST}/login/callback?connection=a&connection=b`),
      DEFAULT_TARGET,
      "auth0-retired",
    ],
    [
      "an invalid connection name",
      () => new Request(`${HOST}/login/callback?connection=bad..name`),
      DEFAULT_TARGET,
      "auth0-retired",
    ],
    [
      "an OIDC code without iss",
      () => new Request(`${HOST}/login/callback?code=c&state=s`),
      DEFAULT_TARGET,
      "auth0-retired",
    ],
    [
      "a legacy OIDC code with iss",
      () => new Request(`${HOST}/login/callback?code=c&state=s&iss=${encodeURIComponent("https://login.pied.test/")}`),
      DEFAULT_TARGET,
      "auth0-retired",
    ],
    [
      "a legacy SAML POST without connection=",
      () => postForm("/login/callback", form({ SAMLResponse: inject("saml").defaultNamespace })),
      DEFAULT_TARGET,
      "auth0-retired",
    ],
    [
      "a WS-Fed POST",
      () => postForm("/login/callback", form({ wa: "wsignin1.0", wresult: inject("saml").wsfed, wctx: "x" })),
      DEFAULT_TARGET,
      "migrated",
    ],
  ])("sends %s to the new provider", async (_name, request, target, reason) => {
    const { result: res, logs } = await captureLogs(() => call(request(), E()));
    expect(res.status).toBe(307);
    expect(res.headers.get("location")?.startsWith(target)).toBe(true);
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({ decision: "new", reason });
  });

  it("answers a fallback=auth0 bounce with the contact page, counted as an unserved login", async () => {
    // Each hand-off to the new provider carries a mark of its own; the provider's bounce brings it back.
    const handOff = async (): Promise<string> => {
      const res = await get("/login/callback?connection=acme-saml");
      const mark = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
      expect(mark).toMatch(/^crb-acme-saml=/);
      return mark;
    };
    const bounce = (path: string, mark: string, init: RequestInit = {}) =>
      call(new Request(`${HOST}${path}`, { ...init, headers: { ...init.headers, cookie: mark } }), E());
    const mark = await handOff();
    const { result: res, logs } = await captureLogs(() =>
      bounce("/login/callback?connection=acme-saml&fallback=auth0", mark),
    );
    expect(res.status).toBe(403);
    const html = await res.text();
    expect(html).toContain("could not sign you in");
    expect(html).toContain("Contact &lt;it@example.com&gt; &amp; say &quot;SSO-42&quot;");
    expect(html).not.toContain("<it@example.com>");
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({
      decision: "page",
      reason: "fallback-bounce",
      unserved: true,
      targetHost: null,
    });
    // A SAML POST bounce, identified from its body, the same.
    const posted = await bounce("/login/callback?fallback=auth0", await handOff(), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form({ SAMLResponse: inject("saml").prefixed }),
    });
    expect(posted.status).toBe(403);
    // A stranger's unmarked bounce gets the same page, but counts as nobody's unserved login (issue 22).
    expect((await get("/login/callback?connection=acme-saml&fallback=auth0")).status).toBe(403);
    stats = await json(await api("/stats/acme-saml", { env: E() }));
    expect(stats).toMatchObject({ counts: { unserved: 2, fallback: 2 } });
    expect(stats["flags"]).toContain("unserved-logins");
  });

  it("answers HEAD on the callback itself (405)", async () => {
    const res = await call(new Request(`${HOST}/login/callback?connection=acme-saml`, { method: "HEAD" }), E());
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, POST");
  });

  it("refuses the kill switch and shadow mode with a clear error", async () => {
    for (const [body, field] of [
      [{ killSwitch: { on: true } }, "killSwitch"],
      [{ mode: "shadow" }, "mode"],
    ] as const) {
      const res = await api("/settings", { method: "PUT", body, env: E() });
      expect(res.status).toBe(409);
      const problem = await json<Problem>(res);
      expect(problem.title).toBe("Auth0 is retired");
      expect(problem.errors[0]).toMatchObject({ field });
      expect(problem.errors[0]?.reason).toContain("no Auth0 to fall back to");
    }
    expect(await json(await api("/settings", { env: E() }))).toMatchObject({
      mode: "route",
      killSwitch: { on: false },
    });
  });

  it("answers other paths from the path table, and the rest with the default page", async () => {
    const authorize = await get("/authorize?client_id=abc&redirect_uri=https%3A%2F%2Fapp.test");
    expect(authorize.status).toBe(302);
    expect(authorize.headers.get("location")).toBe(
      "https://sso.example.com/login?client_id=abc&redirect_uri=https%3A%2F%2Fapp.test",
    );
    const logout = await get("/v2/logout?returnTo=https%3A%2F%2Fapp.test");
    expect(logout.headers.get("location")).toBe("https://sso.example.com/logout");
    const login = await get("/u/login?state=abc");
    expect(login.status).toBe(410);
    expect(await login.text()).toContain("Sign in from your application; this page has moved.");
    const wellKnown = await get("/.well-known/openid-configuration");
    expect(wellKnown.status).toBe(404);
    expect(await wellKnown.text()).toContain("Ask sso.example.com.");
    for (const path of ["/oauth/token", "/authorizex", "/"]) {
      const res = await get(path);
      expect(res.status).toBe(404);
      expect(await res.text()).toContain("Sign-in has moved");
    }
  });

  it("refuses a path table redirect off the allow-list, a callback prefix and a /__ prefix at write time", async () => {
    const res = await api("/settings", {
      method: "PUT",
      body: {
        paths: [
          { prefix: "/authorize", answer: "redirect", location: "https://evil.test/login" },
          { prefix: "/login/callback", answer: "page", message: "x" },
          { prefix: "/__router", answer: "page", message: "x" },
        ],
      },
      env: E(),
    });
    expect(res.status).toBe(422);
    expect((await json<Problem>(res)).errors.map((e) => e.field)).toEqual([
      "paths.0.location",
      "paths.1.prefix",
      "paths.2.prefix",
    ]);
  });

  it("serves the metadata snapshot byte for byte, or redirects to the route's metadataUrl", async () => {
    const res = await get(metadataUrl("acme-saml"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/samlmetadata+xml");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new TextEncoder().encode(docs()["acme-saml"]));
    const refused = await api("/routes/globex-saml", {
      method: "PATCH",
      body: { metadataUrl: "https://evil.test/metadata" },
      env: E(),
    });
    expect(refused.status).toBe(422);
    const patched = await api("/routes/globex-saml", {
      method: "PATCH",
      body: { metadataUrl: "https://sso.example.com/globex/metadata" },
      env: E(),
    });
    expect(patched.status).toBe(200);
    const redirected = await get(metadataUrl("globex-saml"));
    expect(redirected.status).toBe(302);
    expect(redirected.headers.get("location")).toBe("https://sso.example.com/globex/metadata");
    // Neither: the default page, not Auth0.
    expect((await get(metadataUrl("pied-oidc"))).status).toBe(404);
  });

  it("says retired in /status and routes /evaluate as the router does", async () => {
    expect(await json(await api("/status", { env: E() }))).toMatchObject({ auth0: "retired" });
    expect(await json(await api("/evaluate?connection=globex-saml", { env: E() }))).toMatchObject({
      destination: "new",
      reason: "auth0-retired",
    });
  });

  it("still forwards nothing when KV cannot be read: the isolate's last settings, then AUTH0_RETIRED", async () => {
    // This isolate read the retired settings: an unreadable KV serves them stale.
    await get("/login/callback?connection=acme-saml");
    const stale = await call(new Request(`${HOST}/login/callback?connection=globex-saml`), {
      ...E(),
      ROUTES: failingKv(),
    });
    expect(stale.status).toBe(307);
    // A new isolate (nothing cached) with KV down: only AUTH0_RETIRED can say it; a page, never Auth0.
    isolateCache.clear();
    const cold = await call(new Request(`${HOST}/login/callback?connection=globex-saml`), {
      ...E({ AUTH0_RETIRED: "true" }),
      ROUTES: failingKv(),
    });
    expect(cold.status).toBe(503);
    isolateCache.clear();
    const other = await call(new Request(`${HOST}/authorize?client_id=x`), {
      ...E({ AUTH0_RETIRED: "true" }),
      ROUTES: failingKv(),
    });
    expect(other.status).toBe(404);
  });

  it("forwards nothing when the settings are refused or the configuration is wrong", async () => {
    // Settings that fail the schema but say retired: the router believes the retired part.
    const good = await env.ROUTES.get("settings");
    await env.ROUTES.put("settings", JSON.stringify({ auth0: "retired", mode: "sideways" }));
    isolateCache.clear();
    try {
      expect((await get("/login/callback?connection=globex-saml")).status).toBe(503);
      expect((await get("/authorize?client_id=x")).status).toBe(404);
    } finally {
      await env.ROUTES.put("settings", good ?? "");
      isolateCache.clear();
    }
    // A wrong variable beside AUTH0_RETIRED=true (or a misspelt AUTH0_RETIRED): 503, no fail-safe forward.
    expect(
      (await get("/login/callback?connection=acme-saml", { AUTH0_RETIRED: "true", AUTH0_TENANT: "not a tenant!" }))
        .status,
    ).toBe(503);
    expect((await get("/authorize", { AUTH0_RETIRED: "ture", AUTH0_TENANT: "example-tenant" })).status).toBe(503);
  });
});
