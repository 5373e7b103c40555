/**
 * Transaction affinity end to end inside workerd: logins started at the Auth0
 * stand-in (test/support/origin-server.ts, `x-test-origin: login-start`) pass
 * through the Worker, which records them; their callbacks come back to Auth0
 * whatever the table says. Logins the new provider started (no recorded handle)
 * follow the table, here with `unknown: probe`.
 */
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import type { RouteTableFile } from "../src/table/schema";
import { AFFINITY_REQUEST_ID } from "./support/affinity";
import { AUTH0_COOKIES, BIG_PAGE } from "./support/origin-server";
import { DEFAULT_TARGET, TEST_TABLE } from "./support/table";
import { call, captureLogs, form, HOST, postForm, received, seed, sha256Hex } from "./support/worker";

const SECRET = "affinity-test-secret-0123456789abcdef";
const WITH_AFFINITY = { AFFINITY_SECRET: SECRET };
const PROBE: RouteTableFile = { ...TEST_TABLE, settings: { ...TEST_TABLE.settings, unknown: "probe" } };

beforeEach(async () => {
  // The Worker's log lines are captured where a test reads them, and kept off the test output elsewhere.
  vi.spyOn(console, "log").mockImplementation(() => {});
  await seed(PROBE);
});
afterEach(() => {
  vi.restoreAllMocks();
});

interface Started {
  response: Response;
  /** `name=value` of each affinity cookie the Worker set. */
  cookies: string[];
  handles: { state: string; relayState: string; id: string; wctx: string };
}

/** A login started at the Auth0 stand-in, through the Worker. */
async function startLogin(
  kind: string,
  params: Record<string, string> = {},
  env: Record<string, string> = WITH_AFFINITY,
): Promise<Started> {
  const query = new URLSearchParams({ kind, client_id: "app", ...params });
  const response = await call(
    new Request(`${HOST}/authorize?${query}`, { headers: { "x-test-origin": "login-start" } }),
    env,
  );
  const cookies = response.headers
    .getSetCookie()
    .filter((c) => c.startsWith("cra-"))
    .map((c) => c.split(";")[0] ?? "");
  const handles = JSON.parse(response.headers.get("x-test-handles") ?? "{}") as Started["handles"];
  return { response, cookies, handles };
}

function callback(query: string, cookies: string[], init: RequestInit = {}): Request {
  const headers = new Headers(init.headers);
  if (cookies.length > 0) headers.set("cookie", ["did=s%3Av0%3A1", ...cookies, "auth0=abc"].join("; "));
  return new Request(`${HOST}/login/callback${query}`, { ...init, headers });
}

function samlPost(query: string, fields: Record<string, string>, cookies: string[]): Request {
  return callback(query, cookies, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form(fields),
  });
}

function isRedirectToNew(res: Response): boolean {
  return res.status === 307 && (res.headers.get("location") ?? "").startsWith("https://sso.example.com/");
}

