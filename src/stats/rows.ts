/**
 * The shapes the TrafficCounter stores and answers with, and how long it keeps
 * them (docs/storage.md). No platform import: the report and the dashboard
 * client use these types too.
 */
import type { OutcomeKind } from "./outcome";

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
  /** Logins Auth0 started, sent back to Auth0 by transaction affinity (also in auth0). */
  affinity: number;
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
