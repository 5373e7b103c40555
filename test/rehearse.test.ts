/**
 * POST /rehearse (src/admin/rehearse.ts): recorded logins replayed through the router's own
 * decision code under a proposed change. A scripted case with exact answers, the refusals
 * (400 naming the field), nothing written — and a property: for generated tables, traffic and
 * changes, the rehearsal's prediction is what the router then does with the same callbacks
 * once the change is applied.
 */
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RehearsalReport } from "../src/admin/rehearse";
import type { RouteInput, RouteTableFile } from "../src/table/schema";
import { api, json, resetTable } from "./support/admin";
import { realCallback } from "./support/callbacks";
import { startLogin } from "./support/login-start";
import { reportExercised } from "./support/exercised";
import { call, captureLogs } from "./support/worker";
import { resetCounters } from "./support/counters";

const AFFINITY = { AFFINITY_SECRET: "rehearse-test-affinity-secret-0123456789" };
const TARGET = "https://sso.example.com/cb";

const START_KIND: Record<string, string> = {
  "saml-acs": "saml-post",
  "saml-post-without-connection": "saml-post",
  "saml-encrypted-without-connection": "saml-post",
  "wsfed-post": "wsfed",
  "oidc-code-with-iss": "oidc",
  "oidc-form-post": "oidc",
  "oidc-code-without-iss": "oidc",
};

/** The callback of `shape` for `route`; Auth0-started: a login started through the Worker first, its handle and cookie in the callback. */
async function loginCallback(shape: string, route: RouteInput, byAuth0: boolean): Promise<Request> {
  const request = realCallback(shape, route);
  if (!byAuth0) return request;
  const { cookies, handles } = await startLogin(START_KIND[shape] ?? "oidc", route.connection, AFFINITY);
  const handle = handles.state;
  const headers = new Headers(request.headers);
  headers.set("cookie", cookies.join("; "));
  if (request.method === "GET") {
    return new Request(request.url.replace("state=s", `state=${encodeURIComponent(handle)}`), { headers });
  }
  const fields = new URLSearchParams(await request.text());
  // The handle where each protocol echoes it: WS-Fed's wctx, form_post's state, SAML's RelayState.
  fields.set(fields.has("wresult") ? "wctx" : fields.has("id_token") ? "state" : "RelayState", handle);
  return new Request(request.url, { method: "POST", headers, body: fields.toString() });
}

/** Sends a callback; its log line's connection (the counters' key) and decision. */
async function send(request: Request): Promise<{ bucket: string; destination: string }> {
  const { result, logs } = await captureLogs(async () => {
    const res = await call(request, AFFINITY);
    await res.body?.cancel();
    return res.status;
  });
  expect(result).toBeLessThan(500);
  const line = logs.find((l) => l["event"] === "callback");
  return {
    bucket: (line?.["connection"] as string | null) ?? "(unidentified)",
    destination: String(line?.["decision"]),
  };
}

// The router answers with its own variables: AFFINITY_SECRET set, as for the callbacks.
const rehearseApi = (body: unknown) => api("/rehearse", { method: "POST", body, env: AFFINITY });

