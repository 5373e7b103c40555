/**
 * Browser end-to-end: real Chromium, the Worker in workerd, real SAML responses,
 * loopback stand-ins for the IdP, Auth0 and the new SSO provider. Every test
 * asserts on what the stand-ins recorded (method, raw query, raw body), byte
 * for byte, not only on what the browser shows.
 *
 *   npm run test:e2e        (vitest run -c vitest.e2e.config.ts)
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { BrowserContext, Page, Response } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { makeSamlResponse } from "../test/fixtures/saml";
import { AUTH0_TENANT, SCREENSHOT_DIR, startHarness, type Harness } from "./support/harness";
import { escapeHtml, htmlPage, type Recorded } from "./support/recording-server";
import { AUTH0_APP_PATH, AUTH0_CALLBACK_PATH, SSO_CALLBACK_PATH } from "./support/stand-ins";

const LEGACY = "globex-saml";
const MIGRATED = "acme-saml";
const UNKNOWN_TO_SSO = "umbrella-saml";
const FORM_MODE = "stark-saml";
const OIDC = "hooli-okta";
const FLIPPED = "initech-saml";
const OIDC_ISSUER = "https://hooli.okta.example/oauth2/default";

const APP_HEADING = "Application: signed in via Auth0";
const SSO_HEADING = "Signed in at new SSO";
/** Per browser action (navigation, click, wait). */
const STEP_TIMEOUT_MS = 15_000;

let h: Harness;

beforeAll(async () => {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  h = await startHarness({
    ssoConnections: [MIGRATED, FORM_MODE, FLIPPED],
    ssoIssuers: [OIDC_ISSUER],
  });
});

afterAll(async () => {
  await h?.stop();
});

/** The same table before every test, loaded through the management API (replace mode). */
beforeEach(async () => {
  h.auth0.clear();
  h.sso.clear();
  h.workerLogs.length = 0;
  const answer = await h.replaceTable([
    { connection: LEGACY, organization: "org_globex", protocol: "samlp", state: "legacy" },
    { connection: MIGRATED, organization: "org_acme", protocol: "samlp", state: "migrated" },
    { connection: UNKNOWN_TO_SSO, organization: "org_umbrella", protocol: "samlp", state: "migrated" },
    { connection: FORM_MODE, organization: "org_stark", protocol: "samlp", state: "migrated" },
    {
      connection: OIDC,
      organization: "org_hooli",
      protocol: "okta",
      state: "migrated",
      match: { oidcIssuer: OIDC_ISSUER },
    },
    { connection: FLIPPED, organization: "org_initech", protocol: "samlp", state: "legacy" },
  ]);
  expect(answer.body).toMatchObject({ dryRun: false, mode: "replace", kvPending: 0 });
});

// ---------------------------------------------------------------------------
// Helpers

/** One SAML POST as the IdP page's form will send it. */
interface SamlPost {
  /** The IdP page that holds the form. */
  idpPage: string;
  /** The form's action: the Worker's /login/callback with this query. */
  rawQuery: string;
  /** The decoded fields, in form order. */
  fields: Array<[string, string]>;
  /** The body the browser must send: the fields, application/x-www-form-urlencoded (UTF-8). */
  rawBody: string;
}

let postCount = 0;

/** A real signed SAMLResponse and an IdP page whose form posts it (and an awkward RelayState) to the Worker. */
async function samlPost(connection: string): Promise<SamlPost> {
  postCount++;
  // Extra parameters whose encoding must survive untouched (Chromium leaves canonical escapes as they are).
  const rawQuery = `connection=${connection}&login_hint=jane%2Be2e%40example.com&ext=a%20b%2Fc%3F~-._&n=${postCount}`;
  const action = `${h.workerOrigin}/login/callback?${rawQuery}`;
  const samlResponse = await makeSamlResponse({
    form: "prefixed",
    audience: `urn:auth0:${AUTH0_TENANT}:${connection}`,
    issuer: `https://idp.${connection}.example/metadata`,
    destination: action,
  });
  // Opaque to everyone but the application; every character here needs escaping somewhere.
  const relayState = `rs-${postCount}/?return_to=https://app.example/p?a=1&b=2 "quoted" <tag> 'apos' +plus %25 =eq ü✓ #frag`;
  const fields: Array<[string, string]> = [
    ["SAMLResponse", samlResponse],
    ["RelayState", relayState],
  ];
  const inputs = fields
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join("\n");
  const idpPage = h.idp.page(
    `/saml/${postCount}`,
    htmlPage(
      "Example IdP",
      `<h1>Example IdP</h1><p>jane@example.com is signed in.</p>
<form method="post" action="${escapeHtml(action)}">
${inputs}
<button type="submit">Continue to the application</button>
</form>`,
    ),
  );
  return { idpPage, rawQuery, fields, rawBody: new URLSearchParams(fields).toString() };
}

