/**
 * Preview before a change: PATCH /routes/{c}, PUT /settings and PUT /rollout with
 * ?dryRun=true answer what the change would do and write nothing (table, KV and audit read
 * the same before and after). Their predictions are the router's own: after the change is
 * applied, the real callback of each shape is decided exactly as the dry run said.
 */
import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type { ConnectionPreview, Side } from "../src/callback/preview";
import type { RouteInput } from "../src/table/schema";
import { isolateCache } from "../src/table/store";
import { describeSettingsPreview } from "../cli/preview";
import { api, json, resetTable } from "./support/admin";
import { realCallback } from "./support/callbacks";
import { resetCounters } from "./support/counters";
import { call, captureLogs, HOST } from "./support/worker";

const TARGET = "https://sso.example.com/cb";

const ACME: RouteInput = {
  connection: "acme-saml",
  protocol: "samlp",
  state: "legacy",
  match: { idpEntityId: "https://idp.acme.test/metadata" },
};
const HOOLI: RouteInput = {
  connection: "hooli-oidc",
  protocol: "oidc",
  state: "migrated",
  organization: "org_hooli",
  match: { oidcIssuer: "https://hooli.okta.test" },
};

const ROLL: RouteInput = {
  connection: "roll-saml",
  protocol: "samlp",
  state: "rollout",
  organization: "org_roll",
  match: { idpEntityId: "https://idp.roll.test/metadata" },
};
/** A connection without a route: its callbacks go where the unknown policy says. */
const INITECH: RouteInput = { connection: "initech-saml", protocol: "samlp", state: "legacy" };

beforeEach(async () => {
  await Promise.all([resetTable(), resetCounters()]);
  const settings = {
    defaultTarget: TARGET,
    killSwitch: { on: false },
    rollout: { percentage: 0, include: [], exclude: [] },
  };
  const table = { settings, routes: [ACME, HOOLI, ROLL] };
  expect((await api("/import?mode=replace", { body: table })).status).toBe(200);
});

/** Everything a change could write: the writer's table and settings, the audit log, every KV key. */
async function everything(): Promise<unknown> {
  const keys = (await env.ROUTES.list()).keys.map((k) => k.name).sort();
  const kv = await Promise.all(keys.map(async (k) => [k, await env.ROUTES.get(k)]));
  const [exported, audit, settings] = await Promise.all([
    json(await api("/export")),
    json(await api("/audit?limit=500")),
    api("/settings"),
  ]);
  return { exported, audit, kv, settingsEtag: settings.headers.get("etag") };
}

/** The router's decision for a real callback of `shape` of `route`: what its log line says. */
async function routed(shape: string, route: RouteInput): Promise<Side> {
  isolateCache.clear();
  const { result, logs } = await captureLogs(() => call(realCallback(shape, route)));
  await result.body?.cancel();
  const log = logs.find((l) => l["event"] === "callback") ?? {};
  return { destination: log["decision"] as Side["destination"], reason: String(log["reason"]) };
}

/** Each shape's prediction against what the router now does with that shape's real callback. */
async function expectPredicted(preview: ConnectionPreview, route: RouteInput): Promise<number> {
  expect(preview.callbacks.length).toBeGreaterThan(0);
  for (const cb of preview.callbacks) {
    expect({ shape: cb.shape, ...(await routed(cb.shape, route)) }).toEqual({ shape: cb.shape, ...cb.after });
  }
  return preview.callbacks.length;
}

async function logins(count: number, query: string): Promise<void> {
  for (let i = 0; i < count; i++) {
    const res = await call(new Request(`${HOST}/login/callback?${query}`, { method: "POST" }));
    await res.body?.cancel();
  }
}