beforeEach(async () => {
  vi.spyOn(console, "log").mockImplementation(() => {});
  await resetTable();
  await resetCounters();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const DEMO: RouteTableFile = {
  settings: { mode: "route", unknown: "auth0", redirect: "307", defaultTarget: TARGET },
  routes: [
    { connection: "acme-saml", state: "migrated", protocol: "samlp" },
    { connection: "contoso-waad", state: "migrated", protocol: "waad" },
    { connection: "globex-saml", state: "legacy", protocol: "samlp" },
  ],
};
const route = (name: string) => DEMO.routes.find((r) => r.connection === name)!;

describe("POST /rehearse", () => {
  it("replays last week's logins under unknown: probe: which would move, where, and which stop being stranded", async () => {
    expect((await api("/import?mode=replace", { method: "POST", body: DEMO })).status).toBe(200);
    // acme: 3 logins by connection= (to the new provider, unchanged by the unknown policy).
    for (let i = 0; i < 3; i++) await send(await loginCallback("saml-acs", route("acme-saml"), false));
    // contoso (Entra, migrated): 2 logins Auth0 started (affinity keeps them at Auth0), 4 the new provider started.
    for (let i = 0; i < 2; i++) await send(await loginCallback("oidc-code-without-iss", route("contoso-waad"), true));
    for (let i = 0; i < 4; i++) await send(await loginCallback("oidc-code-without-iss", route("contoso-waad"), false));
    // globex: 1 login to Auth0 by its legacy route.
    await send(await loginCallback("saml-acs", route("globex-saml"), false));

    const audit = await json<{ entries: unknown[] }>(await api("/audit?limit=50"));
    const res = await rehearseApi({ table: { settings: { unknown: "probe" } } });
    expect(res.status).toBe(200);
    const r = await json<RehearsalReport>(res);
    const of = (c: string) => r.connections.find((x) => x.connection === c);
    // The 4 unidentified OIDC logins the new provider started: to Auth0 today (stranded), to the new provider under probe.
    expect(of("(unidentified)")).toMatchObject({
      logins: 4,
      changed: 4,
      to: { new: 4 },
      stranded: 0,
      strandedNow: 4,
      now: { auth0: 4 },
      proposed: { new: 4 },
    });
    expect(of("contoso-waad")).toMatchObject({ logins: 2, changed: 0, stranded: 0, now: { auth0: 2 } });
    expect(of("acme-saml")).toMatchObject({ logins: 3, changed: 0, now: { new: 3 }, proposed: { new: 3 } });
    expect(of("globex-saml")).toMatchObject({ logins: 1, changed: 0, now: { auth0: 1 } });
    expect(r.totals).toEqual({ logins: 10, changed: 4, stranded: 0, strandedNow: 4, to: { new: 4 } });
    // Nothing written: the settings, the audit log.
    expect((await json<{ unknown: string }>(await api("/settings"))).unknown).toBe("auth0");
    expect((await json<{ entries: unknown[] }>(await api("/audit?limit=50"))).entries).toEqual(audit.entries);

    // Affinity off under probe: the Auth0-started logins would be sent to the new provider: stranded, and said why.
    const off = await json<RehearsalReport>(
      await rehearseApi({ table: { settings: { affinity: "off", unknown: "probe" } } }),
    );
    expect(off.connections.find((x) => x.connection === "contoso-waad")).toMatchObject({
      changed: 2,
      to: { new: 2 },
      stranded: 2,
      strandedWhy: ["2 started by Auth0 but sent to the new provider (affinity off)"],
    });
    // A route flipped back to legacy, in a 1-day window.
    const back = await json<RehearsalReport>(
      await rehearseApi({ table: { routes: [{ connection: "acme-saml", state: "legacy" }] }, window: "1d" }),
    );
    expect(back.connections.find((x) => x.connection === "acme-saml")).toMatchObject({ changed: 3, to: { auth0: 3 } });
    expect(Date.parse(back.window.until) - Date.parse(back.window.since)).toBe(86_400_000);
  });

  it.each([
    [{ table: { routes: [{ connection: "acme-saml", state: "flipped" }] } }, "table.routes.0.state"],
    [{ table: { settings: { unknown: "maybe" } } }, "table.settings.unknown"],
    [{ table: { routes: "all" } }, "table.routes"],
    [{ table: { routez: [] } }, "table"],
    [{ table: {}, window: "9y" }, "window"],
    [{ table: {}, window: "40d" }, "window"],
    [{ window: "7d" }, "table"],
    [
      { table: { routes: [{ connection: "a", state: "migrated", target: "https://evil.test/cb" }] } },
      "table.routes.0.target",
    ],
  ])("answers 400 naming the field for a malformed proposal %j", async (body, field) => {
    const res = await rehearseApi(body);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = await json<{ errors: Array<{ field: string; reason: string }> }>(res);
    expect(problem.errors.map((e) => e.field)).toContain(field);
  });

  it("refuses a query parameter it does not take", async () => {
    expect((await api("/rehearse?dryRun=true", { method: "POST", body: { table: {} } })).status).toBe(400);
  });
});

/** The route pool of the property: one per kind of IdP, each with the shapes it sends. */
const POOL: Array<{ route: RouteInput; shapes: string[] }> = [
  {
    route: {
      connection: "q-saml",
      state: "legacy",
      protocol: "samlp",
      match: { idpEntityId: "https://idp.q.test/md" },
    },
    shapes: ["saml-acs", "saml-post-without-connection", "saml-encrypted-without-connection"],
  },
  {
    route: { connection: "q-plain-saml", state: "legacy", protocol: "samlp" },
    shapes: ["saml-acs", "saml-encrypted-without-connection"],
  },
  { route: { connection: "q-waad", state: "legacy", protocol: "waad" }, shapes: ["oidc-code-without-iss"] },
  {
    route: {
      connection: "q-kc",
      state: "legacy",
      protocol: "oidc",
      match: { oidcIssuer: "https://kc.q.test/realms/a" },
    },
    shapes: ["oidc-code-with-iss", "oidc-form-post", "oidc-code-without-iss"],
  },
  {
    route: {
      connection: "q-adfs",
      state: "legacy",
      protocol: "adfs",
      match: { idpEntityId: "http://adfs.q.test/trust" },
    },
    shapes: ["wsfed-post"],
  },
];
const STATE = fc.constantFrom("legacy", "migrated", "rollout") as fc.Arbitrary<RouteInput["state"]>;
const UNKNOWN = fc.constantFrom("auth0", "probe") as fc.Arbitrary<"auth0" | "probe">;
const ROLLOUT = fc
  .constantFrom(0, 30, 70, 100)
  .map((percentage) => ({ percentage, include: [] as string[], exclude: [] as string[] }));
const SETTINGS = fc.record({ unknown: UNKNOWN, rollout: ROLLOUT });
const SCENARIO = fc.record({
  before: fc.record({
    states: fc.array(STATE, { minLength: POOL.length, maxLength: POOL.length }),
    settings: SETTINGS,
  }),
  after: fc.record({
    states: fc.array(fc.option(STATE), { minLength: POOL.length, maxLength: POOL.length }),
    settings: fc.option(fc.record({ unknown: UNKNOWN, rollout: ROLLOUT, affinity: fc.constantFrom("on", "off") })),
  }),
  traffic: fc.array(fc.record({ route: fc.nat(POOL.length - 1), shape: fc.nat(2), byAuth0: fc.boolean() }), {
    minLength: 4,
    maxLength: 10,
  }),
});

describe("rehearsal property", () => {
  it("predicts, per connection and destination, what the router does with the same callbacks once the change is applied", async (context) => {
    let runs = 0;
    let logins = 0;
    let changed = 0;
    let stranded = 0;
    await fc.assert(
      fc.asyncProperty(SCENARIO, async (s) => {
        await resetTable();
        await resetCounters();
        const before: RouteTableFile = {
          settings: { mode: "route", redirect: "307", defaultTarget: TARGET, ...s.before.settings },
          routes: POOL.map((p, i) => ({ ...p.route, state: s.before.states[i] ?? "legacy" })),
        };
        expect((await api("/import?mode=replace", { method: "POST", body: before })).status).toBe(200);
        const sent = s.traffic.map((t) => {
          const p = POOL[t.route]!;
          return { route: before.routes[t.route]!, shape: p.shapes[t.shape % p.shapes.length]!, byAuth0: t.byAuth0 };
        });
        const observedNow: string[] = [];
        const buckets: string[] = [];
        for (const t of sent) {
          const got = await send(await loginCallback(t.shape, t.route, t.byAuth0));
          buckets.push(got.bucket);
          observedNow.push(got.destination);
        }
        const proposal = {
          ...(s.after.settings === null ? {} : { settings: s.after.settings }),
          routes: POOL.flatMap((p, i) => {
            const state = s.after.states[i];
            return state === null || state === undefined ? [] : [{ ...p.route, state }];
          }),
        };
        const res = await rehearseApi({ table: proposal });
        expect(res.status).toBe(200);
        const report = await json<RehearsalReport>(res);

        // Apply the change, and send the same callbacks again.
        expect((await api("/import?mode=merge", { method: "POST", body: proposal })).status).toBe(200);
        const observedAfter: string[] = [];
        for (const t of sent)
          observedAfter.push((await send(await loginCallback(t.shape, t.route, t.byAuth0))).destination);

        const tally = (destinations: string[]) => {
          const out: Record<string, Record<string, number>> = {};
          destinations.forEach((d, i) => {
            const b = (out[buckets[i]!] ??= {});
            b[d] = (b[d] ?? 0) + 1;
          });
          return out;
        };
        const predicted = (side: "now" | "proposed") =>
          Object.fromEntries(report.connections.map((c) => [c.connection, c[side]]));
        expect(predicted("now")).toEqual(tally(observedNow));
        expect(predicted("proposed")).toEqual(tally(observedAfter));
        runs += 1;
        logins += report.totals.logins;
        changed += report.totals.changed;
        stranded += report.totals.stranded;
      }),
      { numRuns: 14, endOnFailure: true },
    );
    const summary = `rehearsal property: ${runs} runs, ${logins} logins replayed, ${changed} predicted to change, ${stranded} stranded`;
    await reportExercised(context, summary);
    expect(runs).toBe(14);
    expect(logins).toBeGreaterThanOrEqual(14 * 4);
    expect(changed).toBeGreaterThanOrEqual(5);
    expect(stranded).toBeGreaterThanOrEqual(1);
  }, 120_000);
});
