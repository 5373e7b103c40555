/**
 * Decision cost against table size (issue target: flat from 10 to 100 000
 * routes, <= 1.05x), GET callbacks for migrated connections -> 307:
 *
 *   a-100k          100 000 routes, a random migrated connection per request (mostly isolate-cache misses)
 *   a-100k-hot      100 000 routes, always one connection (isolate-cache hits, like "a")
 *   a-nocache, a-100k-nocache   10 / 100 000 routes, isolate cache off (every callback reads KV)
 */
import { CacheTally } from "../cache-sim";
import type { Scenario } from "../scenario";
import { SMALL_ROUTES } from "../settings";
import { pickFrom } from "../util";
import { CALLBACK_PREFIX, sample, type ScenarioContext } from "./common";

export function tableSizeScenarios(ctx: ScenarioContext, bigRoutes: number): Scenario[] {
  const { small, big } = ctx.tables;
  const pickBigMigrated = pickFrom(big.migrated);
  const hotConnection = big.migrated[Math.floor(big.migrated.length / 2)] ?? "";
  const redirect = { expectStatus: 307, expectReason: "migrated", usesOrigin: false, request: { method: "GET" } };
  return [
    {
      ...redirect,
      id: "a-100k",
      label: `(a)  GET callback -> 307, ${bigRoutes} routes, random conn`,
      worker: "router-100k",
      paths: { prefix: CALLBACK_PREFIX, choices: big.migrated },
      cache: ctx.cacheBig,
      cacheTally: new CacheTally(),
      preflight: (base) => ctx.checkRedirects(base, sample(pickBigMigrated, 25), ctx.cacheBig),
    },
    {
      ...redirect,
      id: "a-100k-hot",
      label: `(a)  GET callback -> 307, ${bigRoutes} routes, one conn`,
      worker: "router-100k",
      paths: { prefix: CALLBACK_PREFIX, choices: [hotConnection] },
      cache: ctx.cacheBig,
      cacheTally: new CacheTally(),
      preflight: (base) => ctx.checkRedirects(base, [hotConnection], ctx.cacheBig),
    },
    {
      ...redirect,
      id: "a-nocache",
      label: `(a)  GET callback -> 307, ${SMALL_ROUTES} routes, no isolate cache`,
      worker: "router-nocache",
      paths: { prefix: CALLBACK_PREFIX, choices: small.migrated },
      cache: ctx.noCacheSmall,
      cacheTally: new CacheTally(),
      preflight: (base) => ctx.checkRedirects(base, small.migrated, ctx.noCacheSmall),
    },
    {
      ...redirect,
      id: "a-100k-nocache",
      label: `(a)  GET callback -> 307, ${bigRoutes} routes, no isolate cache`,
      worker: "router-100k-nocache",
      paths: { prefix: CALLBACK_PREFIX, choices: big.migrated },
      cache: ctx.noCacheBig,
      cacheTally: new CacheTally(),
      preflight: (base) => ctx.checkRedirects(base, sample(pickBigMigrated, 25), ctx.noCacheBig),
    },
  ];
}
