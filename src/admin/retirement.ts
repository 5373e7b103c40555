/**
 * The counters' side of the retirement check (src/writer/retirement.ts): which connections'
 * logins reached Auth0 in the last RETIREMENT_QUIET_DAYS days other than through a
 * fallback bounce (the counters' `auth0` column: first callbacks forwarded to Auth0, for
 * any reason, transaction affinity included; bounces are counted apart, in `fallback`).
 * Connections without a route are one `(not in table)` bucket (src/stats).
 */
import type { Env } from "../env";
import { RETIREMENT_QUIET_DAYS, type Auth0Traffic } from "../writer/retirement";
import { shards, sums } from "./stats-api";

const DAY_MS = 86_400_000;

/** The hour key (`2026-11-23T13`) of `ms`. */
function hourKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 13);
}

/** Per connection, logins that reached Auth0 over the quiet period (hourly rows; zeros left out), by name. */
export async function recentAuth0Traffic(env: Env, now: number = Date.now()): Promise<Auth0Traffic[]> {
  const read = await sums(await shards(env), "hour", hourKey(now - RETIREMENT_QUIET_DAYS * DAY_MS), hourKey(now));
  return [...read.sums.entries()]
    .filter(([, counts]) => counts.auth0 > 0)
    .map(([connection, counts]) => ({ connection, logins: counts.auth0 }))
    .sort((a, b) => (a.connection < b.connection ? -1 : 1));
}
