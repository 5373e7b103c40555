/**
 * The shapes the TrafficCounter stores and answers with, and how long it keeps
 * them (docs/storage.md). No platform import: the report and the dashboard
 * client use these types too.
 */
import type { OutcomeKind } from "./outcome";

/**
 * Why a login went to Auth0 (its first callback), by the class of its decision reason
 * (src/stats/why.ts). Each login forwarded to Auth0 is in exactly one class, so the
 * classes add up to `auth0`.
 * - `killSwitch`: the kill switch was on (reason kill-switch).
 * - `shadow`: shadow mode; the route would have sent it to the new provider.
 * - `affinity`: Auth0 started the login (transaction affinity, reason auth0-transaction).
 * - `route`: the table as the isolate read it said Auth0 (legacy, a rollout that did not
 *   select it, or no route): right before a state change, propagation after one.
 * - `invalid`: a refused record (route or settings failed validation, or no usable target).
 * - `unavailable`: the table could not be read, or only a stale copy after a KV error.
 * - `other`: anything else (an ambiguous connection parameter, a failure before routing).
 */
export const AUTH0_WHY = ["killSwitch", "shadow", "affinity", "route", "invalid", "unavailable", "other"] as const;
export type Auth0Why = (typeof AUTH0_WHY)[number];
export type Auth0By = Record<Auth0Why, number>;

export function emptyAuth0By(): Auth0By {
  return { killSwitch: 0, shadow: 0, affinity: 0, route: 0, invalid: 0, unavailable: 0, other: 0 };
}

/** The counters a row stores; the report adds what is derived from them (src/stats/report.ts). */
export interface Tally {
  /** Logins forwarded to Auth0 on their first callback. */
  auth0: number;
  /** Logins sent to the new provider. */
  new: number;
  /** Of those, bounced back with fallback=auth0 (then served by Auth0). */
  fallback: number;
  /** Logins no connection could be attributed to (also in auth0 or new). */
  unidentified: number;
  /** Answers with a 5xx: the Worker's own or Auth0's passed on (not a client that hung up: src/client-gone.ts). */
  errors: number;
  /** Logins Auth0 started, sent back to Auth0 by transaction affinity (also in auth0; = auth0By.affinity). */
  affinity: number;
  /** The `auth0` logins by why they went there; the classes add up to `auth0`. */
  auth0By: Auth0By;
  /**
   * Auth0 retired: bounces nobody could sign in, answered with the router's own page (also in
   * fallback). Optional so that a row made without it (older callers) reads as 0.
   */
  unserved?: number;
}

/** Counts of one connection in one minute (`at` = `2026-11-23T13:05`) or hour (`2026-11-23T13`). */
export interface CountRow extends Tally {
  at: string;
  connection: string;
}

/** The newest callback of a connection (`at` in ms since the epoch). */
export interface LastSeen {
  connection: string;
  at: number;
  kind: OutcomeKind;
  destination: "auth0" | "new";
  status: number;
  reason: string;
}

export type Resolution = "minute" | "hour";

const HOUR_MS = 3_600_000;
/** Per-minute rows are kept this long, then only the hourly rows remain. */
export const MINUTE_RETENTION_MS = 6 * HOUR_MS;
/** Hourly rows (and last-seen entries) are kept this long. */
export const HOUR_RETENTION_MS = 35 * 24 * HOUR_MS;

/**
 * The one bucket of every connection name that has no route: strangers' names never make
 * rows of their own (src/stats/counter-do.ts). Beside outcome.ts's UNIDENTIFIED and NOT_A_CALLBACK.
 */
export const NOT_IN_TABLE = "(not in table)";
