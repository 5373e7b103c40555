/// <reference lib="dom" />
/**
 * The operators' dashboard ({prefix}/) in real Chromium, against the Worker in workerd:
 * sign-in (and a wrong token), progress and traffic from a scripted mix of real
 * callbacks, the time range and its charts, search, a state change with confirmation
 * that shows up in the audit log and the traffic table, a stale change (412), the
 * rollout flag, the kill switch, one connection's view, keyboard use, 1440 px and
 * 360 px with no element wider than the viewport, a failing /stats, sign-out.
 * Every change is checked through the API as well.
 * Screenshots: test-results/e2e/dashboard-*.png.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { BrowserContext, Dialog, Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { nodeIo } from "../cli/node-io";
import { runCli } from "../cli/run";
import { ADMIN_PREFIX, SCREENSHOT_DIR, startHarness, type Harness } from "./support/harness";

const OIDC_ISSUER = "https://hooli.okta.example/oauth2/default";
const XSS_ORG = `org_<img src=x onerror="document.title='pwned'">`;
const TOKEN_KEY = "callback-router.dashboard.token";
const STEP_TIMEOUT_MS = 15_000;
const SAML_BODY = "SAMLResponse=PHNhbWxwOlJlc3BvbnNlLz4%3D&RelayState=demo";

let h: Harness;
let page: Page;
/** Console errors and uncaught exceptions in the dashboard page (CSP violations show up here). */
const pageErrors: string[] = [];

/** The table every test starts from (routability: SAML routable, okta with an issuer partial, ADFS and OIDC without matches unroutable). */
const TABLE: Array<Record<string, unknown>> = [
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
  { connection: "outage-saml", organization: "org_outage", protocol: "samlp", state: "legacy" },
];

beforeAll(async () => {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  // AFFINITY_SECRET as deployed: a bounce counts only with the mark the Worker set on its 307 (bounce-mark.ts).
  h = await startHarness({
    ssoConnections: ["acme-saml"],
    ssoIssuers: [OIDC_ISSUER],
    bindings: { AFFINITY_SECRET: "e2e-affinity-secret-0123456789abcdefgh" },
  });
  await h.replaceTable(TABLE);

  // The scripted mix (its numbers are in the notes and asserted below): 3 migrated (acme),
  // 2 legacy (globex), 2 bounced back (umbrella: one login each, served by Auth0), 1 OIDC
  // by issuer (hooli), 1 for a connection not in the table (ghost), 1 unidentified, and 2
  // legacy logins Auth0 answers with a 503 (outage): 12 logins, 14 callbacks, 6 sent to
  // the new provider, 2 of them bounced, 6 straight to Auth0, 2 errors.
  for (let i = 0; i < 3; i++) expect(await callback("connection=acme-saml")).toBe(307);
  for (let i = 0; i < 2; i++) expect(await callback("connection=globex-saml")).toBe(302);
  for (let i = 0; i < 2; i++) expect(await callback("connection=umbrella-saml", { follow: true })).toBe(200);
  expect(await callback(`code=abc&state=xyz&iss=${encodeURIComponent(OIDC_ISSUER)}`, { get: true })).toBe(307);
  expect(await callback("connection=ghost-saml")).toBe(302);
  expect(await callback("", { body: "SAMLResponse=bm90LXNhbWw%3D" })).toBe(302);
  for (let i = 0; i < 2; i++) expect(await callback("connection=outage-saml")).toBe(503);
  // Counts reach the counters a moment later (each isolate batches them).
  await until(
    async () => ((await h.api("GET", "/stats")).body as { totals?: { callbacks?: number } }).totals?.callbacks === 14,
  );

  page = await newPage(1440, 900);
});

async function newPage(width: number, height: number): Promise<Page> {
  const context: BrowserContext = await h.browser.newContext({ viewport: { width, height } });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const opened = await context.newPage();
  opened.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
  opened.on("pageerror", (error) => pageErrors.push(error.message));
  return opened;
}

afterAll(async () => {
  await page?.context().close();
  await h?.stop();
});

// ---------------------------------------------------------------------------
// Helpers

/**
 * One callback to the Worker, as the README's curl lines send them; returns the final status.
 * Followed like a browser: 307s re-send the same method and body, and the Worker's cookies
 * (its bounce mark, `crb-…`) go back to it, so a bounce counts as one.
 */
