/**
 * The autopilot (issue 19): plans checked naming the field, waves cut over through the writer,
 * gates judged on the router's own counters, rollback on breach, the policy, pause / resume /
 * abort, the kill switch, a restart mid-plan, and the audit trail. Real Durable Objects with
 * alarms (runDurableObjectAlarm fires the alarm the object set); durations in seconds.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { Autopilot } from "../src/autopilot/durable-object";
import type { PlanView } from "../src/autopilot/state";
import type { Env } from "../src/env";
import { api, json, resetTable } from "./support/admin";
import { call, HOST } from "./support/worker";
import { fakeWorkos, workosEnv } from "./support/workos";
import { resetCounters } from "./support/counters";

const testEnv = env as unknown as Env;
const stub = () => {
  const ns = testEnv.AUTOPILOT;
  if (ns === undefined) throw new Error("no AUTOPILOT binding in vitest.config.ts");
  return ns.get(ns.idFromName("autopilot"));
};

async function resetAutopilot(): Promise<void> {
  await runInDurableObject(stub(), async (_instance, state) => {
    for (const table of ["plans", "events"]) {
      try {
        state.storage.sql.exec(`DELETE FROM ${table}`);
      } catch {
        // not created yet
      }
    }
    await state.storage.deleteAlarm();
  });
}

/** A browser that keeps the router's bounce marks, so its bounces are verified ones. */
const marks = new Map<string, string>();
const MARKED = { AFFINITY_SECRET: "autopilot-test-affinity-secret-0123456789" };
async function browse(query: string): Promise<number> {
  const request = new Request(`${HOST}/login/callback?${query}`);
  if (marks.size > 0) request.headers.set("cookie", [...marks.values()].join("; "));
  const res = await call(request, MARKED);
  for (const header of res.headers.getSetCookie()) {
    const pair = header.split(";")[0] ?? "";
    if (pair.startsWith("crb")) marks.set(pair.slice(0, pair.indexOf("=")), pair);
  }
  await res.body?.cancel();
  return res.status;
}
/** `n` logins of `connection`; `bounced` of them come back with fallback=auth0 (verified). */
async function traffic(connection: string, n: number, bounced = 0): Promise<void> {
  for (let i = 0; i < n; i++) {
    expect(await browse(`connection=${connection}&code=c${i}`)).toBe(307);
    if (i < bounced) expect(await browse(`connection=${connection}&code=c${i}&fallback=auth0`)).toBe(200);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Fires the autopilot's alarm (it must have one set). */
async function tick(): Promise<void> {
  expect(await runDurableObjectAlarm(stub())).toBe(true);
}
async function status(): Promise<PlanView> {
  const body = await json<{ plan: PlanView | null }>(await api("/autopilot"));
  if (body.plan === null) throw new Error("no plan");
  return body.plan;
}
const conn = (view: PlanView, name: string) =>
  view.waves.flatMap((w) => w.connections).find((c) => c.connection === name);

const ROUTES = [
  { connection: "acme-saml", protocol: "samlp", organization: "org_acme", state: "legacy" },
  { connection: "globex-saml", protocol: "samlp", organization: "org_globex", state: "legacy" },
  { connection: "initech-saml", protocol: "samlp", organization: "org_globex", state: "legacy" },
  { connection: "hooli-saml", protocol: "samlp", state: "legacy" },
  { connection: "umbrella-saml", protocol: "samlp", state: "migrated" },
  { connection: "okta-corp", protocol: "okta", state: "legacy" },
];

const GATES = { minLogins: 4, maxFallbackShare: 0.25, maxErrorShare: 0.1 };

async function submit(plan: object, query = ""): Promise<Response> {
  return api(`/autopilot/plans${query}`, { method: "POST", body: plan });
}
async function start(plan: object): Promise<void> {
  const res = await submit(plan);
  expect(res.status, await res.clone().text()).toBe(200);
}

beforeEach(async () => {
  vi.spyOn(console, "log").mockImplementation(() => {});
  marks.clear();
  await resetTable();
  await resetCounters();
  await resetAutopilot();
  const res = await api("/import?mode=replace", {
    method: "POST",
    body: { settings: { defaultTarget: "https://sso.example.com/cb" }, routes: ROUTES },
  });
  expect(res.status).toBe(200);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("plan validation", () => {
  it("refuses a plan naming each field at fault: not in the table, already migrated, not routable, a bad soak", async () => {
    const res = await submit({
      gates: GATES,
      waves: [
        { connections: ["acme-saml", "nobody-saml", "umbrella-saml"], soak: "1s" },
        { connections: ["okta-corp", "acme-saml"], soak: "ten minutes" },
      ],
    });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const errors = (await json<{ errors: Array<{ field: string; reason: string }> }>(res)).errors;
    expect(errors.map((e) => e.field)).toEqual(["waves.1.soak"]);
    // Field checks first; then the connections, against the table.
    const res2 = await submit({
      gates: GATES,
      waves: [
        { connections: ["acme-saml", "nobody-saml", "umbrella-saml"], soak: "1s" },
        { connections: ["okta-corp", "acme-saml"], soak: "10m" },
      ],
    });
    expect(res2.status).toBe(422);
    const errors2 = (await json<{ errors: Array<{ field: string; reason: string }> }>(res2)).errors;
    expect(errors2).toEqual([
      { field: "waves.0.connections.1", reason: "nobody-saml: not in the route table" },
      { field: "waves.0.connections.2", reason: "umbrella-saml: already migrated" },
      { field: "waves.1.connections.0", reason: expect.stringMatching(/^okta-corp: not routable \(unroutable\)/) },
      { field: "waves.1.connections.1", reason: "acme-saml: already in waves.0" },
    ]);
    expect((await json<{ plan: unknown }>(await api("/autopilot"))).plan).toBeNull();
  });

  it("skips with the reason what a filter or organization selects but cannot be cut over, and caps a canary", async () => {
    const res = await submit(
      {
        gates: GATES,
        waves: [
          { canary: true, organizations: ["org_acme"], soak: "1s" },
          { filter: { protocol: ["samlp", "okta"] }, soak: "2h" },
        ],
      },
      "?dryRun=true",
    );
    expect(res.status).toBe(200);
    const preview = await json<{ waves: Array<{ connections: string[]; skipped: unknown[]; soak: string }> }>(res);
    expect(preview.waves[0]?.connections).toEqual(["acme-saml"]);
    expect(preview.waves[1]).toMatchObject({
      connections: ["globex-saml", "hooli-saml", "initech-saml"],
      skipped: [
        { connection: "okta-corp", reason: "not routable (filter routable: true)" },
        { connection: "acme-saml", reason: "already in waves.0" },
      ],
      soak: "2h",
    });
    // A dry run starts nothing.
    expect((await json<{ plan: unknown }>(await api("/autopilot"))).plan).toBeNull();

    const canary = await submit({ gates: GATES, waves: [{ canary: true, filter: {}, soak: "1s" }] }, "?dryRun=true");
    expect(canary.status).toBe(200);
    const many = ROUTES.map((_r, i) => ({ connection: `big-${i}-saml`, state: "legacy" }));
    await api("/import?mode=replace", {
      method: "POST",
      body: { settings: { defaultTarget: "https://sso.example.com/cb" }, routes: [...ROUTES, ...many] },
    });
    const big = await submit({ gates: GATES, waves: [{ canary: true, filter: {}, soak: "1s" }] }, "?dryRun=true");
    expect(big.status).toBe(422);
    expect((await json<{ errors: Array<{ field: string }> }>(big)).errors.map((e) => e.field)).toEqual([
      "waves.0.canary",
    ]);
  });

  it("publishes the plan's JSON Schema in the OpenAPI document", async () => {
    const doc = await json<{
      components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
    }>(await api("/openapi.json"));
    const plan = doc.components.schemas["AutopilotPlan"];
    expect(Object.keys(plan?.properties ?? {})).toEqual(["id", "gates", "policy", "checkEvery", "waves"]);
    expect(plan?.required).toEqual(expect.arrayContaining(["gates", "waves"]));
    expect(Object.keys(doc.components.schemas["AutopilotGates"]?.properties ?? {})).toContain(
      "maxProviderFailureShare",
    );
  });

  it("dry run: rehearses the first wave on the recorded logins (which would move to the new provider), writing nothing", async () => {
    for (let i = 0; i < 3; i++) expect(await browse(`connection=acme-saml&code=r${i}`)).toBe(200);
    for (let i = 0; i < 2; i++) expect(await browse(`connection=globex-saml&code=r${i}`)).toBe(200);
    const res = await submit(
      {
        gates: GATES,
        waves: [
          { canary: true, connections: ["acme-saml"], soak: "1d" },
          { connections: ["globex-saml"], soak: "1d" },
        ],
      },
      "?dryRun=true",
    );
    expect(res.status).toBe(200);
    const preview = await json<{ firstWaveRehearsal: Record<string, unknown> & { connections: unknown[] } }>(res);
    expect(preview.firstWaveRehearsal).toMatchObject({
      available: true,
      totals: { logins: 5, changed: 3, stranded: 0, to: { new: 3 } },
    });
    expect(preview.firstWaveRehearsal.connections).toEqual(
      expect.arrayContaining([expect.objectContaining({ connection: "acme-saml", logins: 3, changed: 3 })]),
    );
    expect(await browse("connection=acme-saml&code=after")).toBe(200); // still legacy
  });

  it("refuses a second plan while one runs, and names a connection that plan holds", async () => {
    await start({ id: "first", gates: GATES, checkEvery: "1h", waves: [{ connections: ["acme-saml"], soak: "1h" }] });
    const again = await submit({ gates: GATES, waves: [{ connections: ["globex-saml"], soak: "1s" }] });
    expect(again.status).toBe(409);
    expect((await json<{ detail: string }>(again)).detail).toContain("plan first is running");
    const held = await submit({ gates: GATES, waves: [{ connections: ["acme-saml"], soak: "1s" }] }, "?dryRun=true");
    expect(held.status).toBe(422);
    expect((await json<{ errors: unknown[] }>(held)).errors).toEqual([
      { field: "waves.0.connections.0", reason: "acme-saml: already migrated" },
    ]);
  });
});

describe("running a plan", () => {
  it("cuts a canary over, waits for the minimum logins past its soak, then promotes it and starts the next wave", async () => {
    await start({
      id: "canary",
      gates: GATES,
      checkEvery: "1h",
      waves: [
        { canary: true, connections: ["acme-saml"], soak: "1s" },
        { connections: ["globex-saml", "initech-saml"], soak: "1s" },
      ],
    });
    let view = await status();
    expect(conn(view, "acme-saml")).toMatchObject({ status: "soaking" });
    expect(conn(view, "globex-saml")).toMatchObject({ status: "waiting" });
    expect(await browse("connection=globex-saml&code=x")).toBe(200); // not cut over yet

    await traffic("acme-saml", 3);
    await sleep(1_100); // the soak is over, but 3 < 4 logins
    await tick();
    view = await status();
    expect(conn(view, "acme-saml")).toMatchObject({
      status: "soaking",
      numbers: { logins: 3 },
      reason: "3 of 4 logins needed before judging",
    });
    expect(view.currentWave).toBe(0);

    await traffic("acme-saml", 1);
    await tick();
    view = await status();
    expect(conn(view, "acme-saml")).toMatchObject({
      status: "promoted",
      numbers: { logins: 4, fallback: 0, outcome: { source: "no source" } },
    });
    expect(conn(view, "acme-saml")?.reason).toContain("outcome: no source");
    expect(view.currentWave).toBe(1);
    expect(conn(view, "globex-saml")).toMatchObject({ status: "soaking" });
    expect(await browse("connection=globex-saml&code=y")).toBe(307);
    expect(view.nextStepAt).not.toBeNull();
  }, 20_000);

  it("rolls back a connection whose verified bounces breach within one gate window, then halts (default policy)", async () => {
    await start({
      id: "bouncy",
      gates: GATES,
      checkEvery: "1h",
      waves: [
        { connections: ["acme-saml", "globex-saml"], soak: "1h" },
        { connections: ["initech-saml"], soak: "1s" },
      ],
    });
    await traffic("acme-saml", 4);
    await traffic("globex-saml", 4, 2); // 2 of 4 bounced: 50% > 25%
    await tick(); // one gate window
    const view = await status();
    expect(conn(view, "globex-saml")).toMatchObject({
      status: "rolled-back",
      numbers: { logins: 4, fallback: 2, fallbackShare: 0.5 },
    });
    expect(conn(view, "globex-saml")?.reason).toMatch(/^fallback share 50\.0% > 25\.0%/);
    expect(conn(view, "acme-saml")).toMatchObject({ status: "soaking" });
    expect(view).toMatchObject({ status: "halted", currentWave: 0 });
    expect(view.statusReason).toContain("1 rollback in wave 1");
    expect(await browse("connection=globex-saml&code=z")).toBe(200); // back on Auth0
    expect(view.timeline.map((e) => e.kind)).toEqual(["rolled-back", "halted"]);
    // Halted: the next wave never starts.
    await tick();
    expect(conn(await status(), "initech-saml")).toMatchObject({ status: "waiting" });
    // The kill switch pauses it; resuming after it halts again at once (the rollback still counts).
    expect((await api("/settings", { method: "PUT", body: { killSwitch: { on: true } } })).status).toBe(200);
    await tick();
    expect((await status()).status).toBe("paused");
    expect((await api("/settings", { method: "PUT", body: { killSwitch: { on: false } } })).status).toBe(200);
    expect(await json(await api("/autopilot/resume", { method: "POST" }))).toMatchObject({ status: "halted" });
    // Resumed past the halt: running again (acme-saml still soaks, so wave 1 waits for it).
    expect(await json(await api("/autopilot/resume", { method: "POST" }))).toMatchObject({
      status: "running",
      currentWave: 0,
    });
  }, 20_000);

  it("goes on after a rollback when the policy says continue", async () => {
    await start({
      id: "onward",
      gates: GATES,
      policy: { onRollback: "continue" },
      checkEvery: "1h",
      waves: [
        { connections: ["globex-saml"], soak: "1s" },
        { connections: ["initech-saml"], soak: "1s" },
      ],
    });
    await traffic("globex-saml", 4, 4);
    await tick();
    const view = await status();
    expect(conn(view, "globex-saml")).toMatchObject({ status: "rolled-back" });
    expect(view.status).toBe("running");
    expect(view.currentWave).toBe(1);
    expect(conn(view, "initech-saml")).toMatchObject({ status: "soaking" });
  }, 20_000);

  it("leaves alone a connection someone else migrated before its wave, and one someone else put back", async () => {
    await start({
      id: "others",
      gates: GATES,
      checkEvery: "1h",
      waves: [
        { connections: ["acme-saml", "hooli-saml"], soak: "1s" },
        { connections: ["globex-saml"], soak: "1s" },
      ],
    });
    expect((await api("/routes/globex-saml", { method: "PATCH", body: { state: "migrated" } })).status).toBe(200);
    expect((await api("/routes/hooli-saml", { method: "PATCH", body: { state: "legacy" } })).status).toBe(200);
    await traffic("acme-saml", 4);
    await sleep(1_100);
    await tick();
    const view = await status();
    expect(conn(view, "hooli-saml")).toMatchObject({ status: "left", reason: "changed to legacy by someone else" });
    expect(conn(view, "globex-saml")).toMatchObject({
      status: "left",
      reason: "already migrated by someone else before its wave; the plan leaves it alone",
    });
    expect(view.status).toBe("finished");
    const audit = await json<{ entries: Array<{ actor: string; action: string }> }>(
      await api("/audit?limit=100&connection=globex-saml"),
    );
    expect(audit.entries.filter((e) => e.actor === "autopilot:others" && e.action === "route.update")).toEqual([]);
  }, 20_000);

  it("never judges on fewer logins than the minimum, however bad they look", async () => {
    await start({ id: "few", gates: GATES, checkEvery: "1h", waves: [{ connections: ["globex-saml"], soak: "1s" }] });
    await traffic("globex-saml", 3, 3); // every one bounced, but 3 < 4
    await sleep(1_100);
    await tick();
    expect(conn(await status(), "globex-saml")).toMatchObject({
      status: "soaking",
      numbers: { logins: 3, fallback: 3 },
    });
  }, 20_000);
});

describe("what the gates read", () => {
  it("counts only verified bounces: fallback=auth0 without the router's mark does not breach", async () => {
    await start({
      id: "unmarked",
      gates: GATES,
      checkEvery: "1h",
      waves: [{ connections: ["globex-saml"], soak: "1s" }],
    });
    await traffic("globex-saml", 4);
    // Anyone can add the parameter: these carry no mark of the router's hand-off.
    for (let i = 0; i < 4; i++) {
      const res = await call(new Request(`${HOST}/login/callback?connection=globex-saml&code=u${i}&fallback=auth0`));
      await res.body?.cancel();
      expect(res.status).toBe(200);
    }
    await sleep(1_100);
    await tick();
    expect(conn(await status(), "globex-saml")).toMatchObject({
      status: "promoted",
      numbers: { logins: 4, fallback: 0, fallbackShare: 0 },
    });
  }, 20_000);

  it("rolls back on the error share: bounces Auth0 could not serve (5xx)", async () => {
    await start({
      id: "errors",
      gates: { ...GATES, maxFallbackShare: 1, noAlarm: false },
      checkEvery: "1h",
      waves: [{ connections: ["globex-saml"], soak: "1h" }],
    });
    await traffic("globex-saml", 4);
    const closed = { ...MARKED, AUTH0_ORIGIN: `http://127.0.0.1:${inject("closedPort")}` };
    const request = new Request(`${HOST}/login/callback?connection=globex-saml&code=c0&fallback=auth0`);
    request.headers.set("cookie", [...marks.values()].join("; "));
    const res = await call(request, closed);
    await res.body?.cancel();
    expect(res.status).toBe(502);
    await tick();
    const c = conn(await status(), "globex-saml");
    expect(c).toMatchObject({ status: "rolled-back", numbers: { logins: 4, errors: 1, errorShare: 0.2 } });
    expect(c?.reason).toBe("error share 20.0% > 10.0% (1 5xx answers)");
  }, 20_000);

  /** acme and globex mapped to WorkOS connections (conn_acme, conn_globex); hooli has no mapping. */
  const importWithProviderIds = () =>
    api("/import?mode=replace", {
      method: "POST",
      body: {
        settings: { defaultTarget: "https://sso.example.com/cb" },
        routes: [
          { connection: "acme-saml", protocol: "samlp", state: "legacy", providerConnectionId: "conn_acme" },
          { connection: "globex-saml", protocol: "samlp", state: "legacy", providerConnectionId: "conn_globex" },
          { connection: "hooli-saml", protocol: "samlp", state: "legacy" },
        ],
      },
    });

  it("rolls back on the new provider's own failures (WorkOS events), and says `no source` where there is none", async () => {
    const key = "sk_test_autopilot_outcomes";
    await importWithProviderIds();
    await start({
      id: "outcomes",
      gates: { ...GATES, maxProviderFailureShare: 0.25 },
      policy: { onRollback: "continue" },
      checkEvery: "1h",
      waves: [{ connections: ["acme-saml", "globex-saml", "hooli-saml"], soak: "1s" }],
    });
    for (const c of ["acme-saml", "globex-saml", "hooli-saml"]) await traffic(c, 4);
    const at = new Date().toISOString();
    const ok = { event: "authentication.sso_succeeded" as const, created_at: at };
    const failed = { event: "authentication.sso_failed" as const, created_at: at };
    await fakeWorkos(key, {
      events: [
        ...Array.from({ length: 4 }, () => ({ ...ok, connection_id: "conn_acme" })),
        { ...ok, connection_id: "conn_globex" },
        ...Array.from({ length: 3 }, () => ({ ...failed, connection_id: "conn_globex" })),
      ],
    });
    await sleep(1_100);
    // The object with WorkOS configured (the test runtime's own bindings have no key).
    await runInDurableObject(stub(), async (_instance, state) => {
      await new Autopilot(state, { ...testEnv, ...workosEnv(key) } as Env).alarm();
    });
    const view = await status();
    expect(conn(view, "globex-saml")).toMatchObject({
      status: "rolled-back",
      numbers: { logins: 4, fallback: 0, outcome: { succeeded: 1, failed: 3, source: "workos-events" } },
      reason: "new provider's failure share 75.0% > 25.0% (3 of 4 sign-ins failed there, workos-events)",
    });
    expect(conn(view, "acme-saml")).toMatchObject({
      status: "promoted",
      numbers: { outcome: { succeeded: 4, failed: 0, source: "workos-events" } },
    });
    expect(conn(view, "hooli-saml")).toMatchObject({
      status: "promoted",
      numbers: { outcome: { source: "no source", reason: expect.stringContaining("providerConnectionId") } },
    });
    expect(conn(view, "hooli-saml")?.reason).toContain("outcome: no source");
  }, 20_000);

  it("promotes only with the sign-ins the new provider confirmed (minProviderSucceeded), whatever the router counted", async () => {
    const key = "sk_test_autopilot_confirmed";
    await importWithProviderIds();
    await start({
      id: "confirmed",
      gates: { ...GATES, minProviderSucceeded: 3 },
      checkEvery: "1h",
      waves: [{ connections: ["acme-saml", "globex-saml", "hooli-saml"], soak: "1s" }],
    });
    // Each has the router's minLogins (anyone can send these); only acme's were sign-ins at the provider.
    for (const c of ["acme-saml", "globex-saml", "hooli-saml"]) await traffic(c, 4);
    const at = new Date().toISOString();
    const ok = { event: "authentication.sso_succeeded" as const, created_at: at };
    await fakeWorkos(key, {
      events: [
        ...Array.from({ length: 3 }, () => ({ ...ok, connection_id: "conn_acme" })),
        { ...ok, connection_id: "conn_globex" },
      ],
    });
    await sleep(1_100);
    await runInDurableObject(stub(), async (_instance, state) => {
      await new Autopilot(state, { ...testEnv, ...workosEnv(key) } as Env).alarm();
    });
    const view = await status();
    expect(conn(view, "acme-saml")?.status).toBe("promoted");
    expect(conn(view, "globex-saml")).toMatchObject({
      status: "soaking",
      reason: "1 of 3 sign-ins confirmed by the new provider needed to promote",
    });
    expect(conn(view, "hooli-saml")?.status).toBe("soaking");
    expect(conn(view, "hooli-saml")?.reason).toMatch(/^no outcome source \(.+\); the plan needs 3 sign-ins confirmed/);
  }, 20_000);

  it("holds promotion without an outcome source when the plan requires one", async () => {
    await start({
      id: "strict",
      gates: { ...GATES, requireProviderOutcome: true },
      checkEvery: "1h",
      waves: [{ connections: ["acme-saml"], soak: "1s" }],
    });
    await traffic("acme-saml", 4);
    await sleep(1_100);
    await tick();
    const c = conn(await status(), "acme-saml");
    expect(c).toMatchObject({ status: "soaking", numbers: { logins: 4, outcome: { source: "no source" } } });
    expect(c?.reason).toMatch(/^no outcome source \(.+\); the plan requires one to promote$/);
  }, 20_000);
});

describe("notifications", () => {
  const STAND_IN = inject("webhookStandInUrl");
  const received = async (key: string) =>
    (await (await fetch(`${STAND_IN}/__stand-in/requests?key=${key}`)).json()) as Array<{ body: string }>;

  it.each([
    ["ok", ["promoted acme-saml", "globex-saml", "finished"]],
    ["500", []],
  ] as const)(
    "posts each decision to the webhook (%s), and a failing webhook never stops the plan",
    async (mode, titles) => {
      const key = `autopilot-${mode}-${Math.random().toString(36).slice(2, 8)}`;
      await start({
        id: `hooked-${mode}`,
        gates: GATES,
        policy: { onRollback: "continue" },
        checkEvery: "1h",
        waves: [{ connections: ["acme-saml", "globex-saml"], soak: "1s" }],
      });
      await traffic("acme-saml", 4);
      await traffic("globex-saml", 4, 4);
      await sleep(1_100);
      const hooked = { ...testEnv, AUTOPILOT_WEBHOOK_URL: `${STAND_IN}/hook/${key}/${mode}` } as Env;
      await runInDurableObject(stub(), async (_instance, state) => {
        await new Autopilot(state, hooked).alarm();
      });
      const view = await status();
      expect(view.status).toBe("finished");
      expect(view.timeline.map((e) => e.kind)).toEqual(["promoted", "rolled-back", "finished"]);
      const posts = (await received(key)).map((p) => JSON.parse(p.body) as { text: string });
      expect(posts).toHaveLength(3); // the stand-in records what it refused too
      for (const [i, title] of titles.entries()) expect(posts[i]?.text).toContain(title);
    },
    20_000,
  );
});

describe("operators and the kill switch", () => {
  it("pauses (nothing judged) and resumes, moving the soak end on by the pause", async () => {
    await start({ id: "pausing", gates: GATES, checkEvery: "1h", waves: [{ connections: ["acme-saml"], soak: "1s" }] });
    const paused = await api("/autopilot/pause", { method: "POST" });
    expect(paused.status).toBe(200);
    expect(await json(paused)).toMatchObject({ status: "paused", statusBy: "token:ci", nextStepAt: null });
    expect(await runDurableObjectAlarm(stub())).toBe(false); // no alarm while paused
    const before = conn(await status(), "acme-saml")?.soakUntil ?? "";
    await sleep(300);
    const resumed = await api("/autopilot/resume", { method: "POST" });
    expect(resumed.status).toBe(200);
    const view = await json<PlanView>(resumed);
    expect(view.status).toBe("running");
    expect(Date.parse(conn(view, "acme-saml")?.soakUntil ?? "")).toBeGreaterThanOrEqual(Date.parse(before) + 300);
    expect(view.timeline.map((e) => e.kind)).toEqual(["paused", "resumed"]);
    expect((await api("/autopilot/resume", { method: "POST" })).status).toBe(409);
  }, 20_000);

  it("aborts with rollback: what it cut over goes back to legacy", async () => {
    await start({
      id: "undo",
      gates: GATES,
      checkEvery: "1h",
      waves: [
        { connections: ["acme-saml"], soak: "1h" },
        { connections: ["globex-saml"], soak: "1s" },
      ],
    });
    const res = await api("/autopilot/abort", { method: "POST", body: { rollback: true } });
    expect(res.status).toBe(200);
    const view = await json<PlanView>(res);
    expect(view.status).toBe("aborted");
    expect(conn(view, "acme-saml")).toMatchObject({
      status: "rolled-back",
      reason: "aborted by token:ci with rollback",
    });
    expect(conn(view, "globex-saml")).toMatchObject({ status: "not-started" });
    expect(await browse("connection=acme-saml&code=a")).toBe(200);
  });

  it("aborts leaving the table as it is, and refuses an abort that does not say which", async () => {
    await start({ id: "keep", gates: GATES, checkEvery: "1h", waves: [{ connections: ["acme-saml"], soak: "1h" }] });
    const vague = await api("/autopilot/abort", { method: "POST", body: {} });
    expect(vague.status).toBe(422);
    expect((await json<{ errors: Array<{ field: string }> }>(vague)).errors[0]?.field).toBe("rollback");
    const res = await api("/autopilot/abort", { method: "POST", body: { rollback: false } });
    expect(res.status).toBe(200);
    expect(conn(await json<PlanView>(res), "acme-saml")).toMatchObject({ status: "left" });
    expect(await browse("connection=acme-saml&code=a")).toBe(307);
    expect(await runDurableObjectAlarm(stub())).toBe(false);
  });

  it("pauses itself when the kill switch is on, and will not resume until it is off", async () => {
    await start({ id: "killed", gates: GATES, checkEvery: "1h", waves: [{ connections: ["acme-saml"], soak: "1h" }] });
    expect((await api("/settings", { method: "PUT", body: { killSwitch: { on: true } } })).status).toBe(200);
    await tick();
    const view = await status();
    expect(view).toMatchObject({ status: "paused", statusBy: "autopilot:killed" });
    expect(view.statusReason).toContain("the kill switch is on");
    expect((await api("/autopilot/resume", { method: "POST" })).status).toBe(409);
    expect((await api("/settings", { method: "PUT", body: { killSwitch: { on: false } } })).status).toBe(200);
    expect((await api("/autopilot/resume", { method: "POST" })).status).toBe(200);
  });
});

describe("restarts and the audit trail", () => {
  it("continues where it was in a new instance of the object, repeating no step", async () => {
    await start({
      id: "restart",
      gates: GATES,
      checkEvery: "1h",
      waves: [
        { connections: ["acme-saml"], soak: "1s" },
        { connections: ["globex-saml"], soak: "1s" },
      ],
    });
    await traffic("acme-saml", 4);
    await sleep(1_100);
    // A fresh object over the same storage (what an eviction or a deploy leaves), its alarm fired.
    await runInDurableObject(stub(), async (_instance, state) => {
      const fresh = new Autopilot(state, testEnv);
      await fresh.alarm();
      await fresh.alarm();
    });
    const view = await status();
    expect(conn(view, "acme-saml")).toMatchObject({ status: "promoted" });
    expect(conn(view, "globex-saml")).toMatchObject({ status: "soaking" });
    const audit = await json<{ entries: Array<{ action: string; subject: string | null }> }>(
      await api("/audit?limit=100"),
    );
    const cutovers = audit.entries.filter((e) => e.action === "autopilot.cutover" && e.subject === "acme-saml");
    expect(cutovers).toHaveLength(1);
  }, 20_000);

  it("does not apply twice a step the writer made but the plan had not recorded when it stopped", async () => {
    await start({ id: "crash", gates: GATES, checkEvery: "1h", waves: [{ connections: ["acme-saml"], soak: "1h" }] });
    const since = conn(await status(), "acme-saml")?.since;
    // As if the object stopped after the writer's cut-over and before it saved the plan.
    await runInDurableObject(stub(), async (_instance, state) => {
      const row = state.storage.sql.exec<{ json: string }>("SELECT json FROM plans WHERE id = 'crash'").one();
      const record = JSON.parse(row.json) as { connections: Array<Record<string, unknown>> };
      for (const c of record.connections) {
        c["status"] = "waiting";
        delete c["since"];
        delete c["soakUntil"];
      }
      state.storage.sql.exec("UPDATE plans SET json = ? WHERE id = 'crash'", JSON.stringify(record));
      await new Autopilot(state, testEnv).alarm();
    });
    expect(conn(await status(), "acme-saml")).toMatchObject({ status: "soaking", since });
    const audit = await json<{ entries: Array<{ actor: string; action: string; subject: string | null }> }>(
      await api("/audit?limit=100&connection=acme-saml"),
    );
    expect(audit.entries.filter((e) => e.actor === "autopilot:crash").map((e) => e.action)).toEqual([
      "autopilot.cutover",
      "route.update",
    ]);
  });

  it("records a whole plan in the audit as autopilot:<id>, each decision with its numbers", async () => {
    await start({
      id: "trail",
      gates: GATES,
      policy: { onRollback: "continue" },
      checkEvery: "1h",
      waves: [{ connections: ["acme-saml", "globex-saml"], soak: "1s" }],
    });
    await traffic("acme-saml", 4);
    await traffic("globex-saml", 4, 3);
    await sleep(1_100);
    await tick();
    expect((await status()).status).toBe("finished");
    const audit = await json<{
      entries: Array<{ actor: string; action: string; subject: string | null; after: Record<string, unknown> | null }>;
    }>(await api("/audit?limit=100"));
    const mine = audit.entries.filter((e) => e.actor === "autopilot:trail").reverse();
    expect(mine.map((e) => `${e.action} ${e.subject ?? ""}`)).toEqual([
      "route.update acme-saml",
      "autopilot.cutover acme-saml",
      "route.update globex-saml",
      "autopilot.cutover globex-saml",
      "autopilot.promote acme-saml",
      "route.update globex-saml",
      "autopilot.rollback globex-saml",
    ]);
    const rollback = mine.find((e) => e.action === "autopilot.rollback");
    expect(rollback?.after).toMatchObject({
      step: "trail/globex-saml/rollback",
      state: "legacy",
      numbers: { logins: 4, fallback: 3, fallbackShare: 0.75 },
    });
    const plan = audit.entries.find((e) => e.action === "autopilot.plan");
    expect(plan).toMatchObject({ actor: "token:ci", after: { plan: "trail" } });
  }, 20_000);
});
