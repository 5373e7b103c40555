import { env, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, inject, it } from "vitest";
import { TrafficCounter } from "../src/stats/counter-do";
import type { Counts, Shares } from "../src/stats/report";
import { shardName } from "../src/stats/recorder";
import { api, json, resetTable } from "./support/admin";
import { passThrough } from "./support/kv";
import { call, captureLogs, form, HOST, postForm } from "./support/worker";
import { resetCounters } from "./support/counters";

type Point = { at: string } & Counts & Shares;
type ConnectionStats = Shares & {
  connection: string;
  state: string | null;
  counts: Counts;
  flags: string[];
  flagDetails: Array<{
    flag: string;
    since: string;
    until: string;
    startsAt: string;
    count: number;
    actOn?: { invalid: number; unavailable: number; propagation: number };
  }>;
  distinctNames?: { estimate: number; saturated: boolean };
  lastSeen: { at: string; kind: string; destination: string; status: number; reason: string } | null;
};
type Report = Shares & {
  since: string;
  until: string;
  step: string;
  totals: Counts;
  series: Point[];
  routes: Record<string, number>;
  connections: ConnectionStats[];
  flagged: ConnectionStats[];
};
type One = ConnectionStats & { since: string; until: string; step: string; series: Point[] };

const NO_AUTH0_BY = { killSwitch: 0, shadow: 0, affinity: 0, route: 0, invalid: 0, unavailable: 0, other: 0 };
const shard = (i: number) => env.TRAFFIC_COUNTER.get(env.TRAFFIC_COUNTER.idFromName(shardName(i)));

async function seedTable(): Promise<void> {
  await api("/import?mode=replace", {
    method: "POST",
    body: {
      settings: { defaultTarget: "https://sso.example.com/cb" },
      routes: [
        { connection: "acme-saml", state: "migrated" },
        { connection: "globex-saml", state: "legacy" },
        { connection: "umbrella-saml", state: "migrated" },
      ],
    },
  });
}

const closedOrigin = () => ({ AUTH0_ORIGIN: `http://127.0.0.1:${inject("closedPort")}` });
async function drain(res: Response | Promise<Response>): Promise<number> {
  const r = await res;
  await r.body?.cancel();
  return r.status;
}
/**
 * A browser: it keeps the bounce marks the router's 307s set and sends them back, so a bounce
 * of a login the router sent to the new provider counts (src/callback/bounce-mark.ts; needs
 * AFFINITY_SECRET). Unmarked bounces: test/bounce-mark.test.ts.
 */
const marks = new Map<string, string>();
const MARKED = { AFFINITY_SECRET: "stats-test-affinity-secret-0123456789ab" };
async function browse(request: Request, overrides = {}): Promise<Response> {
  if (marks.size > 0) request.headers.set("cookie", [...marks.values()].join("; "));
  const res = await call(request, { ...MARKED, ...overrides });
  for (const header of res.headers.getSetCookie()) {
    const pair = header.split(";")[0] ?? "";
    if (pair.startsWith("crb")) marks.set(pair.slice(0, pair.indexOf("=")), pair);
  }
  return res;
}
const callback = (query: string, overrides = {}) =>
  drain(browse(new Request(`${HOST}/login/callback?${query}`), overrides));
const report = async (query = ""): Promise<Report> => json<Report>(await api(`/stats${query}`));
const of = (r: Report, connection: string) => r.connections.find((c) => c.connection === connection);
const ago = (ms: number) => encodeURIComponent(new Date(Date.now() - ms).toISOString());

/**
 * The scripted mix of the definitions (README "Watching the migration"): every kind of
 * answer once or more, with the numbers each must add.
 */
