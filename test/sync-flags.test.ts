import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { SETTINGS_KEY } from "../src/table/kv-layout";
import { api, json, resetTable } from "./support/admin";
import { fakeWorkos, workosEnv, type FakeBehaviour, type FakeFlag } from "./support/workos";

const KEY = "sk_test_sync_flags";
const SLUG = "workos-sso-enabled";

type Rollout = { percentage: number; include: string[]; exclude: string[] };
type FlagReport = {
  dryRun: boolean;
  flag: string;
  flagEnabled: boolean;
  changed: boolean;
  rollout: Rollout;
  include: { added: string[]; removed: string[] };
  exclude: { added: string[]; removed: string[] };
  unknownOrganizations: string[];
  conflicts: string[];
  warnings: string[];
};
type Problem = { status: number; detail: string; errors?: Array<{ field: string; reason: string }> };
type Audit = { entries: Array<{ action: string; actor: string; before: unknown; after: Record<string, unknown> }> };

const CONNECTIONS: FakeBehaviour["connections"] = [
  { id: "conn_acme", name: "acme-saml", state: "active", organization_id: "org_W_ACME" },
  { id: "conn_globex", name: "globex-saml", state: "active", organization_id: "org_W_GLOBEX" },
  { id: "conn_hooli", name: "hooli-saml", state: "active", organization_id: "org_W_HOOLI" },
];

function flag(targets: Array<[string, boolean]>, enabled = true): FakeFlag {
  return {
    enabled,
    default_value: false,
    targets: { organizations: targets.map(([id, on]) => ({ id, enabled: on })), users: [] },
  };
}

const FLAG = flag([
  ["org_W_ACME", true],
  ["org_W_GLOBEX", false],
  ["org_W_HOOLI", true],
  ["org_W_NOBODY", true],
]);

const syncFlags = (query = "", overrides = workosEnv(KEY)) =>
  api(`/sync/flags${query}`, { method: "POST", env: overrides });
const rollout = async () => json<Rollout>(await api("/rollout"));
const audit = async () => (await json<Audit>(await api("/audit"))).entries;

/** Three routes linked to WorkOS organizations by the connections sync; hooli-saml has no organization. */
beforeEach(async () => {
  await resetTable();
  await fakeWorkos(KEY, { connections: CONNECTIONS, flags: { [SLUG]: FLAG } });
  await api("/settings", { method: "PUT", body: { defaultTarget: "https://sso.example.com/cb" } });
  await api("/routes/acme-saml", { method: "PUT", body: { state: "rollout", organization: "org_acme" } });
  await api("/routes/globex-saml", { method: "PUT", body: { state: "rollout", organization: "org_globex" } });
  await api("/routes/hooli-saml", { method: "PUT", body: { state: "rollout" } });
  expect((await api("/sync/workos", { method: "POST", env: workosEnv(KEY) })).status).toBe(200);
  await api("/rollout", { method: "PUT", body: { percentage: 25, include: ["manual-entry"], exclude: [] } });
});