describe("recording Auth0's login starts", () => {
  it.each(["oidc", "social", "saml-redirect", "wsfed"])(
    "adds one affinity cookie to a %s login start and passes Auth0's answer on unchanged",
    async (kind) => {
      const { response, cookies } = await startLogin(kind);
      expect(response.status).toBe(302);
      const setCookies = response.headers.getSetCookie();
      expect(setCookies.slice(0, AUTH0_COOKIES.length)).toEqual(AUTH0_COOKIES);
      expect(setCookies).toHaveLength(AUTH0_COOKIES.length + 1);
      expect(setCookies[AUTH0_COOKIES.length]).toMatch(
        /^cra-[\w-]{4}=[\w-]{8,16}(?:\.[\w-]+)?; Max-Age=3600; Path=\/login\/callback; Secure; HttpOnly; SameSite=None$/,
      );
      expect(cookies).toHaveLength(1);
      expect(await response.text()).toBe("Found. Redirecting");
    },
  );

  it("records the SAML HTTP-POST binding page and passes its bytes on", async () => {
    const { response, cookies, handles } = await startLogin("saml-post", {
      state: "relay-post",
      id: AFFINITY_REQUEST_ID,
    });
    expect(response.status).toBe(200);
    expect(cookies).toHaveLength(1);
    expect(response.headers.getSetCookie().slice(0, AUTH0_COOKIES.length)).toEqual(AUTH0_COOKIES);
    const html = await response.text();
    expect(response.headers.get("content-length")).toBe(String(new TextEncoder().encode(html).byteLength));
    expect(html).toContain(`name="RelayState" value="${handles.relayState}"`);
  });

  it("does not record Auth0's redirect back to the application", async () => {
    const { response, cookies } = await startLogin("app");
    expect(response.headers.get("location")).toMatch(/^https:\/\/app\.example\.com\/callback\?code=/);
    expect(cookies).toEqual([]);
    expect(response.headers.getSetCookie()).toEqual(AUTH0_COOKIES);
  });

  it("records nothing without AFFINITY_SECRET, or with affinity switched off at run time", async () => {
    expect((await startLogin("oidc", {}, {})).cookies).toEqual([]);
    await seed({ ...PROBE, settings: { ...PROBE.settings, affinity: "off" } });
    const off = await startLogin("oidc");
    expect(off.cookies).toEqual([]);
    expect(off.response.headers.getSetCookie()).toEqual(AUTH0_COOKIES);
  });

  it("logs each recorded login start without its handles", async () => {
    const { result, logs } = await captureLogs(() => startLogin("oidc", { connection: "contoso-waad" }));
    const line = logs.find((l) => l["event"] === "login-start");
    expect(line).toMatchObject({
      protocol: "oauth2",
      binding: "redirect",
      connection: "contoso-waad",
      idpHost: "login.microsoftonline.com",
      handles: 1,
      path: "/authorize",
    });
    expect(JSON.stringify(logs)).not.toContain(result.handles.state);
  });
});

describe("callbacks of logins Auth0 started go back to Auth0", () => {
  it("sends an OIDC callback without iss to Auth0 under unknown: probe, with no bounce", async () => {
    const { cookies, handles } = await startLogin("oidc", { connection: "contoso-waad" });
    const query = `?code=idp-code&state=${encodeURIComponent(handles.state)}&session_state=s1`;
    const { result: res, logs } = await captureLogs(() => call(callback(query, cookies), WITH_AFFINITY));
    expect(res.status).toBe(200);
    const got = await received(res);
    expect(got.url).toBe(`/login/callback${query}`);
    // The finished transaction's cookie is removed; Auth0's answer is otherwise its own.
    expect(res.headers.getSetCookie()).toEqual([
      `${cookies[0]!.split("=")[0]}=; Max-Age=0; Path=/login/callback; Secure; HttpOnly; SameSite=None`,
    ]);
    const line = logs.find((l) => l["event"] === "callback");
    expect(line).toMatchObject({
      decision: "auth0",
      reason: "auth0-transaction",
      affinity: "match",
      connection: "contoso-waad",
      identifiedBy: "affinity",
    });
    expect(JSON.stringify(logs)).not.toContain(handles.state);
  });

  it("sends an OIDC form_post callback (state in the body) to Auth0", async () => {
    const { cookies, handles } = await startLogin("oidc");
    const body = form({ id_token: "x.y.z", state: handles.state });
    const res = await call(
      callback("", cookies, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body }),
      WITH_AFFINITY,
    );
    expect((await received(res)).bodyText).toBe(body);
  });

  it("sends a social login's callback to Auth0", async () => {
    const { cookies, handles } = await startLogin("social");
    const res = await call(callback(`?state=${encodeURIComponent(handles.state)}&code=4/0Ab`, cookies), WITH_AFFINITY);
    expect(res.status).toBe(200);
    expect((await received(res)).url).toContain("code=4/0Ab");
  });

  it.each([
    ["HTTP-Redirect", "saml-redirect"],
    ["HTTP-POST", "saml-post"],
  ])("sends an SP-initiated SAML login (%s binding) of a migrated connection back to Auth0", async (_b, kind) => {
    const saml = inject("saml");
    const { cookies, handles } = await startLogin(kind, { connection: "acme-saml", id: AFFINITY_REQUEST_ID });
    const fields = { SAMLResponse: saml.spInitiated, RelayState: handles.relayState };
    const res = await call(samlPost("?connection=acme-saml", fields, cookies), WITH_AFFINITY);
    expect(res.status).toBe(200);
    const got = await received(res);
    expect(got.bodyText).toBe(form(fields));
  });

  it("matches a SAML login by InResponseTo alone when the RelayState is missing", async () => {
    const saml = inject("saml");
    const { cookies } = await startLogin("saml-post", { connection: "acme-saml", id: AFFINITY_REQUEST_ID });
    const { result: res, logs } = await captureLogs(() =>
      call(samlPost("?connection=acme-saml", { SAMLResponse: saml.spInitiated }, cookies), WITH_AFFINITY),
    );
    expect(res.status).toBe(200);
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({ reason: "auth0-transaction" });
  });

  it("sends an IdP-initiated SAML login of the same connection to the new provider", async () => {
    const saml = inject("saml");
    const { cookies } = await startLogin("saml-post", { connection: "acme-saml", id: AFFINITY_REQUEST_ID });
    const res = await call(samlPost("?connection=acme-saml", { SAMLResponse: saml.prefixed }, cookies), WITH_AFFINITY);
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe("https://sso.example.com/auth0/acme/callback?connection=acme-saml");
  });

  it("sends a WS-Fed login (wctx) of a migrated ADFS connection back to Auth0", async () => {
    const saml = inject("saml");
    const { cookies, handles } = await startLogin("wsfed");
    const fields = { wa: "wsignin1.0", wresult: saml.wsfed, wctx: handles.wctx };
    const res = await call(samlPost("", fields, cookies), WITH_AFFINITY);
    expect(res.status).toBe(200);
    expect((await received(res)).bodyText).toBe(form(fields));
    // Without the recorded wctx the same callback is the migrated ADFS connection's.
    const other = await call(samlPost("", { ...fields, wctx: "started-elsewhere" }, cookies), WITH_AFFINITY);
    expect(isRedirectToNew(other)).toBe(true);
  });
});