async function scriptedMix(): Promise<void> {
  // acme-saml, migrated: 3 logins sent to the new provider and kept there.
  for (let i = 0; i < 3; i++) expect(await callback("connection=acme-saml")).toBe(307);
  // globex-saml, legacy: 2 logins forwarded to Auth0.
  for (let i = 0; i < 2; i++) expect(await callback("connection=globex-saml")).toBe(200);
  // umbrella-saml, migrated: 4 logins sent to the new provider, 2 of them bounced back (each
  // right after its own hand-off: a mark counts one bounce).
  for (let i = 0; i < 4; i++) {
    expect(await callback("connection=umbrella-saml")).toBe(307);
    if (i >= 2) expect(await callback("connection=umbrella-saml&fallback=auth0")).toBe(200);
  }
  // An OIDC callback nobody can attribute: 1 login to Auth0, unidentified.
  expect(await callback("code=x&state=y")).toBe(200);
  // Errors: Auth0 unreachable for a globex login (502, the Worker's own answer) ...
  expect(
    await drain(call(postForm("/login/callback?connection=globex-saml", form({ SAMLResponse: "x" })), closedOrigin())),
  ).toBe(502);
  // ... a callback while AUTH0_ORIGIN is missing (502 before any routing) ...
  expect(await callback("connection=acme-saml", { AUTH0_ORIGIN: undefined })).toBe(502);
  // ... and Auth0's pages unreachable on another path (not a login; an error all the same).
  expect(await drain(call(new Request(`${HOST}/authorize?client_id=x`), closedOrigin()))).toBe(502);
  // Not a login: a HEAD on the callback.
  expect(await drain(call(new Request(`${HOST}/login/callback?connection=acme-saml`, { method: "HEAD" })))).toBe(200);
}

beforeEach(async () => {
  marks.clear();
  await resetTable();
  await resetCounters();
  await seedTable();
});

