/**
 * The shapes the TrafficCounter stores and answers with, and how long it keeps
 * them (docs/storage.md). No platform import: the report and the dashboard
 * client use these types too.
 */
import type { OutcomeKind } from "./outcome";

/** Counts of one connection in one minute (`at` = `2026-11-23T13:05`) or hour (`2026-11-23T13`). */
export interface CountRow {
  at: string;
  connection: string;
  auth0: number;
  new: number;
  fallback: number;
  unidentified: number;
  errors: number;
  /** Logins Auth0 started, sent back to Auth0 by transaction affinity (also in auth0). */
  affinity: number;
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
