import { env, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, inject, it } from "vitest";
import { shardName } from "../src/stats/recorder";
import { api, json, resetTable } from "./support/admin";
import { passThrough } from "./support/kv";
import { call, captureLogs, form, HOST, postForm } from "./support/worker";

type Counts = { auth0: number; new: number; fallback: number; unidentified: number; errors: number; total: number };
type ConnectionStats = {
  connection: string;
  state: string | null;
  counts: Counts;
  fallbackShare: number | null;
  flags: string[];
};
type Report = {
  totals: Counts;
  newShare: number | null;
  routes: Record<string, number>;
  connections: ConnectionStats[];
  flagged: ConnectionStats[];
};

async function resetCounters(): Promise<void> {
  for (let i = 0; i < 8; i++) {
    const stub = env.TRAFFIC_COUNTER.get(env.TRAFFIC_COUNTER.idFromName(shardName(i)));
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("DELETE FROM counts");
    });
  }
}

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

const callback = (query: string, overrides = {}) => call(new Request(`${HOST}/login/callback?${query}`), overrides);
const report = async (): Promise<Report> => json<Report>(await api("/stats"));
const of = (r: Report, connection: string) => r.connections.find((c) => c.connection === connection);

beforeEach(async () => {
  await resetTable();
  await resetCounters();
  await seedTable();
});

describe("traffic counters", () => {
  it("counts callbacks per connection by decision: new, auth0, fallback bounce, unidentified", async () => {
    for (let i = 0; i < 3; i++) await (await callback("connection=acme-saml")).body?.cancel();
    await (await callback("connection=globex-saml")).body?.cancel();
    await (await callback("connection=globex-saml")).body?.cancel();
    await (await callback("connection=umbrella-saml&fallback=auth0")).body?.cancel();
    await (await callback("code=x&state=y")).body?.cancel();
    const r = await report();
    expect(of(r, "acme-saml")?.counts).toEqual({ auth0: 0, new: 3, fallback: 0, unidentified: 0, errors: 0, total: 3 });
    expect(of(r, "globex-saml")?.counts).toMatchObject({ auth0: 2, total: 2 });
    expect(of(r, "umbrella-saml")?.counts).toMatchObject({ fallback: 1, total: 1 });
    expect(of(r, "(unidentified)")?.counts).toMatchObject({ unidentified: 1 });
    expect(r.totals).toEqual({ auth0: 2, new: 3, fallback: 1, unidentified: 1, errors: 0, total: 7 });
    expect(r.newShare).toBeCloseTo(3 / 7);
    expect(r.routes).toEqual({ legacy: 1, migrated: 2, rollout: 0 });
  });

  it("flags a migrated connection whose fallback share exceeds the threshold", async () => {
    for (let i = 0; i < 9; i++) await (await callback("connection=umbrella-saml")).body?.cancel();
    await (await callback("connection=umbrella-saml&fallback=auth0")).body?.cancel();
    const r = await report();
    expect(of(r, "umbrella-saml")).toMatchObject({
      state: "migrated",
      fallbackShare: 0.1,
      flags: ["fallback-share-high"],
    });
    expect(r.flagged.map((c) => c.connection)).toContain("umbrella-saml");
    const strict = await json<Report>(await api("/stats", { env: { STATS_FALLBACK_ALERT_SHARE: "0.5" } }));
    expect(of(strict, "umbrella-saml")?.flags).toEqual([]);
  });

  it("flags Auth0 traffic for a migrated connection, errors, and connections not in the table", async () => {
    await api("/settings", { method: "PUT", body: { mode: "passthrough" } });
    await (await callback("connection=acme-saml")).body?.cancel();
    await (await callback("connection=not-routed")).body?.cancel();
    await (
      await call(postForm("/login/callback?connection=globex-saml", form({ SAMLResponse: "x" })), {
        AUTH0_ORIGIN: `http://127.0.0.1:${inject("closedPort")}`,
      })
    ).body?.cancel();
    const r = await report();
    expect(of(r, "acme-saml")?.flags).toEqual(["auth0-traffic-while-migrated"]);
    expect(of(r, "not-routed")).toMatchObject({ state: null, flags: ["not-in-table"] });
    expect(of(r, "globex-saml")).toMatchObject({ counts: { auth0: 1, errors: 1 }, flags: ["errors"] });
  });

  it("gives one connection's hourly series, zero-filled over the window", async () => {
    await (await callback("connection=acme-saml")).body?.cancel();
    const since = new Date(Date.now() - 5 * 3_600_000).toISOString();
    const res = await json<ConnectionStats & { hours: Array<{ hour: string } & Counts> }>(
      await api(`/stats/acme-saml?since=${encodeURIComponent(since)}`),
    );
    expect(res).toMatchObject({ connection: "acme-saml", state: "migrated", counts: { new: 1 } });
    expect(res.hours).toHaveLength(6);
    expect(res.hours.at(-1)).toMatchObject({ hour: new Date().toISOString().slice(0, 13), new: 1 });
    expect(res.hours.slice(0, 5).every((h) => h.total === 0)).toBe(true);
  });

  it("adds each connection's hourly series with hourly=true, the same as /stats/{connection}", async () => {
    await (await callback("connection=acme-saml")).body?.cancel();
    const r = await json<{ connections: Array<ConnectionStats & { hours: Array<{ hour: string } & Counts> }> }>(
      await api("/stats?hourly=true"),
    );
    const acme = r.connections.find((c) => c.connection === "acme-saml");
    const single = await json<{ hours: unknown[] }>(await api("/stats/acme-saml"));
    expect(acme?.hours).toEqual(single.hours);
    expect(acme?.hours.at(-1)).toMatchObject({ new: 1 });
    expect(of(await report(), "acme-saml")).not.toHaveProperty("hours");
  });

  it("refuses a window older than the retention or in the future, naming the field", async () => {
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
    const res = await api(`/stats?since=${encodeURIComponent(old)}`);
    expect(res.status).toBe(400);
    expect((await json<{ errors: Array<{ field: string }> }>(res)).errors[0]?.field).toBe("query.since");
    expect(
      (await api(`/stats?since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`)).status,
    ).toBe(400);
    expect((await api("/stats?since=yesterday")).status).toBe(400);
  });

  it("keeps answering callbacks when the counters fail, and logs why", async () => {
    const broken = new Proxy(env.TRAFFIC_COUNTER, {
      get(target, prop) {
        if (prop === "get") return () => ({ add: () => Promise.reject(new Error("counter shard overloaded")) });
        return passThrough(target, prop);
      },
    });
    const { result, logs } = await captureLogs(() => callback("connection=acme-saml", { TRAFFIC_COUNTER: broken }));
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
      Array.from({ length: 6 }, () => callback("connection=acme-saml", { STATS_FLUSH_MS: "200" })),
    );
    await Promise.all(answers.map((a) => a.body?.cancel()));
    const perShard = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        env.TRAFFIC_COUNTER.get(env.TRAFFIC_COUNTER.idFromName(shardName(i))).query("2000-01-01T00", "acme-saml"),
      ),
    );
    const written = perShard.filter((rows) => rows.length > 0);
    expect(written).toHaveLength(1);
    expect(written[0]?.[0]).toMatchObject({ connection: "acme-saml", new: 6 });
  });
});
