/**
 * Alarms from the right traffic (issue 17) and counters a stranger cannot grow (issue 22):
 * a migrated connection's flags count only the logins since its state last changed (and
 * since the kill switch or shadow mode ended) that reached Auth0 for a reason to act on,
 * and every connection name without a route shares one (not in table) row.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { shardName } from "../src/stats/recorder";
import { flagBasis, startKey, type ConnectionStats, type StatsReport } from "../src/stats/report";
import { emptyAuth0By, type CountRow } from "../src/stats/rows";
import { addName, estimateNames, NAME_BYTES } from "../src/stats/sketch";
import { isolateCache } from "../src/table/store";
import { api, json, resetTable } from "./support/admin";
import { failingKv } from "./support/kv";
import { call, HOST } from "./support/worker";
import { resetCounters } from "./support/counters";

type Report = StatsReport & { routes: Record<string, number> };

const shard = (i: number) => env.TRAFFIC_COUNTER.get(env.TRAFFIC_COUNTER.idFromName(shardName(i)));
const writer = () => env.ROUTE_WRITER.get(env.ROUTE_WRITER.idFromName("route-table"));

/** One login callback; the answer's status. */
async function login(connection: string, overrides = {}): Promise<number> {
  const res = await call(new Request(`${HOST}/login/callback?connection=${connection}&code=c`), overrides);
  await res.body?.cancel();
  return res.status;
}

async function logins(n: number, connection: string, overrides = {}): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) statuses.push(await login(connection, overrides));
  return statuses;
}

const report = async (query = ""): Promise<Report> => json<Report>(await api(`/stats${query}`));
const of = (r: Report, connection: string): ConnectionStats | undefined =>
  r.connections.find((c) => c.connection === connection);
const flag = (c: ConnectionStats | undefined, name: string) => c?.flagDetails.find((d) => d.flag === name);

async function setState(connection: string, state: string): Promise<void> {
  const res = await api(`/routes/${connection}`, { method: "PATCH", body: { state } });
  expect(res.status).toBe(200);
}

/** The kill switch: its own setting beside the mode. */
async function killSwitch(on: boolean): Promise<void> {
  const res = await api("/settings", { method: "PUT", body: { killSwitch: { on } } });
  expect(res.status).toBe(200);
}

/** Moves a route's recorded state change back in time, as if it had been made `ms` ago. */
async function stateChangedAgo(connection: string, ms: number): Promise<void> {
  await runInDurableObject(writer(), (_instance, state) => {
    state.storage.sql.exec(
      "UPDATE routes SET state_changed_at = ? WHERE connection = ?",
      new Date(Date.now() - ms).toISOString(),
      connection,
    );
  });
}

