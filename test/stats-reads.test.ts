import { env, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { addPacked, COLUMNS, type PackedSums } from "../src/stats/columns";
import { MAX_READ_ROWS, type TrafficCounter } from "../src/stats/counter-do";
import type { CountRow } from "../src/stats/rows";
import { api, resetTable } from "./support/admin";

/**
 * How a counter shard answers the reads /stats makes: the sums of past keys are kept
 * between reads (src/stats/sealed-sums.ts) and must never hide a write; many names are
 * one scan; answers are packed. Each test uses a shard of its own.
 */
let serial = 0;
const freshShard = () =>
  env.TRAFFIC_COUNTER.get(env.TRAFFIC_COUNTER.idFromName(`reads-test-${Date.now()}-${serial++}`));

const HOUR_MS = 3_600_000;
const hourKey = (ms: number) => new Date(ms).toISOString().slice(0, 13);
const minuteKey = (ms: number) => new Date(ms).toISOString().slice(0, 16);
const NO_AUTH0_BY = { killSwitch: 0, shadow: 0, affinity: 0, route: 0, invalid: 0, unavailable: 0, other: 0 };

function row(connection: string, at: string, auth0: number): CountRow {
  return {
    at,
    connection,
    auth0,
    new: 0,
    fallback: 0,
    unidentified: 0,
    errors: 0,
    affinity: 0,
    auth0By: { ...NO_AUTH0_BY, route: auth0 },
    unserved: 0,
  };
}

/** `connections` rows of one hour, straight into the store (no writer round trip). */
async function insertHour(
  shard: DurableObjectStub<TrafficCounter>,
  at: string,
  names: string[],
  auth0 = 1,
): Promise<void> {
  await runInDurableObject(shard, (_instance, state) => {
    for (const name of names) {
      state.storage.sql.exec(
        "INSERT INTO hours (at, connection, auth0, auth0_route) VALUES (?, ?, ?, ?)",
        at,
        name,
        auth0,
        auth0,
      );
    }
  });
}

const sumOf = (p: PackedSums, name: string, column = "auth0"): number | undefined => {
  const i = p.names.indexOf(name);
  return i < 0 ? undefined : p.values[i * p.columns.length + p.columns.indexOf(column)];
};

describe("counter reads: kept sums of past hours never hide a write", () => {
  beforeEach(async () => {
    await resetTable();
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

  it("counts a late flush into a past hour in the next read, per connection and per key", async () => {
    const shard = freshShard();
    const now = Date.now();
    const past = now - 2 * HOUR_MS;
    const from = hourKey(now - 23 * HOUR_MS);
    const to = hourKey(now);
    await shard.add([row("acme-saml", minuteKey(past), 1), row("globex-saml", minuteKey(now), 4)]);
    const first = await shard.byConnection("hour", from, to);
    expect(sumOf(first, "acme-saml")).toBe(1);
    expect(sumOf(first, "globex-saml")).toBe(4);
    expect((await shard.byTime("hour", from, to)).map((r) => [r.at, r.auth0])).toEqual([
      [hourKey(past), 1],
      [hourKey(now), 4],
    ]);
    // The same read again is answered from the kept sums...
    expect(sumOf(await shard.byConnection("hour", from, to), "acme-saml")).toBe(1);
    // ...until a batch lands in the past hour (a flush that arrived late).
    await shard.add([row("acme-saml", minuteKey(past), 2), row("globex-saml", minuteKey(now), 1)]);
    const second = await shard.byConnection("hour", from, to);
    expect(sumOf(second, "acme-saml")).toBe(3);
    expect(sumOf(second, "globex-saml")).toBe(5);
    expect((await shard.byTime("hour", from, to)).map((r) => [r.at, r.auth0])).toEqual([
      [hourKey(past), 3],
      [hourKey(now), 5],
    ]);
  });

  it("sees a write that did not come through add (rows deleted) in the next read", async () => {
    const shard = freshShard();
    const now = Date.now();
    const from = hourKey(now - 23 * HOUR_MS);
    await insertHour(shard, hourKey(now - 3 * HOUR_MS), ["acme-saml"], 7);
    expect(sumOf(await shard.byConnection("hour", from, hourKey(now)), "acme-saml")).toBe(7);
    expect(await shard.byTime("hour", from, hourKey(now))).toHaveLength(1);
    await runInDurableObject(shard, (_instance, state) => void state.storage.sql.exec("DELETE FROM hours"));
    expect((await shard.byConnection("hour", from, hourKey(now))).names).toEqual([]);
    expect(await shard.byTime("hour", from, hourKey(now))).toEqual([]);
  });

  it("keeps past sums across a spend of bounce marks, and counts the spent bounce in the next read", async () => {
    const shard = freshShard();
    const now = Date.now();
    const from = hourKey(now - 23 * HOUR_MS);
    await shard.add([row("acme-saml", minuteKey(now - 2 * HOUR_MS), 3)]);
    expect(sumOf(await shard.byConnection("hour", from, hourKey(now)), "acme-saml")).toBe(3);
    const bounce = {
      connection: "acme-saml",
      kind: "bounce" as const,
      destination: "auth0" as const,
      error: false,
      status: 302,
      reason: "fallback",
    };
    await shard.spendBounces([{ markId: "ab".repeat(16), at: now, outcome: bounce }]);
    // Spending wrote only spent_marks (and the bounce, in the current hour): the past hours'
    // sums were not dropped, so the next read does not rescan them.
    await runInDurableObject(shard, (instance: TrafficCounter) => {
      const kept = (instance as unknown as { sealed: { entries: Map<string, unknown> } }).sealed.entries;
      expect(kept.size).toBe(1);
    });
    const read = await shard.byConnection("hour", from, hourKey(now));
    expect([sumOf(read, "acme-saml"), sumOf(read, "acme-saml", "fallback")]).toEqual([3, 1]);
  });

  it("forgets past sums that pruning removed", async () => {
    const shard = freshShard();
    const now = Date.now();
    const old = now - 36 * 24 * HOUR_MS;
    await insertHour(shard, hourKey(old), ["acme-saml"], 2);
    const from = hourKey(old - HOUR_MS);
    expect(sumOf(await shard.byConnection("hour", from, hourKey(now)), "acme-saml")).toBe(2);
    await runInDurableObject(shard, (instance: TrafficCounter) => instance.prune(now));
    expect((await shard.byConnection("hour", from, hourKey(now))).names).toEqual([]);
  });
});

describe("counter reads: many names, bounded answers", () => {
  it("reads many named connections as one scan: exactly those, with the same sums as a few at a time", async () => {
    const shard = freshShard();
    const now = Date.now();
    const names = Array.from({ length: 600 }, (_, i) => `conn-${String(i).padStart(3, "0")}`);
    for (let h = 1; h <= 3; h++) await insertHour(shard, hourKey(now - h * HOUR_MS), names, h);
    const from = hourKey(now - 23 * HOUR_MS);
    const asked = names.filter((_, i) => i % 3 !== 0); // 400 names: more than a few statements' worth
    const many = await shard.byConnection("hour", from, hourKey(now), asked);
    expect(new Set(many.names)).toEqual(new Set(asked));
    const few = [
      ...(await shard.byConnection("hour", from, hourKey(now), asked.slice(0, 200))).names,
      ...(await shard.byConnection("hour", from, hourKey(now), asked.slice(200))).names,
    ];
    expect(new Set(few)).toEqual(new Set(asked));
    for (const name of asked) expect(sumOf(many, name)).toBe(6);
    expect(many.truncated).toBe(false);
  });

  it("says truncated when a shard holds more connections than one read answers", async () => {
    const shard = freshShard();
    const now = Date.now();
    const names = Array.from({ length: MAX_READ_ROWS + 5 }, (_, i) => `c-${i}`);
    await insertHour(shard, hourKey(now - HOUR_MS), names);
    const from = hourKey(now - 23 * HOUR_MS);
    const all = await shard.byConnection("hour", from, hourKey(now));
    expect([all.names.length, all.truncated]).toEqual([MAX_READ_ROWS, true]);
    const page = await shard.byConnection("hour", from, hourKey(now), undefined, 10);
    expect([page.names.length, page.truncated]).toEqual([10, true]);
    // Named (many): some may be past the read's limit, so the answer says it may be partial.
    const named = await shard.byConnection("hour", from, hourKey(now), names.slice(0, 1_000));
    expect(named.truncated).toBe(true);
    expect(named.names.every((n) => names.slice(0, 1_000).includes(n))).toBe(true);
  });
});

describe("counter reads: answers from shards on another release", () => {
  it("adds shards' packed sums by column name, whatever their column order, a missing column as 0", () => {
    const here: PackedSums = {
      columns: [...COLUMNS],
      names: ["acme-saml"],
      values: Float64Array.from(COLUMNS.map((c) => (c === "auth0" ? 2 : c === "unserved" ? 1 : 0))),
      truncated: false,
    };
    const older: PackedSums = {
      columns: ["new", "auth0", "fallback"],
      names: ["acme-saml", "globex-saml"],
      values: Float64Array.from([5, 1, 1, 0, 3, 0]),
      truncated: false,
    };
    const rows = addPacked([here, older]);
    expect(rows.find((r) => r.connection === "acme-saml")).toMatchObject({
      auth0: 3,
      new: 5,
      fallback: 1,
      unserved: 1,
      auth0By: { ...NO_AUTH0_BY, other: 3 },
    });
    expect(rows.find((r) => r.connection === "globex-saml")).toMatchObject({ auth0: 3, new: 0, unserved: 0 });
  });
});

describe("route states for the flags", () => {
  it("answers the states of thousands of names in one pass, the same as for a few", { timeout: 60_000 }, async () => {
    await resetTable();
    const routes = Array.from({ length: 1_200 }, (_, i) => ({
      connection: `conn-${i}`,
      state: i % 2 === 0 ? "migrated" : "legacy",
    }));
    const imported = await api("/import?mode=replace", {
      method: "POST",
      body: { settings: { defaultTarget: "https://sso.example.com/cb" }, routes },
    });
    expect(imported.status).toBe(200);
    const writer = env.ROUTE_WRITER.get(env.ROUTE_WRITER.idFromName("route-table"));
    // 1 100 of the 1 200 routes and two strangers: more names than the statements' path takes.
    const names = [...routes.slice(0, 1_100).map((r) => r.connection), "not-a-route", "another-stranger"];
    const all = (await writer.statesSince(names)).routes;
    expect(Object.keys(all).sort()).toEqual(
      routes
        .slice(0, 1_100)
        .map((r) => r.connection)
        .sort(),
    );
    const few = (await writer.statesSince(["conn-7", "conn-8", "not-a-route"])).routes;
    expect(few).toEqual({ "conn-7": all["conn-7"], "conn-8": all["conn-8"] });
    expect(all["conn-8"]?.state).toBe("migrated");
  });
});