describe("callbacks of logins started elsewhere follow the table", () => {
  it("sends a login the new provider started to the new provider (probe), cookies or not", async () => {
    const { cookies } = await startLogin("oidc");
    const query = "?code=c&state=state-the-new-provider-made";
    const { result: res, logs } = await captureLogs(() => call(callback(query, cookies), WITH_AFFINITY));
    expect(res.headers.get("location")).toBe(`${DEFAULT_TARGET}${query}`);
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({ reason: "unidentified", affinity: "no-match" });
    const bare = await captureLogs(() => call(callback(query, []), WITH_AFFINITY));
    expect(isRedirectToNew(bare.result)).toBe(true);
    expect(bare.logs.find((l) => l["event"] === "callback")).toMatchObject({ affinity: "no-cookie" });
  });

  it("ignores a tampered cookie (logged, never a 5xx) and follows the table", async () => {
    const { cookies, handles } = await startLogin("oidc");
    const [name, value] = cookies[0]!.split("=") as [string, string];
    const query = `?code=c&state=${encodeURIComponent(handles.state)}`;
    const flipped = `${name}=${value[0] === "A" ? "B" : "A"}${value.slice(1)}`;
    const res = await call(callback(query, [flipped]), WITH_AFFINITY);
    expect(isRedirectToNew(res)).toBe(true);
    const { result, logs } = await captureLogs(() =>
      call(callback(query, [`${name}=${value}%00`, `cra-zzzz=${"A".repeat(4000)}`]), WITH_AFFINITY),
    );
    expect(isRedirectToNew(result)).toBe(true);
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({ affinity: "no-cookie", affinityIgnored: 2 });
  });

  it("does not use a cookie another deployment (another secret) wrote", async () => {
    const { cookies, handles } = await startLogin(
      "oidc",
      {},
      { AFFINITY_SECRET: "another-deployment-secret-0123456789" },
    );
    const res = await call(callback(`?code=c&state=${encodeURIComponent(handles.state)}`, cookies), WITH_AFFINITY);
    expect(isRedirectToNew(res)).toBe(true);
  });

  it("does not look at the cookie when affinity is off at run time (shadow of nothing), nor without AFFINITY_SECRET", async () => {
    const { cookies, handles } = await startLogin("oidc");
    const query = `?code=c&state=${encodeURIComponent(handles.state)}`;
    await seed({ ...PROBE, settings: { ...PROBE.settings, affinity: "off" } });
    const off = await captureLogs(() => call(callback(query, cookies), WITH_AFFINITY));
    expect(isRedirectToNew(off.result)).toBe(true);
    expect(off.logs.find((l) => l["event"] === "callback")).toMatchObject({ affinity: "off" });
    await seed(PROBE);
    const unset = await captureLogs(() => call(callback(query, cookies)));
    expect(isRedirectToNew(unset.result)).toBe(true);
    expect(unset.logs.find((l) => l["event"] === "callback")).not.toHaveProperty("affinity");
  });

  it("logs in shadow mode what affinity decided, while everything goes to Auth0", async () => {
    await seed({ ...PROBE, settings: { ...PROBE.settings, mode: "shadow" } });
    const { cookies, handles } = await startLogin("oidc");
    const matched = await captureLogs(() =>
      call(callback(`?code=c&state=${encodeURIComponent(handles.state)}`, cookies), WITH_AFFINITY),
    );
    expect(matched.result.status).toBe(200);
    expect(matched.logs.find((l) => l["event"] === "callback")).toMatchObject({
      decision: "auth0",
      reason: "auth0-transaction",
      affinity: "match",
    });
    const elsewhere = await captureLogs(() => call(callback("?code=c&state=other", cookies), WITH_AFFINITY));
    expect(elsewhere.logs.find((l) => l["event"] === "callback")).toMatchObject({
      decision: "auth0",
      shadowDecision: "new",
      affinity: "no-match",
    });
  });
});