/** The IdP page is opened and its button pressed, as a user would. */
async function submitAtIdp(page: Page, post: SamlPost): Promise<void> {
  await page.goto(post.idpPage);
  await page.getByRole("button", { name: "Continue to the application" }).click();
}

/** What a stand-in recorded is exactly what the IdP page's form sent (query and body, byte for byte). */
function expectSamlPost(received: Recorded | undefined, post: SamlPost, rawQuery = post.rawQuery): void {
  expect(received, "request was recorded").toBeDefined();
  const r = received as Recorded;
  expect(r.method).toBe("POST");
  expect(r.rawQuery).toBe(rawQuery);
  expect(r.headers["content-type"]).toBe("application/x-www-form-urlencoded");
  // The decoded field values, exactly…
  expect([...new URLSearchParams(r.body.toString("utf8"))]).toEqual(post.fields);
  // …and the raw bytes: the body is exactly what the form encodes.
  expect(r.body.toString("latin1")).toBe(post.rawBody);
  expect(r.body.length).toBe(Buffer.byteLength(post.rawBody));
}

async function withContext<T>(
  run: (context: BrowserContext, page: Page) => Promise<T>,
  options: { javaScriptEnabled?: boolean } = {},
): Promise<T> {
  const context = await h.browser.newContext({ javaScriptEnabled: options.javaScriptEnabled ?? true });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  try {
    return await run(context, await context.newPage());
  } finally {
    await context.close();
  }
}