describe("POST /sync/flags: mirroring the WorkOS flag into the rollout lists", () => {
  it("dry run reports the mirror and writes nothing", async () => {
    const res = await syncFlags("?dryRun=true");
    expect(res.status).toBe(200);
    const report = await json<FlagReport>(res);
    expect(report).toMatchObject({
      dryRun: true,
      flag: SLUG,
      changed: true,
      include: { added: ["hooli-saml", "org_acme"], removed: [] },
      exclude: { added: ["org_globex"], removed: [] },
      unknownOrganizations: ["org_W_NOBODY"],
    });
    expect(await rollout()).toEqual({ percentage: 25, include: ["manual-entry"], exclude: [] });
    expect((await audit()).map((e) => e.action)).not.toContain("sync.flags");
  });

  it("enabled targets go to include, disabled to exclude; percentage and hand-added entries stay; KV and audit follow", async () => {
    const report = await json<FlagReport>(await syncFlags());
    expect(report.changed).toBe(true);
    const expected = { percentage: 25, include: ["manual-entry", "hooli-saml", "org_acme"], exclude: ["org_globex"] };
    expect(await rollout()).toEqual(expected);
    expect(report.rollout).toEqual(expected);
    const kv = JSON.parse((await env.ROUTES.get(SETTINGS_KEY)) ?? "{}") as { rollout: Rollout };
    expect(kv.rollout).toEqual(expected);
    const entry = (await audit())[0];
    expect(entry).toMatchObject({
      action: "sync.flags",
      actor: "token:ci",
      before: { percentage: 25, include: ["manual-entry"], exclude: [] },
      after: { rollout: expected, flag: SLUG, unknownOrganizations: ["org_W_NOBODY"] },
    });
  });

  it("moves and removes entries as the flag changes, and a run with nothing new writes nothing", async () => {
    await syncFlags();
    await fakeWorkos(KEY, { flags: { [SLUG]: flag([["org_W_ACME", false]]) } });
    const report = await json<FlagReport>(await syncFlags());
    expect(report.include.removed).toEqual(["hooli-saml", "org_acme"]);
    expect(report.exclude).toEqual({ added: ["org_acme"], removed: ["org_globex"] });
    expect(await rollout()).toEqual({ percentage: 25, include: ["manual-entry"], exclude: ["org_acme"] });

    const again = await json<FlagReport>(await syncFlags());
    expect(again.changed).toBe(false);
    expect((await audit()).filter((e) => e.action === "sync.flags")).toHaveLength(2);
  });

  it("reads the flag from settings.provider.flagSlug", async () => {
    await fakeWorkos(KEY, { flags: { [SLUG]: FLAG, "other-flag": flag([["org_W_GLOBEX", true]]) } });
    await api("/settings", { method: "PUT", body: { provider: { flagSlug: "other-flag" } } });
    const report = await json<FlagReport>(await syncFlags());
    expect(report.flag).toBe("other-flag");
    expect((await rollout()).include).toEqual(["manual-entry", "org_globex"]);
  });

  it("also reads a { data: [{ slug, ... }] } listing", async () => {
    await fakeWorkos(KEY, { flags: { [SLUG]: FLAG }, flagsFormat: "list" });
    expect((await json<FlagReport>(await syncFlags())).include.added).toEqual(["hooli-saml", "org_acme"]);
  });

  it("mirrors a flag switched off at WorkOS as targeted, with a warning", async () => {
    await fakeWorkos(KEY, { flags: { [SLUG]: flag([["org_W_ACME", true]], false) } });
    const report = await json<FlagReport>(await syncFlags());
    expect(report.flagEnabled).toBe(false);
    expect(report.warnings.join(" ")).toContain("switched off at WorkOS");
  });

  it("excludes a value one WorkOS organization enables and another disables, and says so", async () => {
    await api("/routes/globex-saml", { method: "PATCH", body: { organization: "org_acme" } });
    await fakeWorkos(KEY, {
      flags: {
        [SLUG]: flag([
          ["org_W_ACME", true],
          ["org_W_GLOBEX", false],
        ]),
      },
    });
    const report = await json<FlagReport>(await syncFlags());
    expect(report.conflicts).toEqual(["org_acme"]);
    expect(await rollout()).toMatchObject({ include: ["manual-entry"], exclude: ["org_acme"] });
  });
});

describe("POST /sync/flags: when WorkOS fails, the last mirrored lists stay in force", () => {
  it("mirror once, then an outage: 502, and the lists, KV and the router's answer are unchanged", async () => {
    await syncFlags();
    const mirrored = await rollout();
    const kvBefore = await env.ROUTES.get(SETTINGS_KEY);
    await fakeWorkos(KEY, { connections: CONNECTIONS, flags: { [SLUG]: FLAG }, failures: "always" });
    const res = await syncFlags();
    expect(res.status).toBe(502);
    expect((await json<Problem>(res)).detail).toContain("the last synced state stays in force");
    expect(await rollout()).toEqual(mirrored);
    expect(await env.ROUTES.get(SETTINGS_KEY)).toBe(kvBefore);
    const evaluation = await json<{ destination: string; reason: string }>(
      await api("/evaluate?organization=org_acme"),
    );
    expect(evaluation).toMatchObject({ destination: "new", reason: "rollout-include" });
  });

  it.each<[string, FakeBehaviour, string]>([
    ["a field of the wrong type", { flags: { [SLUG]: FLAG }, malformed: "types" }, `${SLUG}.enabled`],
    ["a body that is not JSON", { flags: { [SLUG]: FLAG }, malformed: "json" }, "(body)"],
    ["the rule-based v2 format", { flags: { [SLUG]: FLAG }, flagsFormat: "v2" }, "version"],
    ["no such flag", { flags: { "other-flag": FLAG } }, "settings.provider.flagSlug"],
  ])("answers 502 naming the field for %s, and changes nothing", async (_name, behaviour, field) => {
    await fakeWorkos(KEY, behaviour);
    const res = await syncFlags();
    expect(res.status).toBe(502);
    expect((await json<Problem>(res)).errors?.[0]?.field).toBe(field);
    expect(await rollout()).toEqual({ percentage: 25, include: ["manual-entry"], exclude: [] });
  });

  it("answers 503 when WORKOS_API_KEY is not configured", async () => {
    const res = await syncFlags("", workosEnv(undefined));
    expect(res.status).toBe(503);
    expect((await json<Problem>(res)).detail).toContain("WORKOS_API_KEY");
  });
});
