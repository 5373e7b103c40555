/**
 * What the autopilot reports as it runs a cut-over plan (docs/operations.md, "Autopilot"):
 * one event per decision, handed to `notify` (src/autopilot/notify.ts: an optional
 * Slack-compatible webhook) and to the log. The engine (src/autopilot/) makes them; nothing
 * here does I/O.
 *
 * Numbers are the ones the decision was made on, over the gate window that ended at `at`:
 * `logins` = callbacks the router counted for the connection since its change, `fallback` =
 * verified bounces back (`fallback=auth0` from the new provider; `fallback-unverified` is not
 * counted), `errors` = callbacks that ended in an error, and the provider's own outcomes when
 * it reports them (`outcome`: "no source" when no outcome source was readable, never a silent
 * pass).
 */

/** The kinds of events, in the order a plan meets them. */
export const AUTOPILOT_EVENT_KINDS = [
  "promoted",
  "rolled-back",
  "halted",
  "paused",
  "resumed",
  "aborted",
  "finished",
] as const;

export type AutopilotEventKind = (typeof AUTOPILOT_EVENT_KINDS)[number];

/** The gate readings behind a decision about one connection. Shares are 0..1. */
export interface AutopilotNumbers {
  /** Callbacks counted for the connection since its change (the minimum-logins gate reads this). */
  logins: number;
  /** Verified bounces back to Auth0 (`fallback`), and their share of `logins`. */
  fallback: number;
  fallbackShare: number;
  /** Callbacks that ended in an error, and their share of `logins`. */
  errors: number;
  errorShare: number;
  /** Flags (alarms) the stats report raised for the connection since its change. */
  alarms: string[];
  /**
   * The new provider's own outcome for the connection since its change: counts from its
   * events, or "no source" with why none could be read.
   */
  outcome: { succeeded: number; failed: number; source: string } | { source: "no source"; reason: string };
}

export interface AutopilotEvent {
  kind: AutopilotEventKind;
  /** The plan's id (the audit's actor is `autopilot:<planId>`). */
  planId: string;
  /** 0-based index of the wave the event belongs to; null for plan-wide events before any wave ran. */
  wave: number | null;
  /** The wave's name from the plan, when it has one. */
  waveName?: string;
  /** The connection a promotion or rollback is about; absent for plan-wide events. */
  connection?: string;
  /** Why, in one sentence an operator reads in a chat channel (e.g. "fallback share 0.42 > 0.05"). */
  reason: string;
  /** The numbers the decision was made on (promotions and rollbacks). */
  numbers?: AutopilotNumbers;
  /** Who caused it: `autopilot:<planId>` for the engine's own decisions, else the operator. */
  actor: string;
  /** When it happened, ISO 8601 UTC. */
  at: string;
}