async function callback(query: string, options: { follow?: boolean; get?: boolean; body?: string } = {}) {
  let url = `${h.workerOrigin}/login/callback${query === "" ? "" : `?${query}`}`;
  const cookies = new Map<string, string>();
  for (let hop = 0; ; hop++) {
    const toWorker = url.startsWith(h.workerOrigin);
    const cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join("; ");
    const res = await fetch(url, {
      method: options.get === true ? "GET" : "POST",
      headers: {
        ...(options.get === true ? {} : { "content-type": "application/x-www-form-urlencoded" }),
        ...(toWorker && cookie !== "" ? { cookie } : {}),
      },
      body: options.get === true ? null : (options.body ?? SAML_BODY),
      redirect: "manual",
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    if (toWorker) {
      for (const line of res.headers.getSetCookie()) {
        const [pair = ""] = line.split(";");
        const at = pair.indexOf("=");
        if (at > 0) cookies.set(pair.slice(0, at), pair.slice(at + 1));
      }
    }
    const location = res.headers.get("location");
    if (options.follow !== true || location === null || res.status < 300 || res.status > 399 || hop >= 5) {
      return res.status;
    }
    url = new URL(location, url).toString();
  }
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

/** A PNG's width in pixels, from its IHDR chunk (bytes 16–19, big-endian; PNG spec §11.2.2). */
function pngWidth(file: string): number {
  return readFileSync(file).readUInt32BE(16);
}

async function screenshot(name: string, fullPage = true, on: Page = page): Promise<string> {
  const file = path.join(SCREENSHOT_DIR, `dashboard-${name}.png`);
  await on.screenshot({ path: file, fullPage });
  return file;
}

/**
 * Elements wider than the viewport or reaching past its right edge, ignoring what sits
 * inside a scroll box (tables scroll inside their card) — and whether the page itself
 * scrolls sideways.
 */
async function overflowing(on: Page): Promise<{ pageScrolls: boolean; elements: string[] }> {
  return on.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const elements: string[] = [];
    for (const el of Array.from(document.querySelectorAll("body *"))) {
      if (el.closest(".scroll") !== null && !el.classList.contains("scroll")) continue;
      const box = el.getBoundingClientRect();
      if (box.width === 0 && box.height === 0) continue;
      if (box.width > width + 0.5 || box.right > width + 0.5) {
        elements.push(
          `${el.tagName.toLowerCase()}${el.id === "" ? "" : `#${el.id}`}.${el.className} ${Math.round(box.right)}`,
        );
      }
    }
    return { pageScrolls: document.documentElement.scrollWidth > width, elements };
  });
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

async function trafficRow(connection: string, on: Page = page): Promise<string> {
  return on
    .locator("#traffic-body tr")
    .filter({ has: on.getByRole("rowheader", { name: connection, exact: true }) })
    .innerText();
}

/** Chooses a time range and waits for the /stats call it makes; returns that call's query. */
async function chooseRange(label: string, by: "click" | "key" = "click"): Promise<URLSearchParams> {
  const request = page.waitForRequest((r) => new URL(r.url()).pathname === `${ADMIN_PREFIX}/stats`);
  if (by === "click") await page.locator("#range label").filter({ hasText: label }).click();
  else await page.keyboard.press("ArrowRight");
  return new URL((await request).url()).searchParams;
}

async function routeState(connection: string): Promise<unknown> {
  return ((await h.api("GET", `/routes/${connection}`)).body as { state?: unknown }).state;
}

/** The routes CLI in this process against the test Worker (as `npm run dev` seeds the table); its stdout. */
async function cli(args: string[], cwd = os.tmpdir()): Promise<string> {
  const out: string[] = [];
  const code = await runCli(
    args,
    nodeIo(
      cwd,
      (text) => out.push(text),
      (text) => out.push(`stderr: ${text}`),
      { ROUTER_URL: h.workerOrigin, ROUTER_TOKEN: h.adminToken },
    ),
  );
  expect(code, out.join("\n")).toBe(0);
  return out.join("\n");
}

/** `text`'s one match of `pattern`'s first group (fails the test when there is none). */
function wordIn(text: string, pattern: RegExp): string {
  const found = pattern.exec(text);
  expect(found, `${String(pattern)} in:\n${text}`).not.toBeNull();
  return found?.[1] ?? "";
}

/**
 * Every route's State select and Apply button that is not on screen when the page is scrolled
 * (vertically only) to its row: off the viewport's sides, clipped by a scroll box, or under
 * the sticky header. Scroll boxes stay at scrollLeft 0: no sideways scrolling.
 */
async function offScreenControls(on: Page): Promise<string[]> {
  return on.evaluate(() => {
    const misses: string[] = [];
    const width = document.documentElement.clientWidth;
    for (const control of Array.from(
      document.querySelectorAll<HTMLElement>("#routes-body select, #routes-body button"),
    )) {
      const top = control.getBoundingClientRect().top + window.scrollY;
      window.scrollTo(0, top - window.innerHeight / 2);
      const box = control.getBoundingClientRect();
      const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
      const name = control.getAttribute("aria-label") ?? control.tagName;
      if (box.left < 0 || box.right > width) misses.push(`${name}: x ${Math.round(box.left)}–${Math.round(box.right)}`);
      else if (hit === null || !(hit === control || control.contains(hit))) misses.push(`${name}: covered or clipped`);
    }
    window.scrollTo(0, 0);
    return misses;
  });
}

/**
 * Each chart canvas' edge pixels that are drawn on (an axis label cut by the canvas edge, such
 * as "100%" wider than the axis): [chart, edge, count] for every edge that is not blank.
 */
async function clippedChartEdges(on: Page, scope: string): Promise<string[]> {
  return on.evaluate((selector) => {
    const out: string[] = [];
    document.querySelectorAll<HTMLCanvasElement>(`${selector} canvas`).forEach((canvas, i) => {
      const g = canvas.getContext("2d");
      if (g === null) return;
      const { width, height } = canvas;
      const edges: Array<[string, number, number, number, number]> = [
        ["left", 0, 0, 1, height],
        ["right", width - 1, 0, 1, height],
        ["top", 0, 0, width, 1],
        ["bottom", 0, height - 1, width, 1],
      ];
      for (const [edge, x, y, w, h] of edges) {
        const pixels = g.getImageData(x, y, w, h).data;
        let drawn = 0;
        for (let p = 3; p < pixels.length; p += 4) if ((pixels[p] ?? 0) > 0) drawn++;
        if (drawn > 0) out.push(`chart ${i} ${edge}: ${drawn} px`);
      }
    });
    return out;
  }, scope);
}

// ---------------------------------------------------------------------------

describe("dashboard, in Chromium at 1440×900", () => {
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
    await page.locator("#progress-text").filter({ hasText: "3 of 9" }).waitFor();
    expect(await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY)).toBe(h.adminToken);
    expect(await page.locator("#progress-detail").textContent()).toBe(
      "connections migrated (33.3%); 1 in rollout, 5 legacy.",
    );
    expect(await page.locator("progress").evaluate((p: HTMLProgressElement) => [p.value, p.max])).toEqual([3, 9]);
    expect(await page.locator("#mode-banner").textContent()).toBe("Routing: callbacks follow the route table");

    // The new provider kept 4 of 12 logins (3 acme, 1 hooli; umbrella's 2 bounced back to Auth0).
    await page.locator("#share").filter({ hasText: "33.3%" }).waitFor();
    expect(await page.locator("#share-card h2").textContent()).toBe("Logins served by the new provider, last 1 h");
    expect(await page.locator("#share-text").textContent()).toBe(
      "of 12 logins in the last 1 h served by the new provider (a bounced login counts once, as served by Auth0).",
    );
    expect(await page.locator("#share-card tbody").innerText()).toBe(
      "Sent to the new provider\t6\nof which bounced back\t2\nStraight to Auth0\t6\nof which started by Auth0 (affinity)\t0\nUnidentified\t1\nErrors\t2",
    );
    // Two uPlot charts, each a canvas with its text summary.
    await expect.poll(() => page.locator("#charts figure canvas").count()).toBe(2);
    expect(await page.locator("#charts figcaption").allTextContents()).toEqual([
      "Share of logins served by the new provider",
      "Bounces and errors",
    ]);
    // The range's share is exact; the newest minutes' shares depend on where the minute turned.
    expect(await page.locator("#share-chart-summary").textContent()).toMatch(
      /^Share of logins served by the new provider, per minute, last 1 h: 33\.3% overall; newest with logins: \d\d:\d\d: /,
    );

    const flagged = page.locator("#flagged-list > li");
    await flagged.first().waitFor();
    const flags = await flagged.allInnerTexts();
    expect(flags.find((f) => f.startsWith("umbrella-saml"))).toContain(
      "The new provider bounced 100% of the logins sent to it back to Auth0 (2 of 2).",
    );
    // Every name without a route is one (not in table) row: a stranger's names make no rows.
    expect(flags.find((f) => f.startsWith("(not in table)"))).toContain(
      "1 login for connections that are not in the route table (about 1 distinct name).",
    );
    expect(flags.find((f) => f.startsWith("outage-saml"))).toContain(
      "2 answers with a 5xx: Auth0 unreachable, too slow or answering 5xx, or a router failure (a browser that hung up mid-request is not one).",
    );

    // One row per connection with traffic: the share its logins the new provider kept, then the counts.
    // Columns: connection, state, served by new, logins, sent to new, bounced, Auth0, errors, last callback.
    await expect.poll(() => page.locator("#traffic-body tr").count()).toBe(7);
    expect(await trafficRow("umbrella-saml")).toBe("umbrella-saml\tmigrated\t0%\t2\t2\t2\t0\t0\tjust now (302)");
    expect(await trafficRow("acme-saml")).toBe("acme-saml\tmigrated\t100%\t3\t3\t0\t0\t0\tjust now (307)");
    expect(await trafficRow("outage-saml")).toBe("outage-saml\tlegacy\t0%\t2\t0\t0\t2\t2\tjust now (503)");

    // The route table: all 8, untrusted text shown as text.
    await expect.poll(() => page.locator("#routes-body tr").count()).toBe(9);
    expect(await routeRow("wayne-adfs").locator("td").first().textContent()).toBe(XSS_ORG);
    // Routability per row: SAML by connection= (routable, even without an IdP entity id), ADFS without one unroutable.
    expect(await routeRow("wayne-adfs").locator("td.routability").textContent()).toBe("unroutable");
    expect(await routeRow("acme-saml").locator("td.routability").textContent()).toBe("routable");
    expect(await routeRow("wayne-adfs").locator("td.routability").getAttribute("title")).toMatch(/match\.idpEntityId/);
    expect(await page.locator("#routes-body img").count()).toBe(0);
    expect(await page.title()).toBe("Migration dashboard · callback-router");
    expect(await page.locator("#search-count").textContent()).toBe("9 routes");
    // The seed import in the audit log, summarized.
    await page.locator("#audit-body tr").first().filter({ hasText: "import" }).waitFor();
    expect(await page.locator("#audit-body td.change").first().textContent()).toBe(
      "added: 9; changed: none; removed: none; settingsChanged: true",
    );
    // Audit times carry their zone (the browser's; UTC here).
    expect(await page.locator("#audit-body time").first().textContent()).toMatch(
      /\d{2}:\d{2}:\d{2} [A-Z]{2,4}(?:[+-]\d+)?$/,
    );

    expect(await overflowing(page)).toEqual({ pageScrolls: false, elements: [] });
    await screenshot("overview-1440");
    await screenshot("above-the-fold", false);
  });

  test("2b. one routability word per route on every surface: dashboard, API, CLI, import warnings, evaluate", async () => {
    const LEVELS = /(routable|partial|unroutable)/;
    const words: Record<string, Record<string, string>> = {};
    const say = (connection: string, surface: string, word: string): void => {
      (words[connection] ??= {})[surface] = word;
    };
    // Every route "migrated" in a dry run: the import warns for each that is not routable, with its word.
    const allMigrated = TABLE.map((r) => ({ ...r, state: "migrated" }));
    const dir = mkdtempSync(path.join(os.tmpdir(), "callback-router-vocabulary-"));
    try {
      writeFileSync(path.join(dir, "routes.json"), JSON.stringify({ routes: allMigrated }));
      // What `npm run dev` prints as its seed step (scripts/dev.ts runs this same push).
      const pushed = await cli(["push", "routes.json", "--dry-run"], dir);
      const imported = await h.api("POST", "/import?dryRun=true", { routes: allMigrated });
      const apiWarnings = (imported.body as { warnings: string[] }).warnings.join("\n");
      const coverageText = await cli(["coverage"]);
      const coverage = (await h.api("GET", "/coverage")).body as {
        byLevel: Record<string, number>;
        atRisk: Array<{ connection: string; level: string }>;
      };
      for (const route of TABLE) {
        const c = String(route["connection"]);
        say(c, "dashboard", (await routeRow(c).locator("td.routability").textContent()) ?? "");
        const got = (await h.api("GET", `/routes/${c}`)).body as { routability: { level: string } };
        say(c, "GET /routes", got.routability.level);
        say(c, "routes get", wordIn(await cli(["get", c]), /^routability: (\S+) —/m));
        const evaluation = (await h.api("GET", `/evaluate?connection=${c}`)).body as {
          routability: { level: string };
        };
        say(c, "GET /evaluate", evaluation.routability.level);
        say(c, "routes evaluate", wordIn(await cli(["evaluate", "--connection", c]), /^\S+: routability (\S+) —/));
        // Surfaces that name only the routes at risk: absent means routable.
        const warned = new RegExp(`\\(${c}\\): migrated, ${LEVELS.source} —`);
        say(c, "push warning (dev seed)", warned.exec(pushed)?.[1] ?? "routable");
        say(c, "POST /import warning", warned.exec(apiWarnings)?.[1] ?? "routable");
        if (route["state"] !== "legacy") {
          say(c, "GET /coverage atRisk", coverage.atRisk.find((r) => r.connection === c)?.level ?? "routable");
          const risk = new RegExp(`^  ${c} \\(${String(route["state"])}, ${LEVELS.source}\\):`, "m");
          say(c, "routes coverage", risk.exec(coverageText)?.[1] ?? "routable");
        }
      }
      const expected = Object.fromEntries(
        Object.entries(words).map(([c, bySurface]) => [
          c,
          Object.fromEntries(Object.keys(bySurface).map((surface) => [surface, bySurface["dashboard"]])),
        ]),
      );
      expect(words).toEqual(expected);
      // All three words occur, and the counts agree with the per-route words.
      const dashboardWords = Object.values(words).map((w) => w["dashboard"]);
      const counted = { routable: 0, partial: 0, unroutable: 0 };
      for (const w of dashboardWords) counted[w as keyof typeof counted]++;
      expect(counted).toEqual({ routable: 6, partial: 1, unroutable: 2 });
      expect(coverage.byLevel).toEqual(counted);
      expect(coverageText).toContain("9 route(s): 6 routable, 1 partial, 2 unroutable");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("3a. the time range re-reads /stats with a step the counters keep, and says so", async () => {
    const minutes = (q: URLSearchParams) => Math.round((Date.now() - Date.parse(q.get("since") ?? "")) / 60_000);
    let q = await chooseRange("15 min");
    expect([q.get("step"), minutes(q)]).toEqual(["1m", 15]);
    await page.locator("#share-card h2").filter({ hasText: "last 15 min" }).waitFor();
    expect(await page.locator("#share").textContent()).toBe("33.3%");
    await screenshot("range-15m", false);
    q = await chooseRange("24 h");
    expect([q.get("step"), minutes(q)]).toEqual(["1h", 24 * 60]);
    await page.locator("#share-chart-summary").filter({ hasText: "per hour, last 24 h: 33.3% overall" }).waitFor();
    expect(await page.locator("#problem-chart-summary").textContent()).toMatch(
      /^Bounces and errors per hour, last 24 h: 2 bounced, 2 errors; newest: \d\d:00: /,
    );
    // Keyboard: the range is a radio group; the arrow key moves to 7 d.
    await page.locator("#range input[value='24h']").focus();
    q = await chooseRange("7 d", "key");
    expect([q.get("step"), minutes(q)]).toEqual(["1h", 7 * 24 * 60]);
    expect(await page.locator("#range input:checked").getAttribute("value")).toBe("7d");
    await page.locator("#traffic-card h2 + p").filter({ hasText: "last 7 d" }).waitFor();
    expect(await trafficRow("acme-saml")).toContain("acme-saml\tmigrated\t100%\t3");
    q = await chooseRange("1 h");
    expect(q.get("step")).toBe("1m");
  });

  test("3. the search box filters by connection and organization as you type", async () => {
    const search = page.getByLabel("Filter by connection or organization");
    await search.pressSequentially("glob");
    expect(await page.locator("#routes-body tr:visible th").allTextContents()).toEqual(["globex-saml"]);
    await search.fill("");
    await search.pressSequentially("org_ini");
    expect(await page.locator("#routes-body tr:visible th").allTextContents()).toEqual(["initech-saml"]);
    expect(await page.locator("#search-count").textContent()).toBe("1 of 9 routes match");
    await screenshot("search");
    await search.fill("");
    expect(await page.locator("#routes-body tr:visible").count()).toBe(9);
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
    await page.locator("#progress-text").filter({ hasText: "4 of 9" }).waitFor();

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
    expect(await page.locator("#mode-banner").textContent()).toBe(
      "Kill switch ON: every callback goes to Auth0 (route mode when off)",
    );
    expect((await h.api("GET", "/settings")).body).toMatchObject({ mode: "route", killSwitch: { on: true } });
    await page.locator("#audit-body tr").first().filter({ hasText: "kill-switch.on" }).waitFor();
    await page.locator("#audit-body tr").first().filter({ hasText: "killSwitch.on: false → true" }).waitFor();
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
    expect((await h.api("GET", "/settings")).body).toMatchObject({ mode: "route", killSwitch: { on: false } });
  });

  test("7b. in shadow mode, the kill switch on and off leaves shadow mode: the switch never sends a mode", async () => {
    const puts: string[] = [];
    const listen = (request: Request) => {
      if (request.method() === "PUT" && request.url().endsWith("/settings")) puts.push(request.postData() ?? "");
    };
    page.on("request", listen);
    try {
      expect((await h.api("PUT", "/settings", { mode: "shadow" })).status).toBe(200);
      await page.getByRole("button", { name: "Refresh" }).click();
      await page.locator("#mode-banner").filter({ hasText: "Shadow mode" }).waitFor();
      const toggle = page.getByRole("switch", { name: /Kill switch/ });

      const on = nextDialog(true);
      await toggle.click();
      expect(await on).toContain("Turn the kill switch ON?");
      await statusSays("Kill switch ON: every callback goes to Auth0.");
      expect(await page.locator("#mode-banner").textContent()).toBe(
        "Kill switch ON: every callback goes to Auth0 (shadow mode when off)",
      );

      const off = nextDialog(true);
      await toggle.click();
      expect(await off).toContain("Shadow mode applies again");
      await statusSays("Kill switch OFF: shadow mode (every callback still goes to Auth0).");
      expect(await toggle.getAttribute("aria-checked")).toBe("false");
      expect(await page.locator("#mode-banner").textContent()).toBe(
        "Shadow mode: decisions are only logged, every callback goes to Auth0",
      );
      expect((await h.api("GET", "/settings")).body).toMatchObject({ mode: "shadow", killSwitch: { on: false } });
      expect(puts.map((body) => JSON.parse(body) as unknown)).toEqual([
        { killSwitch: { on: true } },
        { killSwitch: { on: false } },
      ]);
    } finally {
      page.off("request", listen);
      expect((await h.api("PUT", "/settings", { mode: "route" })).status).toBe(200);
      await page.getByRole("button", { name: "Refresh" }).click();
    }
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
    await page.route(`**${ADMIN_PREFIX}/stats?*`, (route) =>
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
    expect(await page.locator("#progress-text").textContent()).toBe("4 of 9");
    expect(await page.locator("#routes-body tr").count()).toBe(9);
    expect(await page.locator("#audit-body tr").count()).toBeGreaterThan(0);
    await screenshot("stats-error", false);
    await page.unroute(`**${ADMIN_PREFIX}/stats?*`);
    // The traffic back before the next test, not at the refresh timer's next tick.
    await page.getByRole("button", { name: "Refresh" }).click();
    await page.locator("#traffic-body tr").first().waitFor();
  });

  test("10. one connection's view, opened from the traffic table by keyboard: facts, counts, chart, audit, state change", async () => {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.locator("#traffic-body").getByRole("link", { name: "umbrella-saml", exact: true }).focus();
    await page.keyboard.press("Enter");
    await page.locator("#connection-view").waitFor();
    expect(page.url()).toMatch(/#connection\/umbrella-saml$/);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("connection-heading");
    expect(await page.locator("#overview").isHidden()).toBe(true);
    expect(await page.title()).toBe("umbrella-saml · Migration dashboard · callback-router");

    const counts = page.locator("#connection-counts");
    await counts.filter({ hasText: "Logins" }).waitFor();
    expect(await counts.innerText()).toBe(
      "Logins\t2\nServed by the new provider\t0 (0%)\nSent to the new provider\t2\nof which bounced back\t2 (100%)\nStraight to Auth0\t0\nof which started by Auth0 (affinity)\t0\nUnidentified\t0\nErrors (5xx)\t0",
    );
    // Flags count only traffic since the kill switch last ended (in minute buckets): whether test 7's
    // drill hides these bounces depends on the minute, so the view must say what /stats says.
    const apiFlags = ((await h.api("GET", "/stats/umbrella-saml")).body as { flags: string[] }).flags;
    expect(await page.locator("#connection-flags").innerText()).toBe(
      apiFlags.includes("fallback-share-high")
        ? "The new provider bounced 100% of the logins sent to it back to Auth0 (2 of 2)."
        : "",
    );
    const facts = await page.locator("#connection-facts").innerText();
    expect(facts).toMatch(/State\s+legacy\s*migrated\s*rollout/);
    expect(facts).toContain("Organization\norg_umbrella");
    expect(facts).toMatch(/Routability\nroutable — connection= in the ACS URL/);
    expect(facts).toContain("saml-acs: identified by query");
    // Its 2 logins came with connection=: measured ready (bounces are no evidence).
    expect(facts).toMatch(/Readiness\nready — 2 logins in 7 days; all identifiable by connection=\./);
    expect(facts).toMatch(/Last callback seen\n.*(just now|min ago)\): a bounce to Auth0, 302, fallback-bounce/);
    expect(await page.getByLabel("State of umbrella-saml").last().inputValue()).toBe("migrated");
    // The import that created the route is in its audit (imports name no single subject).
    const created = page.locator("#connection-audit tr").filter({ hasText: "import" });
    await created.waitFor();
    expect((await created.locator("td").allTextContents()).slice(1)).toEqual([
      "token:admin",
      "import",
      "—",
      "added by this import (added: 9; changed: none; removed: none; settingsChanged: true)",
    ]);
    await expect.poll(() => page.locator("#connection-chart-box canvas").count()).toBe(1);
    expect(await page.locator("#connection-chart-summary").textContent()).toContain(
      "umbrella-saml, logins per minute over the last 1 h: 0 served by the new provider, 0 straight to Auth0, 2 bounced, 0 errors.",
    );
    expect(await overflowing(page)).toEqual({ pageScrolls: false, elements: [] });
    await screenshot("connection-1440");

    // The state change from the view: confirmed, If-Match, audited; the traffic table follows.
    await page.locator("#connection-facts").getByLabel("State of umbrella-saml").selectOption("legacy");
    const accepted = nextDialog(true);
    await page
      .locator("#connection-facts")
      .getByRole("button", { name: "Apply the chosen state to umbrella-saml" })
      .click();
    expect(await accepted).toContain("Change umbrella-saml from migrated to legacy?");
    await statusSays("umbrella-saml is now legacy (version 2).");
    expect(await routeState("umbrella-saml")).toBe("legacy");
    const audit = page.locator("#connection-audit tr").first();
    await audit.filter({ hasText: "route.update" }).waitFor();
    expect((await audit.locator("td").allTextContents()).slice(1)).toEqual([
      "token:admin",
      "route.update",
      "umbrella-saml",
      "state: migrated → legacy",
    ]);

    await page.getByRole("link", { name: "← All connections" }).click();
    await page.locator("#overview").waitFor();
    expect(await page.locator("#connection-view").isHidden()).toBe(true);
    await expect.poll(() => trafficRow("umbrella-saml")).toContain("umbrella-saml\tlegacy\t");
    expect(await page.getByLabel("State of umbrella-saml").inputValue()).toBe("legacy");
    await page.locator("#progress-text").filter({ hasText: "3 of 9" }).waitFor();
  });

  test("11. at 360 px: sign-in, overview and one connection without a sideways page scroll", async () => {
    const small = await newPage(360, 740);
    try {
      await small.goto(dashboardUrl());
      await small.getByLabel("Admin token or JWT").waitFor();
      expect(await overflowing(small)).toEqual({ pageScrolls: false, elements: [] });
      await screenshot("sign-in-360", true, small);
      await small.getByLabel("Admin token or JWT").fill(h.adminToken);
      await small.getByRole("button", { name: "Sign in" }).click();
      await small.locator("#share").filter({ hasText: "%" }).waitFor();
      await expect.poll(() => small.locator("#charts canvas").count()).toBe(2);
      await expect.poll(() => small.locator("#routes-body tr").count()).toBe(9);
      expect(await overflowing(small)).toEqual({ pageScrolls: false, elements: [] });
      // The route table is one card per route (no sideways scroll box); the traffic table scrolls inside its card.
      const routes = await small.locator("#routes-card .scroll").evaluate((el) => [el.scrollWidth, el.clientWidth]);
      expect(routes[0]).toBe(routes[1]);
      const traffic = await small.locator("#traffic-card .scroll").evaluate((el) => [el.scrollWidth, el.clientWidth]);
      expect(traffic[0]).toBeGreaterThan(traffic[1] ?? 0);
      const files = [await screenshot("overview-360", true, small)];
      await small.evaluate(() => (window.location.hash = "#connection/acme-saml"));
      await small.locator("#connection-counts").filter({ hasText: "Logins" }).waitFor();
      await expect.poll(() => small.locator("#connection-chart-box canvas").count()).toBe(1);
      expect(await overflowing(small)).toEqual({ pageScrolls: false, elements: [] });
      files.push(await screenshot("connection-360", true, small));
      // Each full-page shot is 360 px wide: nothing pushed the page wider than the phone's viewport.
      expect(files.map(pngWidth)).toEqual([360, 360]);
    } finally {
      await small.context().close();
    }
  });

  test("12. sign-out clears the token and the data; a reload asks to sign in again", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Admin token or JWT").waitFor();
    expect(await page.evaluate((key) => sessionStorage.getItem(key), TOKEN_KEY)).toBeNull();
    expect(await page.locator("#dashboard").isHidden()).toBe(true);
    expect(await page.locator("#routes-body tr").count()).toBe(0);
    await page.reload();
    await page.getByLabel("Admin token or JWT").waitFor();
    expect(await page.locator("#dashboard").isHidden()).toBe(true);
  });

  test("13. no console errors (no CSP violation) in the whole session", () => {
    // Chromium logs the API's expected 401/412/503 answers as failed loads; nothing else may show up.
    expect(
      pageErrors.filter(
        (e) => !/^Failed to load resource: the server responded with a status of (401|412|503)\b/.test(e),
      ),
    ).toEqual([]);
  });
});

describe.each([
  [1280, 800],
  [390, 844],
  [360, 740],
])("dashboard at %i px", (width, height) => {
  test("after sign-in the header stays on top; every route's State and Apply on screen; whole axes; legend values", async () => {
    const view = await newPage(width, height);
    try {
      await view.goto(dashboardUrl());
      await view.getByLabel("Admin token or JWT").fill(h.adminToken);
      await view.getByRole("button", { name: "Sign in" }).click();
      const loaded = { timeout: STEP_TIMEOUT_MS };
      await expect.poll(() => view.locator("#routes-body tr").count(), loaded).toBe(9);
      await expect.poll(() => view.locator("#charts canvas").count(), loaded).toBe(2);
      await view.locator("#share").filter({ hasText: "%" }).waitFor();
      // Sign-in did not scroll the page; the header and its mode pill are in view.
      expect(await view.evaluate(() => window.scrollY)).toBe(0);
      const mode = await view.locator("#mode-banner").boundingBox();
      expect(mode?.y).toBeGreaterThanOrEqual(0);
      expect((mode?.y ?? 0) + (mode?.height ?? 0)).toBeLessThanOrEqual(height);
      const files = [await screenshot(`signed-in-${width}`, false, view)];
      // Sticky: halfway down the page the header is still at the top.
      await view.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight / 2));
      expect(await view.evaluate(() => window.scrollY)).toBeGreaterThan(0);
      expect((await view.locator("header.top").boundingBox())?.y).toBe(0);
      expect(await view.locator("#mode-banner").isVisible()).toBe(true);

      expect(await offScreenControls(view)).toEqual([]);
      expect(await clippedChartEdges(view, "#charts")).toEqual([]);
      // Without a hover, each legend shows the newest values, not uPlot's "–".
      const legend = await view.locator("#charts .u-legend .u-value").allTextContents();
      expect(legend.length).toBeGreaterThanOrEqual(4);
      expect(legend.filter((v) => v.trim() === "–" || v.trim() === "")).toEqual([]);
      await view.locator("#routes-card").scrollIntoViewIfNeeded();
      files.push(await screenshot(`routes-${width}`, false, view));
      await view.locator("#charts-card").scrollIntoViewIfNeeded();
      files.push(await screenshot(`charts-${width}`, false, view));
      expect(files).toHaveLength(3);
    } finally {
      await view.context().close();
    }
  });
});
