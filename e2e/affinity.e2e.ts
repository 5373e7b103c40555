/**
 * Transaction affinity in real Chromium: the browser keeps the Worker's cookie
 * (Secure, HttpOnly, SameSite=None, Path=/login/callback) from the login start
 * Auth0 answers, sends it with the IdP's cross-site callback, and the callback
 * of a login Auth0 started finishes at Auth0 — with no bounce — while a login
 * started elsewhere reaches the new provider. Table: `unknown: probe`, the
 * connections migrated.
 *
 *   npm run test:e2e        (vitest run -c vitest.e2e.config.ts)
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { makeSamlResponse } from "../test/fixtures/saml";
import { AUTH0_TENANT, SCREENSHOT_DIR, startHarness, type Harness } from "./support/harness";
import { escapeHtml, htmlPage } from "./support/recording-server";
import { AUTH0_CALLBACK_PATH } from "./support/stand-ins";

const SAML = "acme-saml";
const OIDC = "contoso-waad";
const APP_HEADING = "Application: signed in via Auth0";
const STEP_TIMEOUT_MS = 15_000;

let h: Harness;
let n = 0;

beforeAll(async () => {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  h = await startHarness({
    ssoConnections: [SAML],
    ssoIssuers: [],
    bindings: { AFFINITY_SECRET: "e2e-affinity-secret-0123456789abcdefgh", STATS_FLUSH_MS: "0" },
  });
});

afterAll(async () => {
  await h?.stop();
});

beforeEach(async () => {
  h.auth0.clear();
  h.sso.clear();
  h.idp.server.clear();
  h.workerLogs.length = 0;
  await h.replaceTable(
    [
      { connection: SAML, organization: "org_acme", protocol: "samlp", state: "migrated" },
      { connection: OIDC, organization: "org_contoso", protocol: "waad", state: "migrated" },
    ],
    "probe",
  );
});

async function withContext<T>(run: (context: BrowserContext, page: Page) => Promise<T>): Promise<T> {
  const context = await h.browser.newContext();
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  try {
    return await run(context, await context.newPage());
  } finally {
    await context.close();
  }
}

function callbackLogs(): Array<Record<string, unknown>> {
  return h.workerLogs.filter((line) => line["event"] === "callback");
}

async function affinityCookies(context: BrowserContext) {
  return (await context.cookies(h.workerOrigin + AUTH0_CALLBACK_PATH)).filter((c) => c.name.startsWith("cra-"));
}

/**
 * An OIDC login Auth0 starts: /authorize (through the Worker) → 302 to the IdP's page,
 * whose "Sign in" link returns code + state (no iss, like Entra ID) to the callback.
 */
function oidcLogin(): { start: string; state: string } {
  n++;
  const state = `auth0-state-${n}-${"x".repeat(20)}`;
  const idpPath = `/oidc/authorize/${n}`;
  const back = `${h.workerOrigin}${AUTH0_CALLBACK_PATH}?code=idp-code-${n}&state=${encodeURIComponent(state)}&session_state=s${n}`;
  h.idp.page(
    idpPath,
    htmlPage("Entra ID", `<h1>Entra ID</h1><p>Tab ${n}</p><a href="${escapeHtml(back)}">Sign in</a>`),
  );
  const query = new URLSearchParams({ kind: "oidc", connection: OIDC, state, idp_path: idpPath, client_id: "app" });
  return { start: `${h.workerOrigin}/authorize?${query}`, state };
}

