/**
 * Evidence: how each connection's callbacks really arrive. For each login the router
 * counts (src/stats/outcome.ts) it also counts, per connection and UTC hour, the callback's
 * shape (src/callback/shape.ts), who started the login (transaction affinity, src/affinity)
 * and how the router identified its connection. Only counts by these words: no handle, code,
 * assertion, cookie or user data (docs/storage.md, "Evidence"). Pure; no platform import
 * (the report and the dashboard client read these types too).
 *
 * Computed from the callback's log entry in the isolate's batch (src/stats/recorder.ts), like
 * the Auth0 classes (src/stats/why.ts): the callback's answer never waits for it.
 */
import type { CallbackLog } from "../log";
import type { ObservedShape } from "../callback/shape";

/**
 * Who started the login:
 * - `auth0`: the affinity cookie matched one of the callback's handles (Auth0 started it);
 * - `elsewhere`: affinity was checked and did not match (IdP-initiated, started at the new
 *   provider, or a browser that lost the cookie);
 * - `unknown`: affinity was off or not configured, so nobody could tell.
 */
export type StartedBy = "auth0" | "elsewhere" | "unknown";
export const STARTED_BY: readonly StartedBy[] = ["auth0", "elsewhere", "unknown"];

/**
 * How the router identified the connection: `query` (connection=), `audience` (the SAML
 * Audience: Auth0's urn:auth0:{tenant}:{name} or match.spEntityId), `issuer` (the SAML or
 * WS-Fed Issuer against match.idpEntityId), `iss` (the OIDC issuer, parameter or id_token
 * claim, against match.oidcIssuer), `affinity` (the connection the login start named), `none`.
 */
export type IdentifiedHow = "query" | "audience" | "issuer" | "iss" | "affinity" | "none";
export const IDENTIFIED_HOW: readonly IdentifiedHow[] = ["query", "audience", "issuer", "iss", "affinity", "none"];

const HOW: Readonly<Record<string, IdentifiedHow>> = {
  query: "query",
  "saml-audience": "audience",
  "sp-entity-id": "audience",
  "idp-issuer": "issuer",
  "oidc-issuer": "iss",
  affinity: "affinity",
};

/** One login's evidence (the batch counts how many share it). */
export interface EvidenceKey {
  shape: ObservedShape;
  started: StartedBy;
  identifiedBy: IdentifiedHow;
}

/** Logins of one connection in one UTC hour (`at` = `2026-11-23T13`, or "" for a sum) with one evidence key. */
export interface EvidenceRow extends EvidenceKey {
  at: string;
  connection: string;
  logins: number;
}

/**
 * Decisions that did not look at the callback's connection (the kill switch, settings that
 * could not be read, an unreadable table): the shape they saw is not the callback's, so they
 * are no evidence.
 */
const NOT_EVIDENCE = new Set([
  "kill-switch",
  "settings-unavailable",
  "settings-invalid",
  "route-table-unavailable",
  "fallback-bounce",
  "method-not-routed",
]);

/**
 * The evidence of a login's first callback, or undefined when the entry is no evidence (a
 * bounce, a short-cut that skipped identification, an entry without a shape).
 */
export function evidenceOf(
  entry: Pick<CallbackLog, "shape" | "affinity" | "identifiedBy" | "reason" | "fallback">,
): EvidenceKey | undefined {
  if (entry.shape === undefined || entry.fallback === true || NOT_EVIDENCE.has(entry.reason)) return undefined;
  const started: StartedBy =
    entry.affinity === "match"
      ? "auth0"
      : entry.affinity === undefined || entry.affinity === "off"
        ? "unknown"
        : "elsewhere";
  return { shape: entry.shape, started, identifiedBy: HOW[entry.identifiedBy] ?? "none" };
}
