/**
 * KV alone would lose updates under concurrent read-modify-write; the writer
 * Durable Object must not. 50 writes at once: none lost, every stale If-Match 412.
 */
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { routeKey } from "../src/table/kv-layout";
import { api, json, resetTable } from "./support/admin";

beforeEach(() => resetTable());

type Route = { connection: string; note?: string; version: number };

describe("concurrent writes", () => {
  it("loses none of 50 concurrent writes and answers 412 to every stale If-Match", async () => {
    await api("/routes/shared", { method: "PUT", body: { state: "legacy", note: "start" } });
    const distinct = Array.from({ length: 25 }, (_, i) =>
      api(`/routes/conn-${i}`, {
        method: "PUT",
        body: { state: i % 2 === 0 ? "migrated" : "legacy", note: `writer ${i}` },
      }),
    );
    // 25 writers all read version 1 of the same route and race to replace it.
    const racing = Array.from({ length: 25 }, (_, i) =>
      api("/routes/shared", {
        method: "PUT",
        body: { state: "migrated", note: `racer ${i}` },
        headers: { "if-match": '"1"' },
      }),
    );
    const results = await Promise.all([...distinct, ...racing]);
    const distinctStatus = results.slice(0, 25).map((r) => r.status);
    const racingStatus = results.slice(25).map((r) => r.status);

    expect(distinctStatus.every((s) => s === 201)).toBe(true);
    expect(racingStatus.filter((s) => s === 200)).toHaveLength(1);
    expect(racingStatus.filter((s) => s === 412)).toHaveLength(24);

    // Every distinct write is there, in the writer and in the KV replica.
    const list = await json<{ routes: Route[] }>(await api("/routes?limit=100"));
    expect(list.routes).toHaveLength(26);
    for (let i = 0; i < 25; i++) {
      const stored = JSON.parse((await env.ROUTES.get(routeKey(`conn-${i}`))) ?? "{}") as Route;
      expect(stored.note).toBe(`writer ${i}`);
    }
    // The one racer that won is the version KV holds.
    const winner = racingStatus.indexOf(200);
    const shared = await json<Route>(await api("/routes/shared"));
    expect(shared).toMatchObject({ version: 2, note: `racer ${winner}` });
    expect(JSON.parse((await env.ROUTES.get(routeKey("shared"))) ?? "{}")).toMatchObject({
      version: 2,
      note: `racer ${winner}`,
    });

    // One audit entry per successful write: 1 seed + 25 + 1.
    const audit = await json<{ entries: unknown[] }>(await api("/audit?limit=500"));
    expect(audit.entries).toHaveLength(27);
  });

  it("applies 50 unconditional writes to one route in some order, each exactly once", async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        api("/routes/hot", { method: "PUT", body: { state: "legacy", note: `w${i}` } }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(49);
    const versions = await Promise.all(results.map(async (r) => (await json<Route>(r)).version));
    expect(new Set(versions).size).toBe(50);
    const final = await json<Route>(await api("/routes/hot"));
    expect(final.version).toBe(50);
    // KV converges on the last write, not an earlier one.
    expect(JSON.parse((await env.ROUTES.get(routeKey("hot"))) ?? "{}")).toMatchObject({
      version: 50,
      note: final.note,
    });
  });

  it("keeps settings and rollout updates apart: neither overwrites the other", async () => {
    await Promise.all([
      api("/settings", { method: "PUT", body: { mode: "shadow" } }),
      api("/rollout", { method: "PUT", body: { percentage: 25 } }),
      api("/settings", { method: "PUT", body: { unknown: "probe" } }),
    ]);
    const settings = await json<{ mode: string; unknown: string; rollout: { percentage: number } }>(
      await api("/settings"),
    );
    expect(settings).toMatchObject({ mode: "shadow", unknown: "probe", rollout: { percentage: 25 } });
  });
});