describe("many transactions in one browser", () => {
  it.each([2, 32])("finds each of %i concurrent logins", async (n) => {
    const started = await Promise.all(Array.from({ length: n }, () => startLogin("oidc")));
    const jar = started.flatMap((s) => s.cookies);
    expect(new Set(jar.map((c) => c.split("=")[0])).size).toBe(n);
    for (const s of [started[0]!, started[Math.floor(n / 2)]!, started[n - 1]!]) {
      const res = await call(callback(`?code=c&state=${encodeURIComponent(s.handles.state)}`, jar), WITH_AFFINITY);
      expect(res.status).toBe(200);
      await res.body?.cancel();
    }
  });
});

describe("at most 32 affinity cookies per browser", () => {
  const nameOf = (cookie: string) => cookie.split("=")[0] ?? "";
  const expiredBy = (res: Response) =>
    res.headers
      .getSetCookie()
      .filter((c) => c.includes("; Max-Age=0;"))
      .map(nameOf);

  it("a callback carrying 40 expires the finished one and the 8 oldest; the other 31 still finish at Auth0", async () => {
    const started: Started[] = [];
    // One after the other: the browser lists cookies oldest first (RFC 6265 §5.4), as the jar does here.
    for (let i = 0; i < 40; i++) started.push(await startLogin("oidc"));
    let jar = started.flatMap((s) => s.cookies);
    const names = jar.map(nameOf);
    const newest = started[39]!;
    const res = await call(callback(`?code=c&state=${encodeURIComponent(newest.handles.state)}`, jar), WITH_AFFINITY);
    expect(res.status).toBe(200);
    await res.body?.cancel();
    expect(expiredBy(res)).toEqual([names[39], ...names.slice(0, 8)]);
    // The browser applies the answer: 31 are left.
    jar = jar.filter((c) => !expiredBy(res).includes(nameOf(c)));
    expect(jar).toHaveLength(31);
    const kept = await call(
      callback(`?code=c&state=${encodeURIComponent(started[8]!.handles.state)}`, jar),
      WITH_AFFINITY,
    );
    expect(kept.status).toBe(200);
    expect(expiredBy(kept)).toEqual([names[8]]);
    await kept.body?.cancel();
    // The oldest login's cookie is gone: its callback follows the table (unknown: probe).
    const dropped = await call(
      callback(`?code=c&state=${encodeURIComponent(started[0]!.handles.state)}`, jar),
      WITH_AFFINITY,
    );
    expect(isRedirectToNew(dropped)).toBe(true);
  });

  it("a callback the new provider started expires the oldest beyond 32 too, and nothing at 32", async () => {
    const started: Started[] = [];
    for (let i = 0; i < 34; i++) started.push(await startLogin("oidc"));
    const jar = started.flatMap((s) => s.cookies);
    const elsewhere = await call(callback("?code=c&state=made-by-new-provider", jar), WITH_AFFINITY);
    expect(isRedirectToNew(elsewhere)).toBe(true);
    expect(expiredBy(elsewhere)).toEqual(jar.slice(0, 2).map(nameOf));
    const atBound = await call(callback("?code=c&state=made-by-new-provider", jar.slice(2)), WITH_AFFINITY);
    expect(isRedirectToNew(atBound)).toBe(true);
    // No affinity cookie expired (the 307 sets only its bounce mark, src/callback/bounce-mark.ts).
    expect(atBound.headers.getSetCookie().filter((c) => !c.startsWith("crb="))).toEqual([]);
  });
});

