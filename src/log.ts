/**
 * One JSON object per event on stdout (Workers Logs / `wrangler tail` parse it).
 * Callers pass only the fields below: there is no field for a SAML payload,
 * a code, a state, a cookie or a token, so none can be logged by accident.
 */
import type { ObservedShape } from "./callback/shape";

export interface CallbackLog {
  event: "callback";
  method: string;
  connection: string | null;
  identifiedBy: string;
  bodyScan: string;
  /** The callback's shape (src/callback/shape.ts): what it carried that could name its connection. */
  shape?: ObservedShape;
  /** page: Auth0 is retired and the router answered the callback itself (src/callback/retired-pages.ts). */
  decision: "auth0" | "new" | "page";
  reason: string;
  /** The settings' mode (route | shadow) when they were read; the kill switch overrides it. */
  mode?: "route" | "shadow";
  /** Present (true) when the kill switch was on: every callback went to Auth0, whatever the mode. */
  killSwitch?: true;
  /** The callback carried fallback=auth0: the new provider's bounce of a login already seen. */
  fallback?: true;
  /**
   * With fallback: the router's mark of its hand-off to the new provider (src/callback/bounce-mark.ts).
   * Only "valid" can make it a bounce in /stats (once per mark: fallbackMarkId); any other is
   * counted `fallback-unverified`.
   */
  fallbackMark?: "valid" | "missing" | "expired" | "invalid" | "not-configured";
  /**
   * With a valid mark: its id (hex of 16 bytes of SHA-256 of the mark's nonce, never the
   * cookie). The counters count a bounce only the first time they see its id; a replay logs
   * the same id again.
   */
  fallbackMarkId?: string;
  /** Auth0 retired: the new provider bounced this login and nobody could sign it in (a failed login). */
  unserved?: true;
  targetHost: string | null;
  /** Present in shadow mode when the route would have sent the callback to the new provider. */
  shadowDecision?: "new";
  shadowTargetHost?: string;
  /** The answer: a redirect's status, or Auth0's status. */
  status: number;
  durationMs: number;
  staleTable?: boolean;
  problem?: string;
  /** With AFFINITY_SECRET set: what the affinity check found (match = Auth0 started this login). */
  affinity?: "off" | "no-cookie" | "no-handle" | "no-match" | "match";
  /** Affinity cookies ignored: not the shape this Worker writes (edited, cut, foreign) or too many. */
  affinityIgnored?: number;
}

/** One line per login start recorded on a passed-through Auth0 answer (never a handle). */
export interface LoginStartLog {
  event: "login-start";
  protocol: "oauth2" | "saml" | "wsfed";
  binding: "redirect" | "post";
  connection: string | null;
  idpHost: string;
  /** How many handles the cookie records (SAML: RelayState and the AuthnRequest ID). */
  handles: number;
  path: string;
}

export interface ProblemLog {
  event:
    | "config-error"
    | "route-invalid"
    | "settings-invalid"
    | "target-refused"
    | "kv-error"
    | "auth0-error"
    | "loop"
    | "self-origin"
    | "forward-refused"
    | "unexpected"
    | "client-gone"
    | "stats-error"
    | "bounce-mark-replayed";
  message: string;
  /** bounce-mark-replayed: the ids (fallbackMarkId) seen again, at most 20. */
  marks?: string[];
  variable?: string;
  connection?: string;
  path?: string;
}

/** One line per answer to a path other than the callback while Auth0 is retired (src/retired/answer.ts). */
export interface RetiredPathLog {
  event: "retired-path";
  answer: "redirect" | "page" | "metadata-redirect" | "metadata-snapshot";
  status: number;
  /** The path table row's prefix; null for the default page. Never the request's query. */
  prefix: string | null;
  connection?: string;
  problem?: string;
}

/** One step of a scheduled provider sync. */
export interface SyncStepLog {
  outcome: "applied" | "unchanged" | "failed" | "skipped";
  /** Sizes of the report's lists (updated, flagged, …); never names or ids. */
  counts?: Record<string, number>;
  problem?: string;
}

/** One line per scheduled provider sync run (src/writer/scheduled-sync.ts). */
export interface SyncLog {
  event: "sync";
  trigger: "scheduled";
  connections: SyncStepLog;
  flags: SyncStepLog;
  durationMs: number;
}

/**
 * One line per autopilot notification the webhook did not take (src/autopilot/notify.ts).
 * Only the webhook URL's host is logged: its path is the credential.
 */
export interface NotifyLog {
  event: "autopilot-notify";
  outcome: "failed";
  /** The AutopilotEvent's kind and plan. */
  kind: string;
  planId: string;
  /** The webhook's host[:port]; absent when AUTOPILOT_WEBHOOK_URL itself is wrong. */
  host?: string;
  /** The webhook's HTTP status, when it answered. */
  status?: number;
  problem: string;
  durationMs: number;
}

/** One line per autopilot decision or plan event (src/autopilot/durable-object.ts): the event's kind and why, never traffic data. */
export interface AutopilotLog {
  event: "autopilot";
  kind: string;
  planId: string;
  wave: number | null;
  connection?: string;
  reason: string;
}

/** The last timestamp written and its text: in a Worker the clock only moves between I/O, so most lines reuse it. */
let lastMs = Number.NaN;
let lastIso = "";

function isoNow(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

/**
 * Writes `{"ts":"<ISO 8601>", ...entry}` as one line: one console.log call per event, one
 * JSON object per call (Workers Logs parses each call's object). The entry is serialized
 * once and the timestamp put in front of it, with no copy of the entry object.
 */
export function log(
  entry: CallbackLog | LoginStartLog | ProblemLog | SyncLog | RetiredPathLog | NotifyLog | AutopilotLog,
): void {
  // Every entry has an `event`, so its JSON is never "{}" and the ts can lead its fields.
  console.log(`{"ts":"${isoNow()}",${JSON.stringify(entry).slice(1)}`);
}
