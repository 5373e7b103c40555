/**
 * /evaluate answers with the router's own decision for each callback shape a
 * route's protocol produces — so, for generated tables (every protocol, state
 * and match combination, both unknown policies, route and shadow mode), the
 * real callback of each shape sent through the Worker must be decided the
 * same way, and "new" at the top must mean every usual callback really goes
 * there. Unroutable routes included.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import type { RouteInput, RouteTableFile } from "../src/table/schema";
import { api, json } from "./support/admin";
import { realCallback } from "./support/callbacks";
import { call, captureLogs, seed } from "./support/worker";

vi.setConfig({ testTimeout: 240_000 });

const PROTOCOLS = [undefined, "samlp", "oidc", "okta", "waad", "google-apps", "adfs", "wsfed", "other"] as const;

interface Evaluation {
  destination: "new" | "auth0";
  reason: string;
  callbacks?: Array<{ shape: string; usual: boolean; destination: string; reason: string }>;
}

const routeArb = (i: number): fc.Arbitrary<RouteInput> =>
  fc
    .record({
      protocol: fc.constantFrom(...PROTOCOLS),
      state: fc.constantFrom("legacy" as const, "migrated" as const, "rollout" as const),
      sp: fc.boolean(),
      idp: fc.boolean(),
      oidc: fc.boolean(),
      target: fc.boolean(),
      organization: fc.boolean(),
    })
    .map((r) => {
      const connection = `conn-${i}`;
      const route: RouteInput = { connection, state: r.state };
      if (r.protocol !== undefined) route.protocol = r.protocol;
      const match: NonNullable<RouteInput["match"]> = {};
      if (r.sp) match.spEntityId = `https://app.test/sp/${connection}`;
      if (r.idp) match.idpEntityId = `https://idp.test/${connection}`;
      if (r.oidc) match.oidcIssuer = `https://op.test/${connection}`;
      if (Object.keys(match).length > 0) route.match = match;
      if (r.target) route.target = `https://sso.example.com/cb/${connection}`;
      if (r.organization) route.organization = `org_${i % 2}`;
      return route;
    });

const tableArb: fc.Arbitrary<RouteTableFile> = fc
  .record({
    routes: fc.integer({ min: 1, max: 3 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => routeArb(i)))),
    mode: fc.constantFrom("route" as const, "shadow" as const),
    unknown: fc.constantFrom("auth0" as const, "probe" as const),
    defaultTarget: fc.boolean(),
    percentage: fc.constantFrom(0, 50, 100),
  })
  .map((t) => ({
    settings: {
      mode: t.mode,
      unknown: t.unknown,
      redirect: "307" as const,
      rollout: { percentage: t.percentage, include: [], exclude: [] },
      ...(t.defaultTarget ? { defaultTarget: "https://sso.example.com/default" } : {}),
    },
    routes: t.routes,
  }));

describe("/evaluate agrees with the real callback path", () => {
  it("for every protocol, state, match and policy — including routes the router cannot identify", async () => {
    let shapes = 0;
    let unidentified = 0;
    await fc.assert(
      fc.asyncProperty(tableArb, async (table) => {
        await seed(table);
        for (const route of table.routes) {
          const evaluation = await json<Evaluation>(await api(`/evaluate?connection=${route.connection}`));
          expect(evaluation.callbacks?.length ?? 0).toBeGreaterThan(0);
          for (const cb of evaluation.callbacks ?? []) {
            const { result, logs } = await captureLogs(() => call(realCallback(cb.shape, route)));
            await result.body?.cancel();
            const log = logs.find((l) => l["event"] === "callback") ?? {};
            shapes++;
            if (log["identifiedBy"] === "none") unidentified++;
            const context = { connection: route.connection, protocol: route.protocol, shape: cb.shape };
            expect({ ...context, destination: log["decision"], reason: log["reason"] }).toEqual({
              ...context,
              destination: cb.destination,
              reason: cb.reason,
            });
            expect(result.status === 307 ? "new" : "auth0").toBe(cb.destination);
            if (evaluation.destination === "new" && cb.usual) expect(result.status).toBe(307);
          }
        }
      }),
      { numRuns: 40 },
    );
    // The generator reached both sides: identified and unidentified callbacks.
    expect(shapes).toBeGreaterThan(100);
    expect(unidentified).toBeGreaterThan(10);
  });
});
