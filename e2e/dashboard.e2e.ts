/// <reference lib="dom" />
/**
 * The operators' dashboard ({prefix}/) in real Chromium at laptop size, against the
 * Worker in workerd: sign-in (and a wrong token), progress and traffic from real
 * callbacks, search, a state change with confirmation that shows up in the audit
 * log, a stale change (412), the rollout flag, the kill switch, keyboard reach,
 * a failing /stats, sign-out. Every change is checked through the API as well.
 * Screenshots: test-results/e2e/dashboard-*.png.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { Dialog, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type {
  DomControl,
  DomDocument,
  DomElement,
  DomProgress,
  DomRequestInit,
  DomResponse,
} from "../src/dashboard/dom";
import type { DomStorage } from "../src/dashboard/dom";
import { ADMIN_PREFIX, SCREENSHOT_DIR, startHarness, type Harness } from "./support/harness";
import { SSO_CALLBACK_PATH } from "./support/stand-ins";

/**
 * Compile-time only: the browser's own types (lib.dom, in this program) satisfy the
 * hand-written ones the dashboard script is type-checked against (src/dashboard/dom.ts).
 */
type Satisfies<T extends U, U> = [T, U];
export type DomTypesConform = [
  Satisfies<Document, DomDocument>,
  Satisfies<Storage, DomStorage>,
  Satisfies<HTMLInputElement | HTMLSelectElement | HTMLOptionElement | HTMLButtonElement, DomControl>,
  Satisfies<HTMLProgressElement, DomProgress>,
  Satisfies<SVGElement, DomElement>,
  Satisfies<Window["fetch"], (url: string, init: DomRequestInit) => Promise<DomResponse>>,
  Satisfies<Window["confirm"], (message: string) => boolean>,
  Satisfies<Window["setInterval"], (handler: () => void, ms: number) => number>,
  Satisfies<Window["clearInterval"], (id: number | undefined) => void>,
];

const OIDC_ISSUER = "https://hooli.okta.example/oauth2/default";
const XSS_ORG = `org_<img src=x onerror="document.title='pwned'">`;
const TOKEN_KEY = "callback-router.dashboard.token";
const STEP_TIMEOUT_MS = 15_000;
const SAML_BODY = "SAMLResponse=PHNhbWxwOlJlc3BvbnNlLz4%3D&RelayState=demo";

let h: Harness;
let page: Page;
/** Console errors and uncaught exceptions in the dashboard page (CSP violations show up here). */
const pageErrors: string[] = [];

beforeAll(async () => {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  h = await startHarness({ ssoConnections: ["acme-saml"], ssoIssuers: [OIDC_ISSUER] });
  const seeded = await h.api("POST", "/import?mode=replace", {
    settings: {
      mode: "route",
      unknown: "auth0",
      redirect: "307",
      defaultTarget: `${h.sso.origin}${SSO_CALLBACK_PATH}`,
      rollout: { percentage: 0, include: [], exclude: [] },
    },
    routes: [
      { connection: "acme-saml", organization: "org_acme", protocol: "samlp", state: "migrated" },
      { connection: "globex-saml", organization: "org_globex", protocol: "samlp", state: "legacy" },
      { connection: "umbrella-saml", organization: "org_umbrella", protocol: "samlp", state: "migrated" },
      {
        connection: "hooli-okta",
        organization: "org_hooli",
        protocol: "okta",
        state: "migrated",
        match: { oidcIssuer: OIDC_ISSUER },
      },
      { connection: "initech-saml", organization: "org_initech", protocol: "samlp", state: "legacy" },
      { connection: "stark-saml", organization: "org_stark", protocol: "samlp", state: "rollout" },
      { connection: "wayne-adfs", organization: XSS_ORG, protocol: "adfs", state: "legacy" },
      { connection: "wonka-oidc", organization: "org_wonka", protocol: "oidc", state: "legacy" },
    ],
  });
  expect(seeded.status, JSON.stringify(seeded.body)).toBe(200);

  // Traffic for the counters: 3 migrated, 2 legacy, 2 bounced back (one login each, served
  // by Auth0), 1 OIDC by issuer, 1 for a connection not in the table, 1 unidentified:
  // 10 logins (12 callbacks), 6 sent to the new provider, 2 of them bounced.
  for (let i = 0; i < 3; i++) expect(await callback("connection=acme-saml")).toBe(307);
  for (let i = 0; i < 2; i++) expect(await callback("connection=globex-saml")).toBe(302);
  for (let i = 0; i < 2; i++) expect(await callback("connection=umbrella-saml", { follow: true })).toBe(200);
  expect(await callback(`code=abc&state=xyz&iss=${encodeURIComponent(OIDC_ISSUER)}`, { get: true })).toBe(307);
  expect(await callback("connection=ghost-saml")).toBe(302);
  expect(await callback("", { body: "SAMLResponse=bm90LXNhbWw%3D" })).toBe(302);
  // Counts reach the counters a moment later (each isolate batches them).
  await until(
    async () => ((await h.api("GET", "/stats")).body as { totals?: { callbacks?: number } }).totals?.callbacks === 12,
  );

  const context = await h.browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
  page.on("pageerror", (error) => pageErrors.push(error.message));
});