beforeEach(async () => {
  vi.spyOn(console, "log").mockImplementation(() => {});
  await resetTable();
  await resetCounters();
  await api("/import?mode=replace", {
    method: "POST",
    body: {
      settings: { defaultTarget: "https://sso.example.com/cb" },
      routes: [
        { connection: "acme-saml", state: "migrated" },
        { connection: "globex-saml", state: "legacy" },
      ],
    },
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("auth0-traffic-while-migrated: only logins to act on, since the change", () => {
  it("stays quiet after a cut-over, then names a refused record and its 3 logins", async () => {
    expect(await logins(20, "globex-saml")).toEqual(Array(20).fill(200));
    await setState("globex-saml", "migrated");
    expect(await logins(10, "globex-saml")).toEqual(Array(10).fill(307));
    const after = of(await report(), "globex-saml");
    expect(after).toMatchObject({
      state: "migrated",
      counts: { logins: 30, auth0: 20, new: 10, auth0By: { route: 20 } },
      flags: [],
      flagWindow: { startsAt: "state-change" },
    });
    expect(Date.parse(after?.flagWindow?.since ?? "")).toBeLessThanOrEqual(Date.parse(after?.stateSince ?? ""));

    // The record is made invalid in KV (what the router reads): 3 logins go to Auth0 for it.
    await env.ROUTES.put("route:globex-saml", JSON.stringify({ connection: "globex-saml", state: "sideways" }));
    isolateCache.clear();
    expect(await logins(3, "globex-saml")).toEqual([200, 200, 200]);
    const broken = of(await report(), "globex-saml");
    expect(broken?.flags).toEqual(["auth0-traffic-while-migrated"]);
    expect(flag(broken, "auth0-traffic-while-migrated")).toMatchObject({
      count: 3,
      actOn: { invalid: 3, unavailable: 0, propagation: 0 },
      startsAt: "state-change",
    });
  }, 20_000);

  it("names an unreadable table (KV failing, nothing cached) and its logins", async () => {
    isolateCache.clear();
    const down = { ROUTES: failingKv() };
    expect(await logins(2, "acme-saml", down)).toEqual([200, 200]);
    expect(flag(of(await report(), "acme-saml"), "auth0-traffic-while-migrated")).toMatchObject({
      count: 2,
      actOn: { invalid: 0, unavailable: 2, propagation: 0 },
    });
  });

  it("raises nothing for a kill-switch drill on a migrated connection, and watches from its end", async () => {
    expect(await logins(2, "acme-saml")).toEqual([307, 307]);
    await killSwitch(true);
    expect(await logins(5, "acme-saml")).toEqual(Array(5).fill(200));
    await killSwitch(false);
    expect(await logins(2, "acme-saml")).toEqual([307, 307]);
    const acme = of(await report(), "acme-saml");
    expect(acme).toMatchObject({
      counts: { auth0: 5, new: 4, auth0By: { killSwitch: 5 } },
      flags: [],
      flagWindow: { startsAt: "kill-switch-off" },
    });
  });

  it("raises nothing for shadow mode on a migrated connection", async () => {
    await api("/settings", { method: "PUT", body: { mode: "shadow" } });
    expect(await logins(4, "acme-saml")).toEqual(Array(4).fill(200));
    await api("/settings", { method: "PUT", body: { mode: "route" } });
    const acme = of(await report(), "acme-saml");
    expect(acme).toMatchObject({ counts: { auth0: 4, auth0By: { shadow: 4 } }, flags: [] });
    expect(acme?.flagWindow?.startsAt).toBe("shadow-off");
  });

  it("counts the table's Auth0 logins as late propagation only past ROUTE_CACHE_SECONDS + 60 s after the change", async () => {
    // acme-saml became migrated 10 minutes ago; the counters hold logins the table sent to
    // Auth0 12 minutes ago (before), 9.5 minutes ago (within the grace) and 5 minutes ago (late).
    await stateChangedAgo("acme-saml", 10 * 60_000);
    const minute = (ago: number) => new Date(Date.now() - ago).toISOString().slice(0, 16);
    const routeLogins = (at: string, n: number): CountRow => ({
      at,
      connection: "acme-saml",
      auth0: n,
      new: 0,
      fallback: 0,
      unidentified: 0,
      errors: 0,
      affinity: 0,
      auth0By: { ...emptyAuth0By(), route: n },
      unserved: 0,
    });
    await shard(0).add([routeLogins(minute(12 * 60_000), 20), routeLogins(minute(9.5 * 60_000), 4)]);
    const before = of(await report(), "acme-saml");
    expect(before).toMatchObject({ counts: { auth0: 24 }, flags: [] });
    await shard(1).add([routeLogins(minute(5 * 60_000), 2)]);
    const late = of(await report(), "acme-saml");
    expect(flag(late, "auth0-traffic-while-migrated")).toMatchObject({
      count: 2,
      actOn: { invalid: 0, unavailable: 0, propagation: 2 },
    });
    // ROUTE_CACHE_SECONDS is 0 in the tests: the grace is KV's 60 s, rounded up to the next minute.
    const change = Date.now() - 10 * 60_000;
    const propagationSince = Date.parse(late?.flagWindow?.propagationSince ?? "");
    expect(propagationSince).toBeGreaterThanOrEqual(change + 60_000);
    expect(propagationSince).toBeLessThan(change + 120_000);
  });
});

describe("flag windows (pure, explicit clock)", () => {
  const T = Date.parse("2026-12-01T12:00:30Z");
  const none = { killSwitchEndedAt: null, shadowEndedAt: null };

  it("starts at the latest of the window, the state change, the kill switch's and shadow mode's end", () => {
    const from = T - 3_600_000;
    expect(flagBasis(from, { state: "migrated", since: T }, none, 70_000)).toEqual({
      start: T,
      startsAt: "state-change",
      staleStart: T + 70_000,
    });
    expect(flagBasis(from, { state: "migrated", since: T - 7_200_000 }, none, 70_000)).toMatchObject({
      start: from,
      startsAt: "window",
      staleStart: from,
    });
    const levers = { killSwitchEndedAt: T + 300_000, shadowEndedAt: T + 100_000 };
    expect(flagBasis(from, { state: "migrated", since: T }, levers, 70_000)).toEqual({
      start: T + 300_000,
      startsAt: "kill-switch-off",
      staleStart: T + 300_000,
    });
  });

  it("reads minutes while they are kept, rounding the propagation start up and the rest down", () => {
    const now = T + 600_000;
    expect(startKey(T, now, true)).toMatchObject({ resolution: "minute", key: "2026-12-01T12:00" });
    expect(startKey(T + 70_000, now, false)).toMatchObject({ resolution: "minute", key: "2026-12-01T12:02" });
    // Older than the 6 h of minute rows: hours, the change's hour in, a partial hour after the grace out.
    const later = T + 7 * 3_600_000;
    expect(startKey(T, later, true)).toMatchObject({ resolution: "hour", key: "2026-12-01T12" });
    expect(startKey(T + 70_000, later, false)).toMatchObject({ resolution: "hour", key: "2026-12-01T13" });
  });
});

describe("bounded counters: (not in table)", () => {
  it("counts 2 000 unknown connection names in one row whose size does not grow with them", async () => {
    // unknown: probe answers each with a 307 (no forward to the Auth0 stand-in).
    expect((await api("/settings", { method: "PUT", body: { unknown: "probe" } })).status).toBe(200);
    // 100 names through the Worker, end to end (batched as an isolate batches them) ...
    const names = Array.from({ length: 100 }, (_, i) => `spam-${i}`);
    for (let i = 0; i < names.length; i += 50) {
      const statuses = await Promise.all(names.slice(i, i + 50).map((n) => login(n, { STATS_FLUSH_MS: "100" })));
      expect(statuses.every((s) => s === 307)).toBe(true);
    }
    const smallText = await (await api("/stats")).text();
    // ... and 1 900 more in the recorder's batches of per-minute rows, straight to the shards.
    const at = new Date().toISOString().slice(0, 16);
    const row = (connection: string): CountRow => ({
      at,
      connection,
      auth0: 0,
      new: 1,
      fallback: 0,
      unidentified: 0,
      errors: 0,
      affinity: 0,
      auth0By: emptyAuth0By(),
      unserved: 0,
    });
    for (let i = 0; i < 1900; i += 475) {
      const batch = Array.from({ length: 475 }, (_, j) => row(`spam-${100 + i + j}`));
      await shard(i % 8).add(batch, [
        {
          connection: batch[0]?.connection ?? "",
          at: Date.now(),
          kind: "login",
          destination: "new",
          status: 307,
          reason: "unknown-connection",
        },
      ]);
    }
    const bigText = await (await api("/stats")).text();
    const big = JSON.parse(bigText) as Report;
    const bucket = big.connections.filter((c) => c.state === null && !c.connection.startsWith("(un"));
    expect(bucket.map((c) => c.connection)).toEqual(["(not in table)"]);
    expect(bucket[0]).toMatchObject({ counts: { logins: 2000, new: 2000 }, flags: ["not-in-table"] });
    // The distinct names, estimated (linear counting, ~1 % standard error at 2 000).
    expect(bucket[0]?.distinctNames?.estimate).toBeGreaterThan(1900);
    expect(bucket[0]?.distinctNames?.estimate).toBeLessThan(2100);
    // 100× the names: the answer differs only by the digits of its counts and times.
    expect(Math.abs(bigText.length - smallText.length)).toBeLessThan(100);
    // Nothing stored per name: one row per minute and hour per shard, one bitmap per hour.
    let rows = 0;
    for (let i = 0; i < 8; i++) {
      await runInDurableObject(shard(i), (_instance, state) => {
        for (const table of ["minutes", "hours", "last_seen", "unknown_names"]) {
          rows += Number(state.storage.sql.exec(`SELECT COUNT(*) AS n FROM ${table}`).one()["n"]);
        }
      });
    }
    expect(rows).toBeLessThanOrEqual(8 * 6);
  }, 60_000);

  it("folds a deleted route's counts into (not in table): the report follows the route table", async () => {
    expect(await logins(2, "globex-saml")).toEqual([200, 200]);
    expect((await api("/routes/globex-saml", { method: "DELETE" })).status).toBe(200);
    const r = await report();
    expect(of(r, "globex-saml")).toBeUndefined();
    expect(of(r, "(not in table)")).toMatchObject({ counts: { logins: 2 }, flags: ["not-in-table"] });
  });

  it("answers for more migrated connections than one SQL statement binds, all just cut over", async () => {
    const routes = Array.from({ length: 250 }, (_, i) => ({ connection: `bulk${i}-saml`, state: "migrated" }));
    expect((await api("/import?mode=merge", { method: "POST", body: { routes } })).status).toBe(200);
    const at = new Date().toISOString().slice(0, 16);
    const rows: CountRow[] = routes.map((r) => ({
      at,
      connection: r.connection,
      auth0: 1,
      new: 2,
      fallback: 0,
      unidentified: 0,
      errors: 0,
      affinity: 0,
      auth0By: { ...emptyAuth0By(), invalid: 1 },
    }));
    await shard(3).add(rows);
    const r = await report("?limit=1000");
    expect(r.connectionsTotal).toBe(250);
    expect(r.flaggedTotal).toBe(250);
    expect(flag(of(r, "bulk7-saml"), "auth0-traffic-while-migrated")).toMatchObject({ actOn: { invalid: 1 } });
  }, 30_000);

  it("pages /stats: limit and offset, a total and the next offset", async () => {
    const routes = Array.from({ length: 5 }, (_, i) => ({ connection: `org${i}-saml`, state: "legacy" }));
    await api("/import?mode=merge", { method: "POST", body: { routes } });
    for (const [i, r] of routes.entries()) await logins(i + 1, r.connection);
    const first = await report("?limit=2");
    expect(first.connections.map((c) => c.connection)).toEqual(["org4-saml", "org3-saml"]);
    expect(first).toMatchObject({ connectionsTotal: 5, next: 2 });
    const last = await report("?limit=2&offset=4");
    expect(last.connections.map((c) => c.connection)).toEqual(["org0-saml"]);
    expect(last.next).toBeNull();
    expect((await api("/stats?limit=0")).status).toBe(400);
    expect((await api("/stats?limit=1001")).status).toBe(400);
  }, 20_000);

  it("estimates distinct names from a fixed-size bitmap", () => {
    const bits = new Uint8Array(NAME_BYTES);
    for (let i = 0; i < 5000; i++) addName(bits, `name-${i}`);
    for (let i = 0; i < 5000; i++) addName(bits, `name-${i}`);
    const { estimate, saturated } = estimateNames(bits);
    expect(saturated).toBe(false);
    expect(Math.abs(estimate - 5000)).toBeLessThan(250);
    expect(estimateNames(new Uint8Array(NAME_BYTES))).toEqual({ estimate: 0, saturated: false });
    expect(estimateNames(new Uint8Array(NAME_BYTES).fill(255)).saturated).toBe(true);
  });
});
