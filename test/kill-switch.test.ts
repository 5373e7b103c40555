/**
 * The kill switch is an override beside the mode, not a mode: on sends every callback to
 * Auth0 whatever the mode; off gives back exactly the mode set before. Settings an older
 * version stored (`mode: "passthrough"`, in KV and in the writer's storage) read as the kill
 * switch on over mode "route".
 */
import { env, runInDurableObject } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { SETTINGS_KEY } from "../src/table/kv-layout";
import { isolateCache } from "../src/table/store";
import { api, json, resetTable } from "./support/admin";
import { call, captureLogs, HOST } from "./support/worker";

const TARGET = "https://sso.example.com/auth0/acme/callback";
const writer = () => env.ROUTE_WRITER.get(env.ROUTE_WRITER.idFromName("route-table"));

type Settings = { mode: string; killSwitch: { on: boolean; since?: string; by?: string } };
type Problem = { errors: Array<{ field: string; reason: string }> };

beforeEach(async () => {
  await resetTable();
  expect((await api("/routes/acme-saml", { method: "PUT", body: { state: "migrated", target: TARGET } })).status).toBe(
    201,
  );
});

/** What a migrated connection's callback does now, and its log line. */
async function acmeCallback(): Promise<{ status: number; log: Record<string, unknown> | undefined }> {
  isolateCache.clear();
  const { result, logs } = await captureLogs(() => call(new Request(`${HOST}/login/callback?connection=acme-saml`)));
  await result.body?.cancel();
  return { status: result.status, log: logs.find((l) => l["event"] === "callback") };
}

async function killSwitch(on: boolean): Promise<Settings> {
  const res = await api("/settings", { method: "PUT", body: { killSwitch: { on } } });
  expect(res.status).toBe(200);
  return json<Settings>(res);
}

describe("the kill switch beside the mode", () => {
  it("shadow → kill switch on → off is shadow again, and callbacks follow each step", async () => {
    await api("/settings", { method: "PUT", body: { mode: "shadow" } });
    const shadow = await acmeCallback();
    expect(shadow.status).toBe(200);
    expect(shadow.log).toMatchObject({ mode: "shadow", reason: "migrated", shadowDecision: "new" });
    expect(shadow.log?.["killSwitch"]).toBeUndefined();

    const on = await killSwitch(true);
    expect(on).toMatchObject({ mode: "shadow", killSwitch: { on: true, by: "token:ci" } });
    const killed = await acmeCallback();
    expect(killed.status).toBe(200);
    expect(killed.log).toMatchObject({ mode: "shadow", killSwitch: true, reason: "kill-switch", decision: "auth0" });

    const off = await killSwitch(false);
    expect(off).toMatchObject({ mode: "shadow", killSwitch: { on: false, by: "token:ci" } });
    // Shadow stays shadow: nothing reaches the new provider.
    const after = await acmeCallback();
    expect(after.status).toBe(200);
    expect(after.log).toMatchObject({ mode: "shadow", reason: "migrated", shadowDecision: "new" });
  });

  it("route → kill switch on → off is route again", async () => {
    expect((await acmeCallback()).status).toBe(307);
    await killSwitch(true);
    expect((await acmeCallback()).log).toMatchObject({ mode: "route", killSwitch: true, reason: "kill-switch" });
    expect(await killSwitch(false)).toMatchObject({ mode: "route", killSwitch: { on: false } });
    const after = await acmeCallback();
    expect(after.status).toBe(307);
    expect(after.log).toMatchObject({ mode: "route", decision: "new" });
  });

  it("turning it on again keeps when and by whom it was turned on; a mode change keeps it on", async () => {
    const on = await killSwitch(true);
    const since = on.killSwitch.since;
    expect(since).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await killSwitch(true)).killSwitch.since).toBe(since);
    const moved = await json<Settings>(await api("/settings", { method: "PUT", body: { mode: "shadow" } }));
    expect(moved).toMatchObject({ mode: "shadow", killSwitch: { on: true, since } });
  });

  it("shows mode and kill switch apart in /status and the audit (kill-switch.on / .off)", async () => {
    await api("/settings", { method: "PUT", body: { mode: "shadow" } });
    await killSwitch(true);
    expect(await json(await api("/status"))).toMatchObject({ mode: "shadow", killSwitch: { on: true } });
    await killSwitch(false);
    expect(await json(await api("/status"))).toMatchObject({ mode: "shadow", killSwitch: { on: false } });
    const { entries } = await json<{
      entries: Array<{ action: string; before: Settings | null; after: Settings | null }>;
    }>(await api("/audit?limit=3"));
    expect(entries.map((e) => e.action)).toEqual(["kill-switch.off", "kill-switch.on", "settings.update"]);
    expect(entries[1]?.before).toMatchObject({ mode: "shadow", killSwitch: { on: false } });
    expect(entries[1]?.after).toMatchObject({ mode: "shadow", killSwitch: { on: true } });
  });

  it.each<[string, unknown, string, RegExp]>([
    ["mode passthrough", { mode: "passthrough" }, "mode", /killSwitch/],
    ["a kill switch's since", { killSwitch: { on: true, since: "2026-01-01T00:00:00Z" } }, "killSwitch", /since/],
    ["a kill switch without on", { killSwitch: {} }, "killSwitch.on", /./],
  ])("refuses %s, naming the field, and changes nothing", async (_name, body, field, reason) => {
    const res = await api("/settings", { method: "PUT", body });
    expect(res.status).toBe(422);
    const problem = (await json<Problem>(res)).errors.find((e) => e.field === field);
    expect(problem?.reason).toMatch(reason);
    expect(await json(await api("/settings"))).toMatchObject({ mode: "route", killSwitch: { on: false } });
  });
});