describe("big pages stream through", () => {
  it.each(["declared", "chunked"])(
    "answers a 200 KiB Universal Login page (%s length) before Auth0 has finished sending it",
    async (length) => {
      const id = `big-page-${length}-${crypto.randomUUID()}`;
      const request = new Request(`${HOST}/u/login?state=ul`, {
        headers: { "x-test-origin": "big-page-stalled", "x-test-id": id, "x-test-length": length },
      });
      const answered = await Promise.race([
        call(request, WITH_AFFINITY),
        new Promise<"stalled">((resolve) => setTimeout(() => resolve("stalled"), 3000)),
      ]);
      expect(answered, "the Worker waited for the whole page").not.toBe("stalled");
      const res = answered as Response;
      expect(res.headers.getSetCookie()).toEqual(AUTH0_COOKIES);
      await fetch(`http://127.0.0.1:${inject("originPort")}/__stand-in/release?id=${id}`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      expect(bytes.byteLength).toBe(BIG_PAGE.byteLength);
      expect(await sha256Hex(bytes)).toBe(await sha256Hex(new Uint8Array(BIG_PAGE)));
    },
  );
});

describe("hostile cookies (property)", () => {
  it("any Cookie header, with or without a recorded login, never gets a 5xx and never captures another login", async () => {
    const { cookies } = await startLogin("oidc");
    const cookieValue = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.stringMatching(/^[A-Za-z0-9_-]{0,40}(\.[A-Za-z0-9-]{0,20})?$/),
      fc.constantFrom(...cookies.map((c) => c.split("=")[1] ?? "")),
    );
    const cookieName = fc.oneof(
      fc.constantFrom("cra-", "cra-abcd", "cra-AAAA", "did", "cra-"),
      fc.string({ maxLength: 12 }),
    );
    const header = fc
      .array(fc.tuple(cookieName, cookieValue), { maxLength: 80 })
      .map((pairs) => pairs.map(([n, v]) => `${n}=${v}`).join("; "));
    await fc.assert(
      fc.asyncProperty(header, fc.boolean(), async (cookieHeader, post) => {
        const init: RequestInit = post
          ? {
              method: "POST",
              headers: { cookie: cookieHeader, "content-type": "application/x-www-form-urlencoded" },
              body: form({ state: "not-recorded-state", RelayState: "r" }),
            }
          : { headers: { cookie: cookieHeader } };
        const res = await call(
          new Request(`${HOST}/login/callback?code=c&state=not-recorded-state`, init),
          WITH_AFFINITY,
        );
        await res.body?.cancel();
        // Never a 5xx; and a handle nobody recorded follows the table (probe: the new provider).
        expect(res.status).toBe(307);
        expect(isRedirectToNew(res)).toBe(true);
      }),
      { numRuns: 150, seed: inject("fuzzSeed") },
    );
    // 150 callbacks through the Worker: about 5 s alone on the shared 2-core machine, more in a full run.
  }, 30_000);
});

describe("compressed pages", () => {
  it("passes a small gzip-encoded HTML page through intact (read for a POST-binding form, then sent on)", async () => {
    for (const env of [WITH_AFFINITY, {}]) {
      const res = await call(
        new Request(`${HOST}/u/login/error`, { headers: { "x-test-origin": "gzip-page", "accept-encoding": "gzip" } }),
        env,
      );
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain("Compressed page.");
      expect(await sha256Hex(new TextEncoder().encode(text))).toBe(res.headers.get("x-plain-sha256"));
    }
  });
});

describe("without affinity", () => {
  it("a Worker whose AFFINITY_SECRET is too short refuses it by name and fails safe to Auth0", async () => {
    const { result, logs } = await captureLogs(() =>
      call(postForm("/login/callback?connection=acme-saml", form({ SAMLResponse: "x" })), { AFFINITY_SECRET: "short" }),
    );
    expect(result.status).toBe(200);
    expect(logs.some((l) => l["event"] === "config-error" && l["variable"] === "AFFINITY_SECRET")).toBe(true);
  });
});