describe("traffic counters: definitions", () => {
  it("counts a scripted mix exactly: a bounced login is one login, served by Auth0", async () => {
    await scriptedMix();
    const r = await report();
    expect(r.totals).toEqual({
      logins: 12,
      auth0: 5,
      new: 7,
      fallback: 2,
      unidentified: 2,
      errors: 3,
      affinity: 0,
      // Why each Auth0 login went there: globex's 3 and the OIDC one by the table, the missing AUTH0_ORIGIN's before routing.
      auth0By: { killSwitch: 0, shadow: 0, affinity: 0, route: 4, invalid: 0, unavailable: 0, other: 1 },
      unserved: 0,
      callbacks: 14,
    });
    // Logins the new provider kept (7 sent − 2 bounced) / 12 logins; bounced / sent there.
    expect(r.newShare).toBe(5 / 12);
    expect(r.fallbackShare).toBe(2 / 7);
    expect(of(r, "acme-saml")).toMatchObject({
      state: "migrated",
      counts: { logins: 3, auth0: 0, new: 3, fallback: 0, unidentified: 0, errors: 0, affinity: 0, callbacks: 3 },
      newShare: 1,
      fallbackShare: 0,
      flags: [],
    });
    expect(of(r, "globex-saml")).toMatchObject({
      counts: { logins: 3, auth0: 3, new: 0, fallback: 0, errors: 1, callbacks: 3 },
      newShare: 0,
      fallbackShare: null,
      flags: ["errors"],
    });
    // Every login bounced would be 100 %, not 50 %: here 2 of 4.
    expect(of(r, "umbrella-saml")).toMatchObject({
      counts: { logins: 4, new: 4, fallback: 2, callbacks: 6 },
      newShare: 0.5,
      fallbackShare: 0.5,
      flags: ["fallback-share-high"],
    });
    expect(of(r, "(unidentified)")).toMatchObject({
      state: null,
      counts: { logins: 2, auth0: 2, unidentified: 2, errors: 1 },
      flags: ["errors"],
    });
    expect(of(r, "(not a callback)")).toMatchObject({
      counts: { logins: 0, callbacks: 0, errors: 1 },
      flags: ["errors"],
      lastSeen: { kind: "other", status: 502, reason: "pass-through" },
    });
    expect(r.routes).toEqual({ legacy: 1, migrated: 2, rollout: 0 });
    expect(r.flagged.map((c) => c.connection).sort()).toEqual([
      "(not a callback)",
      "(unidentified)",
      "globex-saml",
      "umbrella-saml",
    ]);
  });

  it("says 100 % bounced when the new provider sends every login back", async () => {
    for (let i = 0; i < 40; i++) {
      expect(await callback("connection=umbrella-saml")).toBe(307);
      expect(await callback("connection=umbrella-saml&fallback=auth0")).toBe(200);
    }
    const r = await report();
    expect(of(r, "umbrella-saml")).toMatchObject({
      counts: { logins: 40, new: 40, fallback: 40, auth0: 0, callbacks: 80 },
      newShare: 0,
      fallbackShare: 1,
    });
    expect(r.newShare).toBe(0);
    // 80 callbacks through the Worker: a busy shared machine takes more than the default 5 s.
  }, 30_000);

  it("counts a bounce as a bounce even while the kill switch is on", async () => {
    expect(await callback("connection=umbrella-saml")).toBe(307);
    await api("/settings", { method: "PUT", body: { killSwitch: { on: true } } });
    expect(await callback("connection=umbrella-saml&fallback=auth0")).toBe(200);
    expect(of(await report(), "umbrella-saml")?.counts).toMatchObject({ logins: 1, new: 1, fallback: 1, auth0: 0 });
  });

  it("counts a bounce under the connection its login was identified by: an OIDC iss, a SAML Audience", async () => {
    const hooli = await api("/routes/hooli-okta", {
      method: "PUT",
      body: { state: "migrated", match: { oidcIssuer: "https://hooli.okta.example" } },
    });
    expect(hooli.status).toBe(201);
    const iss = `code=x&state=y&iss=${encodeURIComponent("https://hooli.okta.example")}`;
    expect(await callback(iss)).toBe(307);
    expect(await callback(`${iss}&fallback=auth0`)).toBe(200);
    // A SAML POST with no connection parameter, identified by its Audience (acme-saml).
    const saml = form({ SAMLResponse: inject("saml").prefixed, RelayState: "r" });
    expect(await drain(browse(postForm("/login/callback", saml)))).toBe(307);
    const { result, logs } = await captureLogs(() => browse(postForm("/login/callback?fallback=auth0", saml)));
    expect(result.status).toBe(200);
    await result.body?.cancel();
    expect(logs).toContainEqual(
      expect.objectContaining({
        event: "callback",
        connection: "acme-saml",
        reason: "fallback-bounce",
        fallback: true,
        fallbackMark: "valid",
      }),
    );
    const r = await report();
    expect(of(r, "hooli-okta")?.counts).toMatchObject({ logins: 1, new: 1, fallback: 1 });
    expect(of(r, "acme-saml")?.counts).toMatchObject({ logins: 1, new: 1, fallback: 1 });
    expect(of(r, "(unidentified)")).toBeUndefined();
  });

  it("flags a migrated connection whose bounce share exceeds the threshold", async () => {
    for (let i = 0; i < 10; i++) await callback("connection=umbrella-saml");
    await callback("connection=umbrella-saml&fallback=auth0");
    const r = await report();
    expect(of(r, "umbrella-saml")).toMatchObject({
      state: "migrated",
      fallbackShare: 0.1,
      flags: ["fallback-share-high"],
    });
    const strict = await json<Report>(await api("/stats", { env: { STATS_FALLBACK_ALERT_SHARE: "0.5" } }));
    expect(of(strict, "umbrella-saml")?.flags).toEqual([]);
  });

  it("flags connections not in the table in one bucket, and no kill-switch login of a migrated connection", async () => {
    await api("/settings", { method: "PUT", body: { killSwitch: { on: true } } });
    await callback("connection=acme-saml");
    await callback("connection=not-routed");
    const r = await report();
    expect(of(r, "acme-saml")).toMatchObject({ flags: [], counts: { auth0: 1, auth0By: { killSwitch: 1 } } });
    expect(of(r, "not-routed")).toBeUndefined();
    expect(of(r, "(not in table)")).toMatchObject({
      state: null,
      flags: ["not-in-table"],
      counts: { logins: 1 },
      distinctNames: { estimate: 1, saturated: false },
    });
  });

  it("remembers the last callback seen per connection", async () => {
    const before = Date.now();
    await callback("connection=umbrella-saml");
    await callback("connection=umbrella-saml&fallback=auth0");
    const last = of(await report(), "umbrella-saml")?.lastSeen;
    expect(last).toMatchObject({ kind: "bounce", destination: "auth0", status: 200, reason: "fallback-bounce" });
    expect(Date.parse(last?.at ?? "")).toBeGreaterThanOrEqual(before);
  });
});