describe("PATCH /routes/{connection}?dryRun=true", () => {
  it("answers each callback shape's decision, the routability and the logins that would move; writes nothing", async () => {
    await logins(3, "connection=acme-saml");
    const before = await everything();
    const res = await api("/routes/acme-saml?dryRun=true", { method: "PATCH", body: { state: "migrated" } });
    expect(res.status).toBe(200);
    const answer = await json<{ dryRun: true; changes: string[]; route: RouteInput; preview: ConnectionPreview }>(res);
    expect(answer).toMatchObject({ dryRun: true, changes: ["state"], route: { state: "migrated", version: 2 } });
    const { preview } = answer;
    expect(preview.before).toEqual({ destination: "auth0", reason: "legacy" });
    expect(preview.after).toEqual({ destination: "new", reason: "migrated" });
    expect(preview.routability.after?.level).toBe(preview.routability.before?.level);
    const acs = preview.callbacks.find((c) => c.shape === "saml-acs");
    expect(acs).toMatchObject({ changes: true, before: { destination: "auth0" }, after: { destination: "new" } });
    expect(preview.last24h).toMatchObject({ logins: 3, auth0: 3, wouldMove: 3 });
    // Nothing written: the table, the settings, KV and the audit log read the same.
    expect(await everything()).toEqual(before);

    // Applied, the change does what the dry run said, shape by shape.
    expect((await api("/routes/acme-saml", { method: "PATCH", body: { state: "migrated" } })).status).toBe(200);
    expect(await expectPredicted(preview, ACME)).toBeGreaterThanOrEqual(3);
  });

  it("predicts a connection whose callbacks cannot all be identified, shape by shape", async () => {
    const before = await everything();
    const body = { match: null, state: "migrated" };
    const answer = await json<{ preview: ConnectionPreview }>(
      await api("/routes/hooli-oidc?dryRun=true", { method: "PATCH", body }),
    );
    const { routability } = answer.preview;
    expect(routability.before?.level).toBe("partial");
    expect(routability.after?.level).not.toBe(routability.before?.level);
    expect(await everything()).toEqual(before);
    expect((await api("/routes/hooli-oidc", { method: "PATCH", body })).status).toBe(200);
    await expectPredicted(answer.preview, { ...HOOLI, match: undefined });
  });

  it("refuses what the change would refuse (422, 404, 412) and writes nothing", async () => {
    const before = await everything();
    const bad = await api("/routes/acme-saml?dryRun=true", { method: "PATCH", body: { target: "https://evil.test/" } });
    expect(bad.status).toBe(422);
    expect((await api("/routes/nobody?dryRun=true", { method: "PATCH", body: { state: "migrated" } })).status).toBe(
      404,
    );
    const stale = await api("/routes/acme-saml?dryRun=true", {
      method: "PATCH",
      body: { state: "migrated" },
      headers: { "if-match": '"9"' },
    });
    expect(stale.status).toBe(412);
    expect(await everything()).toEqual(before);
  });

  it("dryRun=false applies, as without it", async () => {
    const res = await api("/routes/acme-saml?dryRun=false", { method: "PATCH", body: { state: "migrated" } });
    expect(await json(res)).toMatchObject({ state: "migrated", version: 2 });
  });
});

interface SettingsPreview {
  dryRun: true;
  settings: Record<string, unknown>;
  changes: string[];
  connections: ConnectionPreview[];
  changed: number;
  wouldMove: number;
  notInTable: ConnectionPreview;
  unidentified: ConnectionPreview;
  notListed: { connections: number; logins: number };
}

/** `connection`'s preview in a settings or rollout dry run's answer. */
function previewOf(answer: SettingsPreview, connection: string): ConnectionPreview {
  const found = answer.connections.find((p) => p.connection === connection);
  if (found === undefined) throw new Error(`${connection} is not in the preview`);
  return found;
}