describe("transaction affinity in Chromium", () => {
  test("an OIDC login Auth0 started (no iss) finishes at Auth0 without a bounce, under unknown: probe", async () => {
    const login = oidcLogin();
    await withContext(async (context, page) => {
      await page.goto(login.start);
      await page.getByRole("heading", { name: "Entra ID" }).waitFor();
      // The browser kept the Worker's cookie with exactly these attributes.
      const [cookie, ...others] = await affinityCookies(context);
      expect(others).toEqual([]);
      expect(cookie).toMatchObject({ path: "/login/callback", secure: true, httpOnly: true, sameSite: "None" });
      expect(cookie?.value).not.toContain(login.state);
      await page.getByRole("link", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: APP_HEADING }).waitFor();
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, "affinity-oidc.png"), fullPage: true });
      // Finished: the cookie is gone.
      expect(await affinityCookies(context)).toEqual([]);
    });
    expect(h.sso.callbacks()).toEqual([]);
    const [callback] = h.auth0.callbacks();
    expect(callback?.rawQuery).toBe(`code=idp-code-${n}&state=${encodeURIComponent(login.state)}&session_state=s${n}`);
    expect(callbackLogs().map((l) => [l["decision"], l["reason"], l["affinity"], l["connection"]])).toEqual([
      ["auth0", "auth0-transaction", "match", OIDC],
    ]);
  });

  test("a login the new provider started reaches the new provider, in the same browser", async () => {
    const auth0Login = oidcLogin();
    await withContext(async (context, page) => {
      // An Auth0 login left open in this browser: its cookie is there, and must not capture this one.
      await page.goto(auth0Login.start);
      await page.getByRole("heading", { name: "Entra ID" }).waitFor();
      expect(await affinityCookies(context)).toHaveLength(1);
      const elsewhere = h.idp.page(
        "/oidc/started-by-new-provider",
        htmlPage(
          "Okta",
          `<h1>Okta</h1><a href="${escapeHtml(`${h.workerOrigin}${AUTH0_CALLBACK_PATH}?code=c&state=state-made-by-new-provider`)}">Sign in</a>`,
        ),
      );
      await page.goto(elsewhere);
      await page.getByRole("link", { name: "Sign in" }).click();
      await expect.poll(() => h.sso.callbacks().length).toBeGreaterThan(0);
    });
    expect(h.sso.callbacks()[0]?.rawQuery).toBe("code=c&state=state-made-by-new-provider");
    expect(callbackLogs()[0]).toMatchObject({ decision: "new", reason: "unidentified", affinity: "no-match" });
  });

  test("two tabs, each mid-login: both finish at Auth0", async () => {
    const first = oidcLogin();
    const second = oidcLogin();
    await withContext(async (context, page) => {
      const other = await context.newPage();
      await page.goto(first.start);
      await other.goto(second.start);
      await page.getByRole("heading", { name: "Entra ID" }).waitFor();
      await other.getByRole("heading", { name: "Entra ID" }).waitFor();
      expect(await affinityCookies(context)).toHaveLength(2);
      await other.getByRole("link", { name: "Sign in" }).click();
      await other.getByRole("heading", { name: APP_HEADING }).waitFor();
      await page.getByRole("link", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: APP_HEADING }).waitFor();
    });
    expect(h.sso.callbacks()).toEqual([]);
    expect(h.auth0.callbacks().map((c) => new URLSearchParams(c.rawQuery ?? "").get("state"))).toEqual([
      second.state,
      first.state,
    ]);
  });

  test("36 logins left open in one browser: a callback leaves the newest 32 but its own (Chromium lists them oldest first)", async () => {
    await withContext(async (context, page) => {
      const created: string[] = [];
      let newest = oidcLogin();
      for (let i = 0; i < 36; i++) {
        if (i > 0) newest = oidcLogin();
        await page.goto(newest.start);
        await page.getByRole("heading", { name: "Entra ID" }).waitFor();
        const names = (await affinityCookies(context)).map((c) => c.name);
        const added = names.filter((name) => !created.includes(name));
        expect(added).toHaveLength(1);
        created.push(added[0]!);
      }
      await page.getByRole("link", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: APP_HEADING }).waitFor();
      // Expired by the callback's answer: the finished one and the 4 oldest.
      const left = (await affinityCookies(context)).map((c) => c.name).sort();
      expect(left).toEqual(created.slice(4, 35).sort());
    });
    expect(callbackLogs().map((l) => [l["decision"], l["reason"], l["affinity"]])).toEqual([
      ["auth0", "auth0-transaction", "match"],
    ]);
  });

  test("an SP-initiated SAML login (HTTP-POST binding) of a migrated connection finishes at Auth0; IdP-initiated goes to the new provider", async () => {
    n++;
    const id = `_e2e${n}0123456789abcdef0123456789abcdef`;
    const relayState = `relay-${n}`;
    const action = `${h.workerOrigin}${AUTH0_CALLBACK_PATH}?connection=${SAML}`;
    const response = (inResponseTo: string | undefined) =>
      makeSamlResponse({
        form: "prefixed",
        audience: `urn:auth0:${AUTH0_TENANT}:${SAML}`,
        issuer: "https://idp.acme.example/metadata",
        destination: action,
        ...(inResponseTo === undefined ? {} : { inResponseTo }),
      });
    const spInitiated = await response(id);
    const idpInitiated = await response(undefined);
    const form = (fields: Array<[string, string]>) =>
      `<form method="post" action="${escapeHtml(action)}">` +
      fields.map(([k, v]) => `<input type="hidden" name="${k}" value="${escapeHtml(v)}">`).join("") +
      `<button type="submit">Continue to the application</button></form>`;
    // The IdP's SSO endpoint receives Auth0's AuthnRequest (POST) and answers with its own form.
    const ssoPath = `/saml/sso/${n}`;
    h.idp.page(
      ssoPath,
      htmlPage(
        "Acme IdP",
        `<h1>Acme IdP</h1>${form([
          ["SAMLResponse", spInitiated],
          ["RelayState", relayState],
        ])}`,
      ),
    );
    const idpInitiatedPage = h.idp.page(
      `/saml/idp-initiated/${n}`,
      htmlPage("Acme portal", `<h1>Acme portal</h1>${form([["SAMLResponse", idpInitiated]])}`),
    );
    const start = `${h.workerOrigin}/authorize?${new URLSearchParams({
      kind: "saml-post",
      connection: SAML,
      state: relayState,
      id,
      idp_path: ssoPath,
    })}`;

    await withContext(async (context, page) => {
      await page.goto(start);
      // Auth0's auto-post form took the browser to the IdP with the AuthnRequest.
      await page.getByRole("heading", { name: "Acme IdP" }).waitFor();
      expect(await affinityCookies(context)).toHaveLength(1);
      await page.getByRole("button", { name: "Continue to the application" }).click();
      await page.getByRole("heading", { name: APP_HEADING }).waitFor();
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, "affinity-saml-post.png"), fullPage: true });
      // Same browser, IdP-initiated (no InResponseTo, no RelayState): the table says migrated.
      await page.goto(idpInitiatedPage);
      await page.getByRole("button", { name: "Continue to the application" }).click();
      await page.getByRole("heading", { name: "Signed in at new SSO" }).waitFor();
    });
    const request = h.idp.server.to(ssoPath)[0];
    expect(request?.method).toBe("POST");
    expect(new URLSearchParams(request?.body.toString("utf8")).get("RelayState")).toBe(relayState);
    const [atAuth0] = h.auth0.callbacks();
    expect(atAuth0?.rawQuery).toBe(`connection=${SAML}`);
    expect(atAuth0?.body.toString("latin1")).toBe(
      new URLSearchParams([
        ["SAMLResponse", spInitiated],
        ["RelayState", relayState],
      ]).toString(),
    );
    expect(h.sso.callbacks()).toHaveLength(1);
    expect(callbackLogs().map((l) => [l["decision"], l["reason"]])).toEqual([
      ["auth0", "auth0-transaction"],
      ["new", "migrated"],
    ]);
  });

  test("a real bounce (the router's 307, the new provider's 307 back with fallback=auth0) counts and flags; 40 unmarked ones do not", async () => {
    type Stats = { counts: { new: number; fallback: number }; fallbackShare: number | null; flags: string[] };
    const stats = async (): Promise<Stats> => {
      const answer = await h.api("GET", `/stats/${OIDC}`);
      expect(answer.status).toBe(200);
      return answer.body as Stats;
    };
    const before = await stats();
    // An IdP-initiated OIDC callback of the migrated connection the new provider does not know: it bounces.
    const back = `${h.workerOrigin}${AUTH0_CALLBACK_PATH}?connection=${OIDC}&code=bounce-code&state=bounce-state`;
    const link = h.idp.page(
      "/oidc/bounced",
      htmlPage("Entra ID", `<h1>Entra ID</h1><a href="${escapeHtml(back)}">Sign in</a>`),
    );
    await withContext(async (context, page) => {
      await page.goto(link);
      await page.getByRole("link", { name: "Sign in" }).click();
      await page.getByRole("heading", { name: APP_HEADING }).waitFor();
      // The router's mark, as the browser kept it: Secure, HttpOnly, SameSite=None, callbacks only.
      const marks = (await context.cookies(h.workerOrigin + AUTH0_CALLBACK_PATH)).filter((c) =>
        c.name.startsWith("crb"),
      );
      expect(marks).toMatchObject([
        { name: `crb-${OIDC}`, path: "/login/callback", secure: true, httpOnly: true, sameSite: "None" },
      ]);
    });
    expect(h.sso.callbacks()).toHaveLength(1);
    // This login's callbacks (a slow earlier test's browser may still finish an Auth0 login of OIDC).
    const thisLogin = () => callbackLogs().filter((l) => l["reason"] !== "auth0-transaction");
    expect(thisLogin().map((l) => [l["decision"], l["reason"], l["fallbackMark"]])).toEqual([
      ["new", "migrated", undefined],
      ["auth0", "fallback-bounce", "valid"],
    ]);
    await expect.poll(async () => (await stats()).counts.fallback).toBe(before.counts.fallback + 1);
    const bounced = await stats();
    expect(bounced.counts.new).toBe(before.counts.new + 1);
    expect(bounced.flags).toContain("fallback-share-high");

    // Anyone can send the same callback with fallback=auth0: forwarded to Auth0, never counted.
    const atAuth0 = h.auth0.callbacks().length;
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${back}&fallback=auth0`, { redirect: "manual" });
      await res.arrayBuffer();
      expect(res.status).toBeLessThan(500);
    }
    expect(h.auth0.callbacks()).toHaveLength(atAuth0 + 40);
    expect(h.auth0.callbacks().at(-1)?.rawQuery).toBe(`connection=${OIDC}&code=bounce-code&state=bounce-state`);
    expect(thisLogin().filter((l) => l["fallbackMark"] === "missing")).toHaveLength(40);
    const after = await stats();
    expect(after.counts).toMatchObject({ new: bounced.counts.new, fallback: bounced.counts.fallback });
    expect(after.fallbackShare).toBe(bounced.fallbackShare);
  });
});