describe("traffic counters: time", () => {
  it("gives a per-minute series for the last 15 minutes, zero-filled, newest bucket last", async () => {
    await scriptedMix();
    const r = await report(`?since=${ago(15 * 60_000)}&step=1m`);
    expect(r.step).toBe("1m");
    expect(r.series.length).toBeGreaterThanOrEqual(15);
    expect(r.series.length).toBeLessThanOrEqual(16);
    const last = r.series.at(-1);
    expect(last?.at).toBe(`${new Date().toISOString().slice(0, 16)}:00.000Z`);
    // The whole mix fell in this minute (or, at a minute's turn, the one before).
    const sum = (k: "logins" | "fallback" | "errors") => r.series.reduce((a, p) => a + p[k], 0);
    expect({ logins: sum("logins"), fallback: sum("fallback"), errors: sum("errors") }).toEqual({
      logins: 12,
      fallback: 2,
      errors: 3,
    });
    expect(r.series.slice(0, -2).every((p) => p.callbacks === 0 && p.newShare === null)).toBe(true);
    expect(r.since).toBe(r.series[0]?.at);
  });

  it("picks the step from the window: 1m up to 3 h, 5m up to 6 h, 1h up to 8 days, else 1d", async () => {
    expect((await report(`?since=${ago(60 * 60_000)}`)).step).toBe("1m");
    expect((await report(`?since=${ago(5 * 3_600_000)}`)).step).toBe("5m");
    const day = await report();
    expect(day.step).toBe("1h");
    expect(day.series.length).toBeGreaterThanOrEqual(24);
    expect((await report(`?since=${ago(7 * 86_400_000)}`)).series.length).toBeGreaterThanOrEqual(168);
    expect((await report(`?since=${ago(20 * 86_400_000)}`)).step).toBe("1d");
  });

  it("sums minutes into 5-minute and hourly steps the same", async () => {
    await callback("connection=acme-saml");
    await callback("connection=globex-saml");
    for (const step of ["5m", "15m", "1h", "6h", "1d"]) {
      const r = await report(`?since=${ago(60 * 60_000)}&step=${step}`);
      expect(r.series.at(-1), step).toMatchObject({ logins: 2, new: 1, auth0: 1, newShare: 0.5 });
    }
  });

  it("ends the window at until: nothing after it is counted", async () => {
    await callback("connection=acme-saml");
    const r = await report(`?since=${ago(3 * 3_600_000)}&until=${ago(2 * 3_600_000)}`);
    expect(r.totals.logins).toBe(0);
    expect(Date.parse(r.until)).toBeLessThan(Date.now() - 2 * 3_600_000 + 1000);
  });

  it.each([
    [`since=${ago(40 * 86_400_000)}`, "query.since", "at most 35 days ago"],
    [`since=${ago(-3_600_000)}`, "query.since", "must be before until"],
    [`until=${ago(-3_600_000)}`, "query.until", "must not be in the future"],
    [`since=${ago(3_600_000)}&until=${ago(2 * 3_600_000)}`, "query.since", "must be before until"],
    [`since=${ago(7 * 3_600_000)}&step=1m`, "query.step", "per-minute counts are kept 6 hours"],
    ["step=2m", "query.step", undefined],
    ["since=yesterday", "query.since", undefined],
  ])("refuses %s as problem+json naming %s", async (query, field, reason) => {
    const res = await api(`/stats?${query}`);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = await json<{ errors: Array<{ field: string; reason: string }> }>(res);
    expect(problem.errors[0]?.field).toBe(field);
    if (reason !== undefined) expect(problem.errors[0]?.reason).toBe(reason);
  });

  it("gives one connection's series, counts and last callback", async () => {
    await scriptedMix();
    const one = await json<One>(await api(`/stats/umbrella-saml?since=${ago(15 * 60_000)}&step=5m`));
    expect(one).toMatchObject({
      connection: "umbrella-saml",
      state: "migrated",
      step: "5m",
      counts: { logins: 4, new: 4, fallback: 2 },
      fallbackShare: 0.5,
      lastSeen: { kind: "bounce" },
    });
    expect(one.series.reduce((a, p) => a + p.fallback, 0)).toBe(2);
    expect(one.series.length).toBeGreaterThanOrEqual(3);
    expect((await api("/stats/Not%20a%20name")).status).toBe(400);
    expect((await json<One>(await api("/stats/(unidentified)"))).counts).toMatchObject({ logins: 2, unidentified: 2 });
  });

  it("keeps minute rows 6 hours and hour rows 35 days (the hourly alarm's prune)", async () => {
    const now = Date.now();
    const key = (ms: number, length: number) => new Date(now - ms).toISOString().slice(0, length);
    const row = {
      connection: "acme-saml",
      auth0: 1,
      new: 0,
      fallback: 0,
      unidentified: 0,
      errors: 0,
      affinity: 0,
      auth0By: { ...NO_AUTH0_BY, route: 1 },
      unserved: 0,
    };
    await shard(0).add([
      { ...row, at: key(7 * 3_600_000, 16) },
      { ...row, at: key(60_000, 16) },
    ]);
    await shard(0).add([{ ...row, at: key(36 * 86_400_000, 16) }]);
    await runInDurableObject(shard(0), (instance: TrafficCounter) => instance.prune(now));
    const minutes = await shard(0).query("minute", "2000", "9999");
    expect(minutes.map((r) => r.at)).toEqual([key(60_000, 16)]);
    const hours = await shard(0).query("hour", "2000", "9999");
    expect(hours.map((r) => r.at).sort()).toEqual([key(7 * 3_600_000, 13), key(60_000, 13)].sort());
  });

  it("moves the first release's hourly counts into the hourly table", async () => {
    const stub = env.TRAFFIC_COUNTER.get(env.TRAFFIC_COUNTER.idFromName("migration-test"));
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql
        .exec(`CREATE TABLE counts (hour TEXT NOT NULL, connection TEXT NOT NULL, auth0 INTEGER, new INTEGER,
        fallback INTEGER, unidentified INTEGER, errors INTEGER, PRIMARY KEY (hour, connection))`);
      state.storage.sql.exec("INSERT INTO counts VALUES ('2026-11-23T13', '(unidentified)', 0, 0, 0, 3, 1)");
      state.storage.sql.exec("INSERT INTO counts VALUES ('2026-11-23T13', 'acme-saml', 1, 5, 2, 0, 0)");
      new TrafficCounter(state, env as never);
      expect(state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = 'counts'").toArray()).toEqual([]);
    });
    expect(await stub.query("hour", "2026-11-23T13", "2026-11-23T13")).toEqual(
      expect.arrayContaining([
        {
          at: "2026-11-23T13",
          connection: "(unidentified)",
          auth0: 3,
          new: 0,
          fallback: 0,
          unidentified: 3,
          errors: 1,
          affinity: 0,
          auth0By: { ...NO_AUTH0_BY, other: 3 },
          unserved: 0,
        },
        {
          at: "2026-11-23T13",
          connection: "acme-saml",
          auth0: 1,
          new: 5,
          fallback: 2,
          unidentified: 0,
          errors: 0,
          affinity: 0,
          auth0By: { ...NO_AUTH0_BY, other: 1 },
          unserved: 0,
        },
      ]),
    );
  });
});

