/**
 * What one answer adds to the traffic counters. Pure.
 *
 * Definitions (the same in /stats, docs/operations.md "Traffic counters" and the dashboard):
 * - a **login** is counted once, on its first callback: `auth0` (forwarded to Auth0) or
 *   `new` (sent to the new provider). `unidentified` counts the logins no connection
 *   could be attributed to; they are also in `auth0` or `new`.
 * - a **bounce** (`fallback`) is the second callback of a login the new provider sent
 *   back with `fallback=auth0`: not a new login; that login was served by Auth0. It is a
 *   bounce only when it carries the router's mark of that hand-off (src/callback/bounce-mark.ts);
 *   anyone can send `fallback=auth0`, so one without a valid mark is **fallback-unverified**:
 *   forwarded to Auth0 all the same, logged, and counted in no share, flag, gate or error.
 * - **unserved** counts the bounces of logins nobody could sign in: the new provider sent them
 *   back with `fallback=auth0` after Auth0 was retired, and the router answered its own page
 *   (src/callback/retired-pages.ts). Failed logins; also in `fallback`.
 * - **affinity** counts the logins Auth0 started (transaction affinity, reason
 *   `auth0-transaction`) and the Worker sent back to Auth0: also in `auth0`. Under
 *   `unknown: probe` each is a bounce the new provider did not have to make.
 * - an **error** is any callback answered with a 5xx, by the Worker itself (Auth0
 *   unreachable or too slow, an unexpected failure) or passed on from Auth0; and any
 *   other path's 5xx (Auth0's pages passed through), under NOT_A_CALLBACK. A client that
 *   hung up while the Worker read its body got no answer: not an error, and not a login
 *   (src/client-gone.ts; logged `client-gone`).
 */
import type { CallbackLog } from "../log";
import type { Auth0Why } from "./rows";
import { evidenceOf, type EvidenceKey } from "./evidence";
import { auth0WhyOf } from "./why";

/** Counters are keyed by connection; logins nobody could attribute share this key. */
export const UNIDENTIFIED = "(unidentified)";
/** 5xx answers on paths other than /login/callback (not logins; counted as errors only). */
export const NOT_A_CALLBACK = "(not a callback)";

export type OutcomeKind =
  /** The first callback of a login. */
  | "login"
  /** The new provider's `fallback=auth0` bounce of a login already counted (with the router's mark). */
  | "bounce"
  /** A `fallback=auth0` callback without a valid mark: the router cannot tell it came from its own hand-off. */
  | "fallback-unverified"
  /** Neither (a HEAD or OPTIONS on the callback, or another path): counted only if it is an error. */
  | "other";

export interface Outcome {
  connection: string;
  kind: OutcomeKind;
  /** Where the Worker sent it. */
  destination: "auth0" | "new";
  /** The answer was a 5xx (the Worker's own, or Auth0's passed on). */
  error: boolean;
  /** Sent to Auth0 because Auth0 started this login (reason auth0-transaction). */
  affinity?: boolean;
  /** A login sent to Auth0: why (src/stats/why.ts); absent means `other`. */
  why?: Auth0Why;
  /** Auth0 retired: a bounce nobody could sign in (a failed login; also counted as a bounce). */
  unserved?: boolean;
  /** A login's evidence: its callback's shape, who started it, how it was identified (src/stats/evidence.ts). */
  evidence?: EvidenceKey;
  /** The answer's status and the decision's reason, for "last callback seen". */
  status: number;
  reason: string;
  /** A bounce with a valid mark: the mark's id (log's fallbackMarkId), spent once by the counters. */
  markId?: string;
}

/** A bounce whose mark is to be spent (src/stats/spent-marks.ts): counted only if its id is new. */
export interface MarkedBounce {
  markId: string;
  /** When it was answered (ms). */
  at: number;
  /** Its outcome without the id: a bounce; a replay of the id turns it into `fallback-unverified`. */
  outcome: Outcome;
}

export function outcomeOf(
  entry: Pick<
    CallbackLog,
    | "connection"
    | "decision"
    | "reason"
    | "status"
    | "fallback"
    | "fallbackMark"
    | "fallbackMarkId"
    | "shadowDecision"
    | "staleTable"
    | "unserved"
    | "shape"
    | "affinity"
    | "identifiedBy"
  >,
): Outcome {
  const connection = entry.connection ?? UNIDENTIFIED;
  const kind: OutcomeKind =
    entry.fallback === true || entry.reason === "fallback-bounce"
      ? // A valid mark is a bounce once: its id goes to the counters (fail closed without one).
        entry.fallbackMark === "valid" && entry.fallbackMarkId !== undefined
        ? "bounce"
        : "fallback-unverified"
      : entry.reason === "method-not-routed"
        ? "other"
        : "login";
  return {
    connection,
    kind,
    evidence: kind === "login" ? evidenceOf(entry) : undefined,
    // A page (Auth0 retired) answers a login that belongs to the new provider: never counted as Auth0's.
    destination: entry.decision === "page" ? "new" : entry.decision,
    // Whatever a stranger's unmarked bounce was answered, it is no connection's error.
    error: kind !== "fallback-unverified" && entry.status >= 500,
    affinity: entry.reason === "auth0-transaction",
    why: auth0WhyOf(entry),
    unserved: entry.unserved === true,
    status: entry.status,
    reason: entry.reason,
    markId: kind === "bounce" ? entry.fallbackMarkId : undefined,
  };
}

/** A 5xx on a path that is not /login/callback (null for any other status: nothing to count). */
export function passThroughOutcome(status: number): Outcome | null {
  if (status < 500) return null;
  return {
    connection: NOT_A_CALLBACK,
    kind: "other",
    destination: "auth0",
    error: true,
    status,
    reason: "pass-through",
  };
}

/** A callback the Worker answered before or outside the handler (bad configuration, an unexpected error). */
export function failedCallbackOutcome(status: number, reason: string): Outcome {
  return { connection: UNIDENTIFIED, kind: "login", destination: "auth0", error: status >= 500, status, reason };
}

/** The minute an event belongs to, as `2026-11-23T13:05` (UTC). */
export function minuteOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

/** The hour an event belongs to, as `2026-11-23T13` (UTC). */
export function hourOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 13);
}
