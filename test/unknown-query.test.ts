/**
 * Every API route refuses a query parameter it does not declare: 400 problem naming the
 * parameter, nothing done. A misspelt or unsupported flag can never turn a preview into a
 * change. What each route takes is its OpenAPI definition's, so the document says the same.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { api, json, resetTable } from "./support/admin";

type Problem = { title: string; detail: string; errors: Array<{ field: string; reason: string }> };

beforeEach(async () => {
  await resetTable();
  expect((await api("/routes/acme-saml", { method: "PUT", body: { state: "legacy" } })).status).toBe(201);
});

/** What proves nothing was written: the table, the settings and the newest audit entry. */
async function written(): Promise<unknown> {
  const [exported, audit] = await Promise.all([json(await api("/export")), json(await api("/audit?limit=1"))]);
  return { exported, audit };
}

describe("unknown query parameters", () => {
  it.each<[string, string, string, unknown, string]>([
    ["PATCH a route with a misspelt flag", "PATCH", "/routes/acme-saml?dryrun=true", { state: "migrated" }, "dryrun"],
    ["PUT a route with a flag it has not", "PUT", "/routes/acme-saml?force=1", { state: "migrated" }, "force"],
    ["DELETE a route with a flag it has not", "DELETE", "/routes/acme-saml?soft=true", undefined, "soft"],
    ["PUT settings with a flag it has not", "PUT", "/settings?mode=shadow", { unknown: "probe" }, "mode"],
    ["PUT the rollout with a flag it has not", "PUT", "/rollout?percentage=50", { percentage: 10 }, "percentage"],
    ["import with a misspelt dry run", "POST", "/import?dry_run=true", { routes: [] }, "dry_run"],
    ["a sync with a misspelt dry run", "POST", "/sync/workos?dryrun=true", undefined, "dryrun"],
  ])("refuses %s: 400 naming the parameter, nothing written", async (_name, method, path, body, param) => {
    const before = await written();
    const res = await api(path, body === undefined ? { method } : { method, body });
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const problem = await json<Problem>(res);
    expect(problem.title).toBe("Unknown query parameter");
    expect(problem.detail).toContain(`"${param}"`);
    expect(problem.errors.map((e) => e.field)).toEqual([`query.${param}`]);
    expect(await written()).toEqual(before);
  });

  it.each<[string, string]>([
    ["a list with a misspelt filter", "/routes?stat=migrated"],
    ["one route with a parameter", "/routes/acme-saml?verbose=1"],
    ["the stats with a misspelt window", "/stats?from=2026-01-01T00:00:00Z"],
    ["the audit with a misspelt filter", "/audit?conection=acme-saml"],
    ["the status with any parameter", "/status?x=1"],
    ["the OpenAPI document with any parameter", "/openapi.json?v=2"],
  ])("refuses %s on a read, too", async (_name, path) => {
    const res = await api(path);
    expect(res.status).toBe(400);
    const problem = await json<Problem>(res);
    expect(problem.errors).toHaveLength(1);
    expect(problem.errors[0]?.field).toMatch(/^query\./);
  });

  it("names every unknown parameter and what the route takes", async () => {
    const res = await api("/routes?stat=migrated&org=o&limit=5");
    const problem = await json<Problem>(res);
    expect(problem.errors.map((e) => e.field)).toEqual(["query.stat", "query.org"]);
    expect(problem.errors[0]?.reason).toBe(
      "not a parameter of GET /__router/v1/routes (it takes only state, organization, cursor and limit)",
    );
  });

  it("still answers the parameters a route declares", async () => {
    expect((await api("/routes?state=legacy&limit=5")).status).toBe(200);
    expect((await api("/audit?limit=1&connection=acme-saml")).status).toBe(200);
    expect((await api("/import?dryRun=true&mode=merge", { body: { routes: [] } })).status).toBe(200);
    expect((await api("/evaluate?connection=acme-saml")).status).toBe(200);
  });
});
