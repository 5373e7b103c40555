import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { api, json, resetTable } from "./support/admin";
import { call, captureLogs, HOST } from "./support/worker";

beforeEach(() => resetTable());

type Problem = { errors: Array<{ field: string; reason: string }> };
type Evaluation = { connection: string | null; destination: string; reason: string; target?: string; shadow?: unknown };
type OrgEvaluation = { organization: string; destination: string; reason: string; connections: Evaluation[] };

describe("settings and rollout", () => {
  it("starts from the defaults and changes only the fields sent", async () => {
    const initial = await json(await api("/settings"));
    expect(initial).toEqual({
      mode: "route",
      killSwitch: { on: false },
      unknown: "auth0",
      redirect: "307",
      rollout: { percentage: 0, include: [], exclude: [] },
    });
    const res = await api("/settings", {
      method: "PUT",
      body: { unknown: "probe", defaultTarget: "https://sso.example.com/cb" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe('"1"');
    expect(await json(res)).toMatchObject({
      mode: "route",
      unknown: "probe",
      defaultTarget: "https://sso.example.com/cb",
    });
    const cleared = await json(await api("/settings", { method: "PUT", body: { defaultTarget: null } }));
    expect(cleared["defaultTarget"]).toBeUndefined();
  });

  it.each<[string, unknown, string]>([
    ["an unknown mode", { mode: "off" }, "mode"],
    ["an unknown field", { colour: "red" }, "(body)"],
    ["a default target off the allow-list", { defaultTarget: "https://evil.test/cb" }, "defaultTarget"],
  ])("refuses %s, naming the field", async (_name, body, field) => {
    const res = await api("/settings", { method: "PUT", body });
    expect(res.status).toBe(422);
    expect((await json<Problem>(res)).errors.map((e) => e.field)).toContain(field);
  });

  it.each<[string, unknown, string]>([
    ["a percentage over 100", { percentage: 101 }, "percentage"],
    ["a negative percentage", { percentage: -1 }, "percentage"],
    ["a non-numeric percentage", { percentage: "ten" }, "percentage"],
    ["an include list that is not a list", { percentage: 5, include: "org_1" }, "include"],
  ])("refuses a rollout with %s", async (_name, body, field) => {
    const res = await api("/rollout", { method: "PUT", body });
    expect(res.status).toBe(422);
    expect((await json<Problem>(res)).errors.map((e) => e.field)).toContain(field);
  });

  it("sets the rollout flag and answers 412 to a stale If-Match", async () => {
    const first = await api("/rollout", { method: "PUT", body: { percentage: 10, include: ["org_a"] } });
    expect(await json(first)).toEqual({ percentage: 10, include: ["org_a"], exclude: [] });
    const etag = first.headers.get("etag") ?? "";
    expect(
      (await api("/rollout", { method: "PUT", body: { percentage: 20 }, headers: { "if-match": etag } })).status,
    ).toBe(200);
    expect(
      (await api("/rollout", { method: "PUT", body: { percentage: 30 }, headers: { "if-match": etag } })).status,
    ).toBe(412);
    expect(await json(await api("/rollout"))).toMatchObject({ percentage: 20 });
  });

  it("records who changed what in the audit log, newest first, with before and after", async () => {
    await api("/settings", { method: "PUT", body: { mode: "shadow" } });
    await api("/rollout", { method: "PUT", body: { percentage: 10 } });
    const { entries } = await json<{
      entries: Array<{
        action: string;
        actor: string;
        before: { mode?: string; rollout?: { percentage: number } };
        after: { mode?: string; rollout?: { percentage: number } };
      }>;
    }>(await api("/audit"));
    expect(entries.map((e) => e.action)).toEqual(["rollout.update", "settings.update"]);
    expect(entries[1]).toMatchObject({ actor: "token:ci", before: { mode: "route" }, after: { mode: "shadow" } });
    expect(entries[0]?.after.rollout?.percentage).toBe(10);
  });

  it("pages the audit log with a cursor and filters it by connection", async () => {
    for (let i = 0; i < 5; i++) await api(`/routes/c${i}`, { method: "PUT", body: { state: "legacy" } });
    const page1 = await json<{ entries: Array<{ id: number; subject: string }>; nextCursor: number | null }>(
      await api("/audit?limit=2"),
    );
    expect(page1.entries.map((e) => e.subject)).toEqual(["c4", "c3"]);
    const page2 = await json<{ entries: Array<{ subject: string }> }>(
      await api(`/audit?limit=2&before=${page1.nextCursor}`),
    );
    expect(page2.entries.map((e) => e.subject)).toEqual(["c2", "c1"]);
    const one = await json<{ entries: unknown[] }>(await api("/audit?connection=c2"));
    expect(one.entries).toHaveLength(1);
  });
});

describe("/evaluate", () => {
  async function table(): Promise<void> {
    await api("/settings", { method: "PUT", body: { defaultTarget: "https://sso.example.com/cb" } });
    await api("/routes/acme-saml", { method: "PUT", body: { state: "migrated", organization: "org_acme" } });
    await api("/routes/acme-oidc", { method: "PUT", body: { state: "migrated", organization: "org_acme" } });
    await api("/routes/globex-saml", { method: "PUT", body: { state: "legacy", organization: "org_globex" } });
    await api("/routes/stark-saml", { method: "PUT", body: { state: "rollout", organization: "org_stark" } });
    await api("/routes/mixed-a", { method: "PUT", body: { state: "migrated", organization: "org_mixed" } });
    await api("/routes/mixed-b", { method: "PUT", body: { state: "legacy", organization: "org_mixed" } });
  }

  it("answers by connection with the router's reason and target", async () => {
    await table();
    expect(await json<Evaluation>(await api("/evaluate?connection=acme-saml"))).toMatchObject({
      connection: "acme-saml",
      destination: "new",
      reason: "migrated",
      target: "https://sso.example.com/cb",
      affinity: "not-configured",
      routability: { level: expect.any(String) },
    });
    expect(await json<Evaluation>(await api("/evaluate?connection=globex-saml"))).toMatchObject({
      destination: "auth0",
      reason: "legacy",
    });
    expect(await json<Evaluation>(await api("/evaluate?connection=nobody"))).toMatchObject({
      destination: "auth0",
      reason: "unknown-connection",
    });
  });

  it("answers by organization: new only when all its connections go there", async () => {
    await table();
    expect(await json<OrgEvaluation>(await api("/evaluate?organization=org_acme"))).toMatchObject({
      destination: "new",
      reason: "migrated",
    });
    expect(await json<OrgEvaluation>(await api("/evaluate?organization=org_mixed"))).toMatchObject({
      destination: "auth0",
      reason: "mixed",
    });
    expect(await json<OrgEvaluation>(await api("/evaluate?organization=org_none"))).toMatchObject({
      destination: "auth0",
      reason: "unknown-organization",
    });
  });

  it("follows the rollout flag for an organization", async () => {
    await table();
    expect(await json<OrgEvaluation>(await api("/evaluate?organization=org_stark"))).toMatchObject({
      destination: "auth0",
    });
    await api("/rollout", { method: "PUT", body: { percentage: 0, include: ["org_stark"] } });
    expect(await json<OrgEvaluation>(await api("/evaluate?organization=org_stark"))).toMatchObject({
      destination: "new",
      reason: "rollout-include",
    });
  });

  it("reports shadow mode's would-be destination while answering auth0", async () => {
    await table();
    await api("/settings", { method: "PUT", body: { mode: "shadow" } });
    expect(await json<Evaluation>(await api("/evaluate?connection=acme-saml"))).toMatchObject({
      destination: "auth0",
      shadow: { destination: "new", target: "https://sso.example.com/cb" },
    });
  });

  it("asks for exactly one of organization and connection", async () => {
    expect((await api("/evaluate")).status).toBe(400);
    expect((await api("/evaluate?organization=a&connection=b")).status).toBe(400);
  });

  it("agrees with the callback router for any organization and rollout (property)", async () => {
    await api("/settings", { method: "PUT", body: { defaultTarget: "https://sso.example.com/cb" } });
    const orgs = Array.from({ length: 40 }, (_, i) => `org_${i}`);
    await api("/import", {
      method: "POST",
      body: {
        routes: orgs.map((org, i) => ({
          connection: `conn-${i}`,
          organization: org,
          state: i % 7 === 0 ? "legacy" : "rollout",
        })),
      },
    });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 100 }),
        fc.subarray(orgs, { maxLength: 5 }),
        fc.subarray(orgs, { maxLength: 5 }),
        fc.integer({ min: 0, max: 39 }),
        async (percentage, include, exclude, i) => {
          await api("/rollout", { method: "PUT", body: { percentage, include, exclude } });
          const evaluation = await json<OrgEvaluation>(await api(`/evaluate?organization=org_${i}`));
          const { result, logs } = await captureLogs(() =>
            call(new Request(`${HOST}/login/callback?connection=conn-${i}`)),
          );
          await result.body?.cancel();
          const routed = logs.find((l) => l["event"] === "callback");
          expect(routed?.["decision"]).toBe(evaluation.destination);
          expect(routed?.["reason"]).toBe(evaluation.connections[0]?.reason);
          expect(result.status === 307 ? "new" : "auth0").toBe(evaluation.destination);
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);
});
