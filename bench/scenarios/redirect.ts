/**
 * The 307 decision: a GET callback for a migrated connection (10-route table,
 * isolate cache on) against the minimal redirect Worker, which rewrites every
 * callback into a 307 with no table, no identification, no log and no counters
 * (the floor for any router; issue target: >= 0.9x). `a-noev`: the same router with
 * STATS_EVIDENCE=off, so a/a-min against a-noev/a-min is what recording evidence costs.
 */
import { CacheTally } from "../cache-sim";
import { DEFAULT_TARGET } from "../fixtures";
import { check } from "../load";
import type { Scenario } from "../scenario";
import { SMALL_ROUTES } from "../settings";
import { CALLBACK_PREFIX, only, type ScenarioContext } from "./common";

export function redirectScenarios(ctx: ScenarioContext): Scenario[] {
  const { small } = ctx.tables;
  return [
    {
      id: "a-min",
      label: "(a') GET callback -> 307, minimal redirect Worker",
      worker: "minimal",
      expectStatus: 307,
      usesOrigin: false,
      request: { method: "GET" },
      paths: { prefix: CALLBACK_PREFIX, choices: small.migrated },
      preflight: async (base) => {
        const path = `/login/callback?connection=${small.migrated[0] ?? ""}`;
        return only([
          await check(new URL(path, base), { method: "GET" }, 307, (res) =>
            res.headers.get("location") === `${DEFAULT_TARGET}?connection=${small.migrated[0] ?? ""}`
              ? undefined
              : `Location "${res.headers.get("location")}"`,
          ),
        ]);
      },
    },
    {
      id: "a",
      label: `(a)  GET callback -> 307, router, ${SMALL_ROUTES} routes`,
      worker: "router",
      expectStatus: 307,
      expectReason: "migrated",
      usesOrigin: false,
      request: { method: "GET" },
      paths: { prefix: CALLBACK_PREFIX, choices: small.migrated },
      cache: ctx.cacheSmall,
      cacheTally: new CacheTally(),
      preflight: (base) => ctx.checkRedirects(base, small.migrated, ctx.cacheSmall),
    },
    {
      id: "a-noev",
      label: `(a)  GET callback -> 307, router, ${SMALL_ROUTES} routes, no evidence recorded`,
      worker: "router-noevidence",
      expectStatus: 307,
      expectReason: "migrated",
      usesOrigin: false,
      request: { method: "GET" },
      paths: { prefix: CALLBACK_PREFIX, choices: small.migrated },
      cache: ctx.cacheSmallNoEvidence,
      cacheTally: new CacheTally(),
      preflight: (base) => ctx.checkRedirects(base, small.migrated, ctx.cacheSmallNoEvidence),
    },
  ];
}