afterAll(async () => {
  await page?.context().close();
  await h?.stop();
});

// ---------------------------------------------------------------------------
// Helpers

/** One callback to the Worker, as the README's curl lines send them; returns the final status. */
async function callback(query: string, options: { follow?: boolean; get?: boolean; body?: string } = {}) {
  const res = await fetch(`${h.workerOrigin}/login/callback${query === "" ? "" : `?${query}`}`, {
    method: options.get === true ? "GET" : "POST",
    headers: options.get === true ? {} : { "content-type": "application/x-www-form-urlencoded" },
    body: options.get === true ? null : (options.body ?? SAML_BODY),
    redirect: options.follow === true ? "follow" : "manual",
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Waits until `ready` holds (expect.poll is for tests, not hooks). */
async function until(ready: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`not ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const dashboardUrl = () => `${h.workerOrigin}${ADMIN_PREFIX}/`;

async function screenshot(name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `dashboard-${name}.png`), fullPage });
}

/** Answers the next confirm() and returns its message. */
function nextDialog(accept: boolean): Promise<string> {
  return new Promise((resolve) => {
    page.once("dialog", (dialog: Dialog) => {
      resolve(dialog.message());
      void (accept ? dialog.accept() : dialog.dismiss());
    });
  });
}

async function statusSays(text: string): Promise<void> {
  await page.getByRole("status").filter({ hasText: text }).waitFor();
}

async function signIn(token: string): Promise<void> {
  await page.getByLabel("Admin token or JWT").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
}

const routeRow = (connection: string) =>
  page.locator("#routes-body tr").filter({ has: page.getByRole("rowheader", { name: connection, exact: true }) });

async function routeState(connection: string): Promise<unknown> {
  return ((await h.api("GET", `/routes/${connection}`)).body as { state?: unknown }).state;
}

// ---------------------------------------------------------------------------

describe("dashboard, in Chromium at 1280×800", () => {
  test("1. a wrong token keeps the sign-in form and shows the API's problem detail", async () => {
    const answer = await page.goto(dashboardUrl());
    expect(answer?.status()).toBe(200);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("token");
    await screenshot("sign-in");

    await signIn("not-the-token-not-the-token-not-the-token");
    const alert = page.getByRole("alert");
    await alert.filter({ hasText: "The bearer token is not valid." }).waitFor();
    expect(await page.locator("#dashboard").isHidden()).toBe(true);
    expect(await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY)).toBeNull();
    await screenshot("sign-in-error");
  });

  test("2. signed in: progress, new-provider share, flags, traffic, the route table", async () => {
    await signIn(h.adminToken);
    await page.locator("#progress-text").filter({ hasText: "3 of 8" }).waitFor();
    expect(await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY)).toBe(h.adminToken);
    expect(await page.locator("#progress-detail").textContent()).toBe(
      "connections migrated (37.5%); 1 in rollout, 4 legacy.",
    );
    expect(await page.locator("progress").evaluate((p: HTMLProgressElement) => [p.value, p.max])).toEqual([3, 8]);
    expect(await page.locator("#mode-banner").textContent()).toBe("Routing: callbacks follow the route table");

    // The new provider kept 4 of 10 logins (3 acme, 1 hooli; umbrella's 2 bounced back to Auth0).
    await page.locator("#share").filter({ hasText: "40%" }).waitFor();
    expect(await page.locator("#share-text").textContent()).toContain("of 10 logins");
    expect(await page.locator("#share-card tbody").innerText()).toBe(
      "Sent to the new provider\t6\nof which bounced back\t2\nStraight to Auth0\t4\nUnidentified\t1\nErrors\t0",
    );

    const flagged = page.locator("#flagged-list > li");
    await flagged.first().waitFor();
    const flags = await flagged.allInnerTexts();
    expect(flags.find((f) => f.startsWith("umbrella-saml"))).toContain(
      "The new provider bounced 100% of the logins sent to it back to Auth0 (2 of 2).",
    );
    expect(flags.find((f) => f.startsWith("ghost-saml"))).toContain(
      "1 login for a connection that is not in the route table.",
    );

    // One row per connection with traffic: the share its logins the new provider kept, then the counts.
    await expect.poll(() => page.locator("#traffic-body tr").count()).toBe(6);
    expect(await page.locator("#traffic-body tr").filter({ hasText: "umbrella-saml" }).innerText()).toBe(
      "umbrella-saml\tmigrated\t0%\t2\t2\t0\t2\t0",
    );
    expect(await page.locator("#traffic-body tr").filter({ hasText: "acme-saml" }).innerText()).toBe(
      "acme-saml\tmigrated\t100%\t3\t3\t0\t0\t0",
    );

    // The route table: all 8, untrusted text shown as text.
    await expect.poll(() => page.locator("#routes-body tr").count()).toBe(8);
    expect(await routeRow("wayne-adfs").locator("td").first().textContent()).toBe(XSS_ORG);
    expect(await page.locator("#routes-body img").count()).toBe(0);
    expect(await page.title()).toBe("Migration dashboard · callback-router");
    expect(await page.locator("#search-count").textContent()).toBe("8 routes");
    // The seed import in the audit log, summarized.
    await page.locator("#audit-body tr").first().filter({ hasText: "import" }).waitFor();
    expect(await page.locator("#audit-body td.change").first().textContent()).toBe(
      "added: 8; changed: none; removed: none; settingsChanged: true",
    );

    await screenshot("overview");
    await screenshot("above-the-fold", false);
  });

  test("3. the search box filters by connection and organization as you type", async () => {
    const search = page.getByLabel("Filter by connection or organization");
    await search.pressSequentially("glob");
    expect(await page.locator("#routes-body tr:visible th").allTextContents()).toEqual(["globex-saml"]);
    await search.fill("");
    await search.pressSequentially("org_ini");
    expect(await page.locator("#routes-body tr:visible th").allTextContents()).toEqual(["initech-saml"]);
    expect(await page.locator("#search-count").textContent()).toBe("1 of 8 routes match");
    await screenshot("search");
    await search.fill("");
    expect(await page.locator("#routes-body tr:visible").count()).toBe(8);
  });

  test("4. a state change asks first, is sent with If-Match, and shows up in the audit log", async () => {
    // Declined: nothing is sent.
    await page.getByLabel("State of wonka-oidc").selectOption("migrated");
    const declined = nextDialog(false);
    await page.getByRole("button", { name: "Apply the chosen state to wonka-oidc" }).click();
    expect(await declined).toContain("Change wonka-oidc from legacy to migrated?");
    await statusSays("wonka-oidc unchanged: still legacy.");
    expect(await page.getByLabel("State of wonka-oidc").inputValue()).toBe("legacy");
    expect(await routeState("wonka-oidc")).toBe("legacy");

    // Accepted.
    await page.getByLabel("State of initech-saml").selectOption("migrated");
    const accepted = nextDialog(true);
    await page.getByRole("button", { name: "Apply the chosen state to initech-saml" }).click();
    expect(await accepted).toBe(
      "Change initech-saml from legacy to migrated?\n\nIts callbacks will go to the new provider (all locations within about 60 s).",
    );
    await statusSays("initech-saml is now migrated (version 2).");
    expect(await routeState("initech-saml")).toBe("migrated");
    expect(await routeRow("initech-saml").locator("td.num").textContent()).toBe("2");
    await page.locator("#progress-text").filter({ hasText: "4 of 8" }).waitFor();

    const newest = page.locator("#audit-body tr").first();
    await newest.filter({ hasText: "initech-saml" }).waitFor();
    const cells = await newest.locator("td").allTextContents();
    expect(cells.slice(1)).toEqual(["token:admin", "route.update", "initech-saml", "state: legacy → migrated"]);
    await page.locator("#audit-card").scrollIntoViewIfNeeded();
    await screenshot("state-changed");
  });

  test("5. a change against a stale version is refused (412) and the row is reloaded", async () => {
    // Someone else changes globex-saml after the page read it.
    const current = await h.api("GET", "/routes/globex-saml");
    const behind = await h.api(
      "PATCH",
      "/routes/globex-saml",
      { state: "rollout" },
      { "if-match": current.headers.get("etag") ?? "" },
    );
    expect(behind.status).toBe(200);

    await page.getByLabel("State of globex-saml").selectOption("migrated");
    const dialog = nextDialog(true);
    await page.getByRole("button", { name: "Apply the chosen state to globex-saml" }).click();
    await dialog;
    await statusSays("The row now shows the current route");
    expect(await page.getByRole("status").textContent()).toMatch(/^globex-saml was not changed: .*version/);
    expect(await page.getByLabel("State of globex-saml").inputValue()).toBe("rollout");
    expect(await routeRow("globex-saml").locator("td.num").textContent()).toBe("2");
    expect(await routeState("globex-saml")).toBe("rollout");
  });

  test("6. the rollout flag: percentage and lists saved with If-Match", async () => {
    await page.getByLabel("Percentage of organizations").fill("25");
    await page.getByLabel("Always include").fill("org_acme, stark-saml");
    await page.getByLabel("Always exclude").fill(" org_globex ,");
    await page.getByRole("button", { name: "Save rollout" }).click();
    await statusSays("Rollout saved: 25% of organizations; always new: org_acme, stark-saml; never: org_globex.");
    expect((await h.api("GET", "/rollout")).body).toEqual({
      percentage: 25,
      include: ["org_acme", "stark-saml"],
      exclude: ["org_globex"],
    });
    expect(await page.getByLabel("Always exclude").inputValue()).toBe("org_globex");
    await page.locator("#audit-body tr").first().filter({ hasText: "rollout.update" }).waitFor();
    expect(await page.locator("#audit-body tr td.change").first().textContent()).toBe(
      "rollout.percentage: 0 → 25; rollout.include: none → org_acme, stark-saml; rollout.exclude: none → org_globex",
    );

    // Someone else changes the flag meanwhile: the page's edit is refused (412), and it shows theirs.
    const theirs = await h.api("PUT", "/rollout", { percentage: 40, include: [], exclude: [] });
    expect(theirs.status).toBe(200);
    await page.getByLabel("Percentage of organizations").fill("50");
    await page.getByRole("button", { name: "Save rollout" }).click();
    await page.locator("#rollout-error").filter({ hasText: "The form shows the current values now." }).waitFor();
    expect(await page.locator("#rollout-error").textContent()).toMatch(
      /^Rollout not saved: settings are at version \d+, not \d+/,
    );
    // Announced in the status region too.
    await statusSays("Rollout not saved: settings are at version");
    expect(await page.getByLabel("Percentage of organizations").inputValue()).toBe("40");
    expect(((await h.api("GET", "/rollout")).body as { percentage?: number }).percentage).toBe(40);
    // Saved again on the fresh values.
    await page.getByLabel("Percentage of organizations").fill("25");
    await page.getByLabel("Always include").fill("org_acme, stark-saml");
    await page.getByLabel("Always exclude").fill("org_globex");
    await page.getByRole("button", { name: "Save rollout" }).click();
    await statusSays("Rollout saved: 25% of organizations; always new: org_acme, stark-saml; never: org_globex.");
    await page.locator("#rollout-error").waitFor({ state: "hidden" });
  });

  test("7. the kill switch, on and off, each after confirmation", async () => {
    const toggle = page.getByRole("switch", { name: /Kill switch/ });
    expect(await toggle.getAttribute("aria-checked")).toBe("false");

    const on = nextDialog(true);
    await toggle.click();
    expect(await on).toContain("Turn the kill switch ON?");
    await statusSays("Kill switch ON: every callback goes to Auth0.");
    expect(await toggle.getAttribute("aria-checked")).toBe("true");
    expect(await page.locator("#mode-banner").textContent()).toBe("Kill switch ON: every callback goes to Auth0");
    expect(((await h.api("GET", "/settings")).body as { mode?: string }).mode).toBe("passthrough");
    await page.locator("#audit-body tr").first().filter({ hasText: "mode: route → passthrough" }).waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot("kill-switch-on", false);

    // The rollout form's ETag follows the settings version the switch moved on: saving still works.
    await page.getByLabel("Percentage of organizations").fill("30");
    await page.getByRole("button", { name: "Save rollout" }).click();
    await statusSays("Rollout saved: 30%");

    const off = nextDialog(true);
    await toggle.click();
    expect(await off).toContain("Turn the kill switch OFF?");
    await statusSays("Kill switch OFF: callbacks follow the route table.");
    expect(await toggle.getAttribute("aria-checked")).toBe("false");
    expect(((await h.api("GET", "/settings")).body as { mode?: string }).mode).toBe("route");
  });

  test("8. keyboard: Tab reaches the kill switch and the state controls, with a visible focus ring", async () => {
    // From the top of the page: the skip link is the first stop.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.getByRole("link", { name: "Skip to content" }).focus();
    const reached: string[] = [];
    for (let i = 0; i < 30 && !reached.some((r) => r.startsWith("State of")); i++) {
      await page.keyboard.press("Tab");
      reached.push(
        await page.evaluate(() => {
          const el = document.activeElement;
          return el?.getAttribute("aria-label") ?? el?.getAttribute("role") ?? el?.textContent?.trim() ?? "";
        }),
      );
      if (reached.at(-1) === "switch") {
        const outline = await page.evaluate(() => {
          const style = getComputedStyle(document.activeElement as Element);
          return `${style.outlineStyle} ${style.outlineWidth}`;
        });
        expect(outline).toBe("solid 3px");
        await screenshot("keyboard-focus", false);
        // Space operates it; declining the confirmation changes nothing.
        const declined = nextDialog(false);
        await page.keyboard.press("Space");
        expect(await declined).toContain("Turn the kill switch ON?");
        await statusSays("Kill switch unchanged: OFF.");
      }
    }
    expect(reached, reached.join(" | ")).toContain("switch");
    expect(reached.at(-1)).toBe("State of acme-saml");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe(
      "Apply the chosen state to acme-saml",
    );
  });

  test("9. a failing /stats shows that section's error; the rest keeps working", async () => {
    await page.route(`**${ADMIN_PREFIX}/stats`, (route) =>
      route.fulfill({
        status: 503,
        contentType: "application/problem+json",
        body: JSON.stringify({ type: "about:blank", title: "Unavailable", status: 503, detail: "Counters are down." }),
      }),
    );
    await page.getByRole("button", { name: "Refresh" }).click();
    await page
      .locator("#stats-error")
      .filter({ hasText: "Traffic statistics unavailable: Counters are down." })
      .waitFor();
    await statusSays("Reloaded at");
    expect(await page.locator("#traffic-body tr").count()).toBe(0);
    // Nothing stale is left in the section.
    expect(await page.locator("#share-text").textContent()).toBe("");
    expect(await page.locator("#total-new").textContent()).toBe("–");
    expect(await page.locator("#flagged-list li").count()).toBe(0);
    expect(await page.locator("#progress-text").textContent()).toBe("4 of 8");
    expect(await page.locator("#routes-body tr").count()).toBe(8);
    expect(await page.locator("#audit-body tr").count()).toBeGreaterThan(0);
    await screenshot("stats-error", false);
    await page.unroute(`**${ADMIN_PREFIX}/stats`);
  });

  test("10. sign-out clears the token and the data; a reload asks to sign in again", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Admin token or JWT").waitFor();
    expect(await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY)).toBeNull();
    expect(await page.locator("#dashboard").isHidden()).toBe(true);
    expect(await page.locator("#routes-body tr").count()).toBe(0);
    await page.reload();
    await page.getByLabel("Admin token or JWT").waitFor();
    expect(await page.locator("#dashboard").isHidden()).toBe(true);
  });

  test("11. no console errors (no CSP violation) in the whole session", () => {
    // Chromium logs the API's expected 401/412/503 answers as failed loads; nothing else may show up.
    expect(
      pageErrors.filter(
        (e) => !/^Failed to load resource: the server responded with a status of (401|412|503)\b/.test(e),
      ),
    ).toEqual([]);
  });
});