describe("settings stored by an older version (mode: passthrough)", () => {
  it("reads a KV settings record with mode passthrough as the kill switch on", async () => {
    await env.ROUTES.put(
      SETTINGS_KEY,
      JSON.stringify({
        mode: "passthrough",
        unknown: "auth0",
        redirect: "307",
        rollout: { percentage: 0, include: [], exclude: [] },
      }),
    );
    const old = await acmeCallback();
    expect(old.status).toBe(200);
    expect(old.log).toMatchObject({ reason: "kill-switch", mode: "route", killSwitch: true });
  });

  it("reads the writer's stored mode passthrough as kill switch on over route; off is route", async () => {
    await runInDurableObject(writer(), (_instance, state) => {
      const stored = {
        settings: {
          mode: "passthrough",
          unknown: "auth0",
          redirect: "307",
          rollout: { percentage: 0, include: [], exclude: [] },
        },
        version: 7,
        updatedAt: "2026-01-01T00:00:00.000Z",
      };
      state.storage.sql.exec("INSERT OR REPLACE INTO meta (key, json) VALUES ('settings', ?)", JSON.stringify(stored));
    });
    const read = await api("/settings");
    expect(read.headers.get("etag")).toBe('"7"');
    expect(await json(read)).toMatchObject({ mode: "route", killSwitch: { on: true } });
    expect(await json(await api("/status"))).toMatchObject({ mode: "route", killSwitch: { on: true } });
    expect(await json(await api("/export"))).toMatchObject({ settings: { mode: "route", killSwitch: { on: true } } });
    expect(await killSwitch(false)).toMatchObject({ mode: "route", killSwitch: { on: false } });
    expect((await acmeCallback()).status).toBe(307);
  });

  it("imports an older routes.json's mode passthrough as the kill switch on; a file without killSwitch leaves it", async () => {
    await api("/settings", { method: "PUT", body: { mode: "shadow" } });
    const old = {
      settings: { mode: "passthrough" },
      routes: [{ connection: "acme-saml", state: "migrated", target: TARGET }],
    };
    expect((await api("/import", { body: old })).status).toBe(200);
    expect(await json(await api("/settings"))).toMatchObject({ mode: "route", killSwitch: { on: true } });
    expect((await acmeCallback()).log).toMatchObject({ reason: "kill-switch" });

    // Re-importing a seed file that says nothing of the kill switch does not turn it off.
    const seed = { settings: { mode: "shadow" }, routes: old.routes };
    expect((await api("/import", { body: seed })).status).toBe(200);
    expect(await json(await api("/settings"))).toMatchObject({ mode: "shadow", killSwitch: { on: true } });

    // An older export (the same `on`, another since/by) is no change: the stored since/by stay.
    const exported = await json<{ settings: Settings }>(await api("/export"));
    const since = exported.settings.killSwitch.since;
    exported.settings.killSwitch = { on: true, since: "2020-01-01T00:00:00.000Z", by: "token:old" };
    const again = await json<{ diff: { settingsChanged: boolean } }>(await api("/import", { body: exported }));
    expect(again.diff.settingsChanged).toBe(false);
    expect(await json(await api("/settings"))).toMatchObject({ killSwitch: { on: true, since } });
  });
});