describe("PUT /settings and PUT /rollout ?dryRun=true", () => {
  it.each<[string, string, unknown, string, RouteInput, Side]>([
    [
      "mode route → shadow",
      "/settings",
      { mode: "shadow" },
      "mode",
      HOOLI,
      { destination: "auth0", reason: "migrated" },
    ],
    [
      "the kill switch on",
      "/settings",
      { killSwitch: { on: true } },
      "killSwitch.on",
      HOOLI,
      { destination: "auth0", reason: "kill-switch" },
    ],
    [
      "the rollout percentage 0 → 100",
      "/rollout",
      { percentage: 100, include: [], exclude: [] },
      "rollout.percentage",
      ROLL,
      { destination: "new", reason: "rollout-bucket" },
    ],
    [
      "the unknown policy auth0 → probe",
      "/settings",
      { unknown: "probe" },
      "unknown",
      INITECH,
      { destination: "new", reason: "unknown-connection" },
    ],
  ])(
    "%s: lists each connection's shapes before → after and the logins that would move; writes nothing; the change then does it",
    async (_name, path, body, field, moved, after) => {
      await logins(4, `connection=${moved.connection}`);
      await logins(2, "connection=acme-saml");
      const before = await everything();
      const res = await api(`${path}?dryRun=true`, { method: "PUT", body });
      expect(res.status).toBe(200);
      const answer = await json<SettingsPreview>(res);
      expect(answer).toMatchObject({ dryRun: true, changes: [field], notListed: { connections: 0, logins: 0 } });
      // Every connection with logins and every route is decided, the busiest first.
      const routes = [ACME, HOOLI, ROLL].map((r) => r.connection);
      expect(answer.connections.map((p) => p.connection)).toEqual([
        ...routes.filter((c) => c === moved.connection),
        "acme-saml",
        ...routes.filter((c) => c !== moved.connection && c !== "acme-saml"),
      ]);
      // Connections without a route are one entry, as the counters keep them.
      const preview = moved === INITECH ? answer.notInTable : previewOf(answer, moved.connection);
      const named = preview.callbacks.find((c) => c.shape === "saml-acs" || c.shape === "oidc-code-with-iss");
      expect(named).toMatchObject({ changes: true, after });
      expect(preview.last24h).toMatchObject({ logins: 4, wouldMove: 4 });
      expect(answer.changed).toBeGreaterThanOrEqual(1);
      expect(answer.wouldMove).toBeGreaterThanOrEqual(4);
      // A connection whose logins the change does not move (ACME is legacy: Auth0 either way).
      const acme = previewOf(answer, "acme-saml");
      expect(acme.callbacks.every((c) => c.before?.destination === c.after?.destination)).toBe(true);
      expect(previewOf(answer, "acme-saml").last24h).toMatchObject({ logins: 2, wouldMove: 0 });
      // Nothing written: the table, the settings, KV and the audit log read the same.
      expect(await everything()).toEqual(before);

      // Applied, the change does what the dry run said, shape by shape, for every listed connection.
      expect((await api(path, { method: "PUT", body })).status).toBe(200);
      const table = new Map([ACME, HOOLI, ROLL].map((r) => [r.connection, r]));
      for (const p of answer.connections) await expectPredicted(p, table.get(p.connection) ?? INITECH);
      await expectPredicted(answer.notInTable, INITECH);
    },
  );

  it("unknown: auth0 → probe counts the (unidentified) logins that would move, and the change sends them where it said", async () => {
    // OIDC GETs without iss or connection=: no connection is identified, the counters keep them as (unidentified).
    for (let i = 0; i < 3; i++) {
      const res = await call(new Request(`${HOST}/login/callback?code=c${i}&state=s${i}`));
      await res.body?.cancel();
    }
    const before = await everything();
    const res = await api("/settings?dryRun=true", { method: "PUT", body: { unknown: "probe" } });
    expect(res.status).toBe(200);
    const answer = await json<SettingsPreview>(res);
    expect(answer.unidentified).toMatchObject({
      connection: "(unidentified)",
      before: { destination: "auth0", reason: "unidentified" },
      after: { destination: "new", reason: "unidentified" },
      routability: { before: null, after: null },
      last24h: { logins: 3, auth0: 3, new: 0, wouldMove: 3 },
    });
    expect(answer.unidentified.callbacks.map((c) => c.shape)).toContain("oidc-code-without-iss");
    expect(answer.unidentified.callbacks.every((c) => c.changes)).toBe(true);
    // Nothing else had logins: the 3 are the whole of wouldMove.
    expect(answer.notInTable.last24h.logins).toBe(0);
    expect(answer.wouldMove).toBe(3);
    const printed = describeSettingsPreview(answer as unknown as Record<string, unknown>);
    expect(printed).toContain("3 login(s) of the last 24 h would have gone elsewhere");
    expect(printed).toMatch(/\(unidentified\): auth0 \(unidentified\) → new \(unidentified\)/);
    expect(printed).toContain("last 24 h: 3 login(s); 3 would have gone elsewhere");
    expect(await everything()).toEqual(before);

    // Applied: each unidentified callback shape goes where the dry run said.
    expect((await api("/settings", { method: "PUT", body: { unknown: "probe" } })).status).toBe(200);
    const stranger: RouteInput = { connection: "stranger-oidc", protocol: "oidc", state: "legacy" };
    expect(await expectPredicted(answer.unidentified, stranger)).toBe(3);
    expect(await routed("oidc-code-without-iss", stranger)).toEqual({ destination: "new", reason: "unidentified" });
  });

  it("refuses what the change would refuse (422, 412) and writes nothing", async () => {
    const before = await everything();
    expect(
      (await api("/settings?dryRun=true", { method: "PUT", body: { defaultTarget: "https://evil.test/" } })).status,
    ).toBe(422);
    const stale = await api("/rollout?dryRun=true", {
      method: "PUT",
      body: { percentage: 5, include: [], exclude: [] },
      headers: { "if-match": '"99"' },
    });
    expect(stale.status).toBe(412);
    expect(await everything()).toEqual(before);
  });

  it.each([
    ["/settings?dryrun=true", { killSwitch: { on: true } }, "dryrun"],
    ["/rollout?dry_run=true", { percentage: 100, include: [], exclude: [] }, "dry_run"],
  ])("still refuses an unknown query parameter (%s): 400, nothing written", async (path, body, param) => {
    const before = await everything();
    const res = await api(path, { method: "PUT", body });
    expect(res.status).toBe(400);
    expect(await json<{ errors: Array<{ field: string }> }>(res)).toMatchObject({
      errors: [{ field: `query.${param}` }],
    });
    expect(await everything()).toEqual(before);
  });

  it("decides at most 200 connections and counts the rest", async () => {
    const many = Array.from({ length: 203 }, (_, i) => ({
      connection: `c${String(i).padStart(3, "0")}-saml`,
      protocol: "samlp" as const,
      state: "migrated" as const,
    }));
    const table = { settings: { defaultTarget: TARGET, killSwitch: { on: false } }, routes: [ACME, ...many] };
    expect((await api("/import?mode=replace", { body: table })).status).toBe(200);
    await logins(2, "connection=c202-saml");
    const res = await api("/settings?dryRun=true", { method: "PUT", body: { killSwitch: { on: true } } });
    const answer = await json<SettingsPreview>(res);
    expect(answer.connections).toHaveLength(200);
    // The one with logins first, then the table by name; 204 candidates, 200 decided.
    expect(answer.connections[0]?.connection).toBe("c202-saml");
    expect(answer.connections[1]?.connection).toBe("acme-saml");
    expect(answer.notListed).toEqual({ connections: 4, logins: 0 });
    expect(answer.changed).toBe(200);
  }, 120_000);
});