describe("traffic counters: never in the way", () => {
  it("keeps answering callbacks when the counters fail, and logs why", async () => {
    const broken = new Proxy(env.TRAFFIC_COUNTER, {
      get(target, prop) {
        if (prop === "get") return () => ({ add: () => Promise.reject(new Error("counter shard overloaded")) });
        return passThrough(target, prop);
      },
    });
    const { result, logs } = await captureLogs(() =>
      call(new Request(`${HOST}/login/callback?connection=acme-saml`), { TRAFFIC_COUNTER: broken }),
    );
    expect(result.status).toBe(307);
    expect(logs).toContainEqual(
      expect.objectContaining({
        event: "stats-error",
        message: expect.stringContaining("counter shard overloaded") as unknown,
      }),
    );
  });

  it("batches an isolate's counts: concurrent callbacks reach one shard in one write", async () => {
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        call(new Request(`${HOST}/login/callback?connection=acme-saml`), { STATS_FLUSH_MS: "200" }),
      ),
    );
    await Promise.all(answers.map((a) => a.body?.cancel()));
    const perShard = await Promise.all(
      Array.from({ length: 8 }, (_, i) => shard(i).query("hour", "2000-01-01T00", "9999", "acme-saml")),
    );
    const written = perShard.filter((rows) => rows.length > 0);
    expect(written).toHaveLength(1);
    expect(written[0]?.[0]).toMatchObject({ connection: "acme-saml", new: 6 });
  });
});
