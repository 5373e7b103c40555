/**
 * The order in which the writer's changes reach KV: settings before routes,
 * and a settings change (the kill switch) at once, never behind route writes
 * still queued from an import.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { routeKey, SETTINGS_KEY } from "../src/table/kv-layout";
import type { RouteTableWriter } from "../src/writer";
import { KvWriteThrough } from "../src/writer/kv-write-through";
import { api, json, resetTable } from "./support/admin";

beforeEach(() => resetTable());

const writer = () => env.ROUTE_WRITER.get(env.ROUTE_WRITER.idFromName("route-table"));

/** More routes than one flush writes (500 keys): the rest stay queued after the import answers. */
function bigTable(routes: number, defaultTarget: string) {
  return {
    settings: { mode: "route", unknown: "auth0", redirect: "307", defaultTarget },
    routes: Array.from({ length: routes }, (_, i) => ({
      connection: `bulk-${String(i).padStart(5, "0")}-saml`,
      protocol: "samlp",
      state: "migrated",
    })),
  };
}

async function kvSettings(): Promise<Record<string, unknown> | null> {
  const raw = await env.ROUTES.get(SETTINGS_KEY);
  return raw === null ? null : (JSON.parse(raw) as Record<string, unknown>);
}

describe("the order the writer's changes reach KV", () => {
  it("writes an import's settings before its routes: they are in KV while routes are still queued", async () => {
    const res = await api("/import?mode=replace", {
      method: "POST",
      body: bigTable(600, "https://sso.example.com/imported/callback"),
    });
    expect(res.status).toBe(200);
    const answer = await json<{ kvPending: number }>(res);
    // The import answered after its first flush: routes are still queued…
    expect(answer.kvPending).toBeGreaterThan(0);
    // …but the settings it carried are already what callbacks read.
    expect(await kvSettings()).toMatchObject({ defaultTarget: "https://sso.example.com/imported/callback" });
  }, 60_000);

  it("writes the kill switch to KV at once, while thousands of route writes wait in the outbox", async () => {
    // A long queue of route writes, as a large import leaves behind (routes that do not
    // exist: flushing them deletes their keys, which is harmless here).
    expect((await api("/settings")).status).toBe(200); // the writer has created its tables
    await runInDurableObject(writer(), (_instance, state) => {
      for (let i = 0; i < 5_000; i++) {
        state.storage.sql.exec("INSERT INTO outbox (key, seq) VALUES (?, ?)", routeKey(`queued-${i}`), i + 1);
      }
      state.storage.sql.exec(
        "INSERT INTO counters (name, value) VALUES ('outbox', 5000) ON CONFLICT(name) DO UPDATE SET value = 5000",
      );
    });

    const result = await runInDurableObject(writer(), (instance: RouteTableWriter) =>
      instance.updateSettings({ killSwitch: { on: true } }, { actor: "test", action: "settings.update" }),
    );

    expect(result.ok).toBe(true);
    // The kill switch is in KV…
    expect(await kvSettings()).toMatchObject({ killSwitch: { on: true } });
    // …and it did not wait for the queue: every one of the 5 000 route writes was still
    // queued when it was written (the alarm writes them afterwards).
    expect(result.ok && result.kvPending).toBe(5_000);
  }, 60_000);

  it("lands the latest settings in KV when they change again while a flush is writing", async () => {
    await api("/import?mode=replace", {
      method: "POST",
      body: bigTable(600, "https://sso.example.com/first/callback"),
    });
    const results = await Promise.all(
      [{ mode: "shadow" as const }, { killSwitch: { on: true } }, { mode: "route" as const }].map((patch) =>
        runInDurableObject(writer(), (instance: RouteTableWriter) =>
          instance.updateSettings(patch, { actor: "test", action: "settings.update" }),
        ),
      ),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    const final = await runInDurableObject(writer(), (instance: RouteTableWriter) => instance.getSettings());
    expect(await kvSettings()).toMatchObject({ mode: final.settings.mode, killSwitch: final.settings.killSwitch });
  }, 60_000);
});

describe("a write whose storage read threw", () => {
  it("does not stop the next write of the same key, and leaves no rejection unhandled", async () => {
    const key = "settings-under-test";
    let reads = 0;
    // Fault injection: the first read of the writer's own SQLite throws (a disk error), the second works.
    const db = {
      outbox: {
        seqOf: () => {
          reads += 1;
          if (reads === 1) throw new Error("SQLITE_IOERR");
          return 7;
        },
        settle: () => undefined,
      },
      kvValue: () => '{"v":2}',
    } as unknown as ConstructorParameters<typeof KvWriteThrough>[0];
    const storage = { setAlarm: async () => undefined } as unknown as DurableObjectStorage;
    const through = new KvWriteThrough(db, env.ROUTES, storage);
    const write = (through as unknown as { writeKey(k: string): Promise<boolean> }).writeKey.bind(through);
    await expect(write(key)).rejects.toThrow("SQLITE_IOERR");
    await expect(write(key)).resolves.toBe(true);
    expect(await env.ROUTES.get(key)).toBe('{"v":2}');
    await env.ROUTES.delete(key);
  });
});
