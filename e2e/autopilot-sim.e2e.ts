/// <reference lib="dom" />
/**
 * A small run of `npm run sim:autopilot` (scripts/sim/run.ts), so CI guards it: 8 connections in
 * waves of 1, 3 and 4; the new provider stand-in bounces every login of one and fails every
 * login of another; the Workers are restarted mid-plan. Then the dashboard's Autopilot panel,
 * in Chromium at 1280 and 390 px, against that finished plan: its timeline and each decision's
 * numbers, nothing wider than the screen. Screenshots: test-results/e2e/autopilot-*.png.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSimulation, type PlanView, type SimResult } from "../scripts/sim/run";
import { CHROMIUM_PATH, SCREENSHOT_DIR, chromiumMissingMessage } from "./support/harness";

const GATES = { minLogins: 5, maxFallbackShare: 0.2, maxErrorShare: 0.2, maxProviderFailureShare: 0.2 };
const lines: string[] = [];
const dashboard: Record<
  number,
  { timeline: string[]; kinds: string[]; rows: Record<string, string>; overflow: string[] }
> = {};
let result: SimResult;
let browser: Browser | undefined;

beforeAll(async () => {
  const missing = chromiumMissingMessage();
  if (missing !== undefined) throw new Error(missing);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ["--headless=new", "--no-sandbox"] });
  result = await runSimulation({
    connections: 8,
    waves: [1, 3, 4],
    bounce: [3],
    fail: [6],
    soak: "3s",
    checkEvery: "1s",
    gates: GATES,
    everyMs: 300,
    maxLogins: 2_000,
    maxMs: 45_000,
    restartAtWave: 1,
    log: (line) => lines.push(line),
    whileUp: async ({ origin, adminToken, prefix }) => {
      for (const [width, height] of [
        [1280, 800],
        [390, 844],
      ] as const) {
        dashboard[width] = await readPanel(origin, prefix, adminToken, width, height);
      }
    },
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
});

async function readPanel(origin: string, prefix: string, token: string, width: number, height: number) {
  const context = await (browser as Browser).newContext({ viewport: { width, height } });
  try {
    const page = await context.newPage();
    await page.goto(`${origin}${prefix}/`);
    await page.getByLabel("Admin token or JWT").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#autopilot-timeline li[data-kind]").first().waitFor({ timeout: 15_000 });
    await page.locator("#autopilot-card").scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `autopilot-${width}.png`) });
    const timeline = await page.locator("#autopilot-timeline li").allTextContents();
    const kinds = await page
      .locator("#autopilot-timeline li[data-kind]")
      .evaluateAll((items) => items.map((li) => li.getAttribute("data-kind") ?? ""));
    const rows: Record<string, string> = {};
    for (const row of await page.locator("#autopilot-body tr").all()) {
      rows[(await row.getAttribute("data-connection")) ?? ""] = await row.innerText();
    }
    const overflow = await page.evaluate(() => {
      const limit = document.documentElement.clientWidth;
      return Array.from(document.querySelectorAll("#autopilot-card *"))
        .filter((el) => el.closest(".scroll") === null || el.classList.contains("scroll"))
        .filter((el) => el.getBoundingClientRect().right > limit + 0.5)
        .map((el) => `${el.tagName.toLowerCase()}#${el.id}`);
    });
    return { timeline, kinds, rows, overflow };
  } finally {
    await context.close();
  }
}

const byName = (plan: PlanView | null, connection: string) =>
  plan?.waves.flatMap((w) => w.connections).find((c) => c.connection === connection);

describe("autopilot simulation (small): 8 connections, waves of 1, 3, 4, one restart", () => {
  it("promotes the healthy ones, rolls back the bounced and the failing one, and survives the restart", () => {
    expect(result.problems, lines.join("\n")).toEqual([]);
    expect(result.summary).toMatch(/^autopilot: 6 promoted, 2 rolled back, 0 halted, \d+ logins lost$/);
    expect(result.restarted?.decisionsAfter).toBeGreaterThan(0);
    expect(byName(result.plan, "sim-03-saml")?.reason).toMatch(/fallback/);
    expect(byName(result.plan, "sim-06-saml")?.reason).toMatch(/provider|fail/);
  });

  it("loses only the failing connection's logins, and no more than its gate needed to judge it", () => {
    const failing = result.tally.get("sim-06-saml");
    expect(result.lost).toBe(failing?.lost);
    expect(result.lost).toBeGreaterThanOrEqual(1);
    // What the gate read when it rolled back, plus one check interval's logins (1 s / 300 ms) and one round in flight.
    const judged = byName(result.plan, "sim-06-saml")?.numbers?.logins ?? 0;
    expect(judged).toBeGreaterThanOrEqual(GATES.minLogins);
    expect(result.lost).toBeLessThanOrEqual(judged + Math.ceil(1000 / 300) + 1);
    for (const t of result.tally.values()) expect(t.lostAuth0Started).toBe(0);
  });

  it.each([1280, 390])("the dashboard at %i px shows the timeline with each decision's numbers", (width) => {
    const seen = dashboard[width];
    expect(seen?.overflow).toEqual([]);
    const rollback = seen?.timeline.find((t) => t.includes("rolled back") && t.includes("sim-06-saml"));
    expect(rollback).toMatch(/\d+ logins · fallback \d+ .* · provider \d+ succeeded \/ \d+ failed/);
    expect(seen?.kinds.filter((k) => k === "promoted")).toHaveLength(6);
    expect(seen?.kinds.filter((k) => k === "rolled-back")).toHaveLength(2);
    expect(seen?.rows["sim-01-saml"]).toMatch(/promoted/);
    expect(seen?.rows["sim-03-saml"]).toMatch(/rolled back/);
  });
});