async function finalPage(page: Page, heading: string, flow: string): Promise<void> {
  await page.getByRole("heading", { name: heading }).waitFor();
  await screenshot(page, flow);
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** The Worker's per-callback decision log lines so far. */
function callbackLogs(): Array<Record<string, unknown>> {
  return h.workerLogs.filter((line) => line["event"] === "callback");
}

/** Waits for `count` callback log lines and returns their decision and reason. */
async function decisions(count: number): Promise<Array<{ decision: unknown; reason: unknown }>> {
  await expect.poll(() => callbackLogs().length, { timeout: 5_000 }).toBe(count);
  return callbackLogs().map((l) => ({ decision: l["decision"], reason: l["reason"] }));
}

function isWorkerCallback(response: Response): boolean {
  return response.url().startsWith(`${h.workerOrigin}/login/callback`);
}

// ---------------------------------------------------------------------------

describe("SAML POST through the router, in Chromium", () => {
  test("1. legacy connection: forwarded to Auth0 byte for byte, Auth0's cookies reach the browser", async () => {
    const post = await samlPost(LEGACY);
    await withContext(async (context, page) => {
      const setCookieLines: string[] = [];
      page.on("response", (response) => {
        if (!isWorkerCallback(response)) return;
        void response.headersArray().then((headers) => {
          for (const { name, value } of headers) if (name.toLowerCase() === "set-cookie") setCookieLines.push(value);
        });
      });

      await submitAtIdp(page, post);
      await finalPage(page, APP_HEADING, "legacy");

      // Auth0 got exactly what the IdP page sent.
      const callbacks = h.auth0.callbacks();
      expect(callbacks).toHaveLength(1);
      expectSamlPost(callbacks[0], post);
      expect(h.sso.server.received).toEqual([]);

      // Each cookie arrived as its own Set-Cookie line through the Worker, was stored, and was sent on.
      const issued = h.auth0.logins[0]?.cookies ?? [];
      expect(issued.length).toBeGreaterThanOrEqual(4);
      await expect.poll(() => setCookieLines.length).toBe(issued.length);
      const stored = await context.cookies(h.workerOrigin);
      for (const cookie of issued) {
        expect(stored).toContainEqual(
          expect.objectContaining({
            name: cookie.name,
            value: cookie.value,
            domain: "127.0.0.1",
            path: "/",
            httpOnly: cookie.httpOnly,
          }),
        );
      }
      const app = h.auth0.server.to(AUTH0_APP_PATH);
      expect(app).toHaveLength(1);
      const sentBack = (app[0]?.headers.cookie ?? "").split("; ");
      for (const cookie of issued) expect(sentBack).toContain(`${cookie.name}=${cookie.value}`);
    });
    expect(await decisions(1)).toEqual([{ decision: "auth0", reason: "legacy" }]);
  });

  test("2. migrated connection: the browser re-POSTs through the 307 to the new SSO; Auth0 gets nothing", async () => {
    const post = await samlPost(MIGRATED);
    await withContext(async (_context, page) => {
      const workerAnswers: number[] = [];
      page.on("response", (response) => {
        if (isWorkerCallback(response)) workerAnswers.push(response.status());
      });

      await submitAtIdp(page, post);
      await finalPage(page, SSO_HEADING, "migrated");

      expect(workerAnswers).toEqual([307]);
      const callbacks = h.sso.callbacks();
      expect(callbacks).toHaveLength(1);
      expectSamlPost(callbacks[0], post);
      expect(page.url()).toBe(`${h.sso.origin}${SSO_CALLBACK_PATH}?${post.rawQuery}`);
      expect(h.auth0.server.received).toEqual([]);
    });
    expect(await decisions(1)).toEqual([{ decision: "new", reason: "migrated" }]);
  });

  test("3. migrated but unknown to the new SSO: bounced once with fallback=auth0, then Auth0 gets it unchanged", async () => {
    const post = await samlPost(UNKNOWN_TO_SSO);
    await withContext(async (_context, page) => {
      await submitAtIdp(page, post);
      await finalPage(page, APP_HEADING, "fallback");

      // Exactly one hop each way: the new SSO saw it once, Auth0 once; no loop.
      const atSso = h.sso.callbacks();
      expect(atSso).toHaveLength(1);
      expectSamlPost(atSso[0], post);
      expect(h.sso.server.received).toHaveLength(1);
      // Auth0 saw the one callback, then the browser arrived at the application once.
      expect(h.auth0.server.received.map((r) => r.path)).toEqual([AUTH0_CALLBACK_PATH, AUTH0_APP_PATH]);
      const atAuth0 = h.auth0.callbacks();
      expect(atAuth0).toHaveLength(1);
      // The fallback parameter is gone; every other byte of the query is as the IdP sent it.
      expectSamlPost(atAuth0[0], post, post.rawQuery);
      expect(atAuth0[0]?.rawQuery).not.toContain("fallback");
    });
    expect(await decisions(2)).toEqual([
      { decision: "new", reason: "migrated" },
      { decision: "auth0", reason: "fallback-bounce" },
    ]);
  });
});

describe('redirect: "form" (auto-submitting form) in Chromium', () => {
  async function useFormMode(): Promise<void> {
    const answer = await h.api("PUT", "/settings", { redirect: "form" });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({ redirect: "form", mode: "route" });
  }

  test("4a. with JavaScript: the hash-allowed script submits the form; the new SSO gets identical fields", async () => {
    await useFormMode();
    const post = await samlPost(FORM_MODE);
    await withContext(async (_context, page) => {
      const workerAnswers: Array<{ status: number; csp: string | null }> = [];
      const consoleErrors: string[] = [];
      page.on("response", (response) => {
        if (!isWorkerCallback(response)) return;
        workerAnswers.push({ status: response.status(), csp: response.headers()["content-security-policy"] ?? null });
      });
      page.on("console", (message) => {
        if (message.type() === "error") consoleErrors.push(message.text());
      });
      page.on("pageerror", (error) => consoleErrors.push(error.message));

      await submitAtIdp(page, post);
      await finalPage(page, SSO_HEADING, "form-mode");

      // The Worker answered with its form page (not a 307), under a CSP that allows only its script, by hash.
      expect(workerAnswers).toHaveLength(1);
      expect(workerAnswers[0]?.status).toBe(200);
      expect(workerAnswers[0]?.csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+={0,2}'/);
      expect(consoleErrors.filter((e) => /Content Security Policy|Refused/i.test(e))).toEqual([]);

      const callbacks = h.sso.callbacks();
      expect(callbacks).toHaveLength(1);
      expectSamlPost(callbacks[0], post);
      expect(h.auth0.server.received).toEqual([]);
    });
    expect(await decisions(1)).toEqual([{ decision: "new", reason: "migrated" }]);
  });

  test("4b. without JavaScript: the Continue button is shown, and pressing it submits", async () => {
    await useFormMode();
    const post = await samlPost(FORM_MODE);
    await withContext(
      async (_context, page) => {
        await submitAtIdp(page, post);
        const button = page.getByRole("button", { name: "Continue" });
        await button.waitFor({ state: "visible" });
        expect(page.url()).toBe(`${h.workerOrigin}/login/callback?${post.rawQuery}`);
        await screenshot(page, "form-mode-noscript-button");
        // Nothing was submitted on its own.
        expect(h.sso.server.received).toEqual([]);

        await button.click();
        await finalPage(page, SSO_HEADING, "form-mode-noscript");

        const callbacks = h.sso.callbacks();
        expect(callbacks).toHaveLength(1);
        expectSamlPost(callbacks[0], post);
        expect(h.auth0.server.received).toEqual([]);
      },
      { javaScriptEnabled: false },
    );
  });

  /**
   * One POST from an IdP page whose form has `fields`; `rawBody`, when given, replaces the
   * bytes Chromium sends (bytes no browser form writes). Answers the Worker's status and
   * the bytes Chromium sent it, once the new SSO's page is shown.
   */
  async function postThroughFormMode(
    fields: Array<[string, string]>,
    rawBody?: string,
  ): Promise<{ status: number; sent: Buffer; received: Buffer }> {
    postCount++;
    const action = `${h.workerOrigin}/login/callback?connection=${FORM_MODE}&n=${postCount}`;
    const inputs = fields
      .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
      .join("\n");
    const idpPage = h.idp.page(
      `/odd/${postCount}`,
      htmlPage(
        "Example IdP",
        `<form method="post" action="${escapeHtml(action)}">\n${inputs}\n<button type="submit">Continue to the application</button>\n</form>`,
      ),
    );
    return withContext(async (_context, page) => {
      const statuses: number[] = [];
      const sent: Buffer[] = [];
      page.on("response", (response) => {
        if (isWorkerCallback(response)) statuses.push(response.status());
      });
      await page.route(
        (url) => url.href.startsWith(`${h.workerOrigin}/login/callback`),
        async (route) => {
          const body =
            rawBody === undefined
              ? (route.request().postDataBuffer() ?? Buffer.alloc(0))
              : Buffer.from(rawBody, "latin1");
          sent.push(body);
          await route.continue({ postData: body });
        },
      );
      await page.goto(idpPage);
      await page.getByRole("button", { name: "Continue to the application" }).click();
      await finalPage(page, SSO_HEADING, `form-mode-odd-${postCount}`);
      const callbacks = h.sso.callbacks();
      expect(callbacks).toHaveLength(1);
      expect(statuses).toHaveLength(1);
      expect(sent).toHaveLength(1);
      return {
        status: statuses[0] ?? 0,
        sent: sent[0] ?? Buffer.alloc(0),
        received: callbacks[0]?.body ?? Buffer.alloc(0),
      };
    });
  }

  test("4c. fields named submit and action, CRLF and TAB: the form page submits them, the new SSO gets the same bytes", async () => {
    await useFormMode();
    const fields: Array<[string, string]> = [
      ["SAMLResponse", "PHNhbWxwOlJlc3BvbnNlLz4=\r\nPHg+"],
      ["submit", "shadows form.submit"],
      ["action", "https://evil.example/"],
      ["RelayState", "tab\there *-._~ ü✓"],
    ];
    const run = await postThroughFormMode(fields);
    // The Worker answered with its form page, and the browser re-sent exactly what it had sent.
    expect(run.status).toBe(200);
    expect(run.sent.toString("latin1")).toContain("%0D%0A");
    expect(run.received.toString("latin1")).toBe(run.sent.toString("latin1"));
  });

  test.each([
    ["an escape that is not UTF-8", "SAMLResponse=PHg%2B&RelayState=caf%E9"],
    ["a malformed escape", "SAMLResponse=PHg%2B&RelayState=50%zz"],
    ["a lone LF (browsers send CRLF)", "SAMLResponse=PHg%2B&RelayState=a%0Ab"],
    ["a lone CR", "SAMLResponse=PHg%2B&RelayState=a%0Db"],
    ["NUL (the HTML parser makes it U+FFFD)", "SAMLResponse=PHg%2B&RelayState=a%00b"],
    ["a field named _charset_", "SAMLResponse=PHg%2B&_charset_=latin1"],
  ])("4d. a body with %s is answered with the 307, so the new SSO gets the same bytes", async (_why, rawBody) => {
    await useFormMode();
    const run = await postThroughFormMode([["placeholder", "replaced by the test"]], rawBody);
    expect(run.sent.toString("latin1")).toBe(rawBody);
    expect(run.status).toBe(307);
    expect(run.received.toString("latin1")).toBe(rawBody);
  });
});

describe("OIDC and live changes, in Chromium", () => {
  test("5. OIDC GET callback identified by its iss parameter follows its route, query unchanged", async () => {
    const rawQuery =
      `code=SplxlOBeZQQYbYS6WxSbIA.x-y_z~&state=eyJub25jZSI6Im4tMFM2X1d6QTJNaiJ9.c2ln%2Bbm%2Fl%3D` +
      `&iss=${encodeURIComponent(OIDC_ISSUER)}`;
    // The IdP's authorization endpoint sends the browser to the callback, as an OIDC provider does.
    const authorize = h.idp.redirect("/oidc/authorize", `${h.workerOrigin}/login/callback?${rawQuery}`);
    await withContext(async (_context, page) => {
      await page.goto(authorize);
      await finalPage(page, SSO_HEADING, "oidc");

      const callbacks = h.sso.callbacks();
      expect(callbacks).toHaveLength(1);
      expect(callbacks[0]?.method).toBe("GET");
      expect(callbacks[0]?.rawQuery).toBe(rawQuery);
      expect(callbacks[0]?.body.length).toBe(0);
      const query = new URLSearchParams(callbacks[0]?.rawQuery ?? "");
      expect(query.get("code")).toBe("SplxlOBeZQQYbYS6WxSbIA.x-y_z~");
      expect(query.get("state")).toBe("eyJub25jZSI6Im4tMFM2X1d6QTJNaiJ9.c2ln+bm/l=");
      expect(query.get("iss")).toBe(OIDC_ISSUER);
      expect(query.has("connection")).toBe(false);
      expect(h.auth0.server.received).toEqual([]);
    });
    await decisions(1);
    expect(callbackLogs()[0]).toMatchObject({
      connection: OIDC,
      identifiedBy: "oidc-issuer",
      decision: "new",
      reason: "migrated",
    });
  });

  test("6. a route flipped through the API takes effect for the next login", async () => {
    await withContext(async (_context, page) => {
      const before = await samlPost(FLIPPED);
      await submitAtIdp(page, before);
      await finalPage(page, APP_HEADING, "flip-before");
      expect(h.auth0.callbacks()).toHaveLength(1);
      expectSamlPost(h.auth0.callbacks()[0], before);
      expect(h.sso.server.received).toEqual([]);

      const current = await h.api("GET", `/routes/${FLIPPED}`);
      expect(current.status).toBe(200);
      const etag = current.headers.get("etag");
      expect(etag).not.toBeNull();
      const flipped = await h.api("PATCH", `/routes/${FLIPPED}`, { state: "migrated" }, { "if-match": etag ?? "" });
      expect(flipped.status, JSON.stringify(flipped.body)).toBe(200);
      expect(flipped.body).toMatchObject({ connection: FLIPPED, state: "migrated" });
      expect(flipped.headers.get("x-kv-pending")).toBe("0");

      // The same browser signs in again with a new SAMLResponse.
      const after = await samlPost(FLIPPED);
      await submitAtIdp(page, after);
      await finalPage(page, SSO_HEADING, "flip-after");
      expect(h.sso.callbacks()).toHaveLength(1);
      expectSamlPost(h.sso.callbacks()[0], after);
      expect(h.auth0.callbacks()).toHaveLength(1); // still only the first login
    });
    expect(await decisions(2)).toEqual([
      { decision: "auth0", reason: "legacy" },
      { decision: "new", reason: "migrated" },
    ]);
  });
});
