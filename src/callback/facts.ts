/**
 * What a callback request says about its connection, read without I/O:
 * the query string, and (for a form POST without `connection`) a bounded scan
 * of the body for a SAML response, a WS-Fed token or an OIDC id_token.
 */
import { decodeJwt } from "jose";
import { isConnectionName } from "../table/schema";
import type { PeekableBody } from "./body";
import { charsetOf, scanCallbackBody } from "./body-scan";
import { isFormUrlEncoded } from "./form";
import { isFallbackParam, parseQuery, type QueryParam } from "./query";

export type ConnectionParam = { kind: "none" } | { kind: "one"; name: string } | { kind: "many" } | { kind: "invalid" };

/** How far the body scan got; logged so an operator can tell why a POST was not identified. */
export type BodyScan =
  | "not-needed"
  | "not-form"
  | "no-sign-in-field"
  | "saml"
  | "wsfed"
  | "id_token"
  | "truncated"
  | "bad-base64"
  | "bad-xml"
  | "bad-jwt";

export interface CallbackFacts {
  params: QueryParam[];
  fallback: boolean;
  connection: ConnectionParam;
  samlAudiences: string[];
  samlIssuers: string[];
  /** The SAML assertion is encrypted (only the Response Issuer was readable); absent when not scanned. */
  samlEncrypted?: boolean;
  oidcIssuers: string[];
  /**
   * The SAML Response's InResponseTo (the AuthnRequest ID it answers), read
   * from the body scan; undefined when not scanned or IdP-initiated.
   */
  inResponseTo: string | undefined;
  /** The opaque handles an IdP echoes, when the scanned part of a form body held them. */
  bodyHandles: BodyHandles;
  bodyScan: BodyScan;
}

/**
 * `RelayState` (SAML), `wctx` (WS-Fed), `state` (OIDC form_post) as posted.
 * Only what precedes the point where the scan stopped: IdPs post RelayState
 * and wctx after the message, so a scan that stops early has not read them.
 */
export interface BodyHandles {
  RelayState?: string;
  wctx?: string;
  state?: string;
}

const NO_CONNECTION: ConnectionParam = Object.freeze({ kind: "none" });
const MANY_CONNECTIONS: ConnectionParam = Object.freeze({ kind: "many" });
const INVALID_CONNECTION: ConnectionParam = Object.freeze({ kind: "invalid" });

/** Facts from the query string alone (enough for fallback and `connection=` callbacks). */
export function queryFacts(rawQuery: string): CallbackFacts {
  const params = parseQuery(rawQuery);
  // One pass (every callback comes here): the plausible iss values (at most 2), whether any
  // parameter is fallback=auth0, and connection=: none, one (valid or not) or many.
  const iss: string[] = [];
  let fallback = false;
  let connections = 0;
  let connection = "";
  for (const param of params) {
    if (param.name === "connection") {
      connections += 1;
      connection = param.value;
    } else if (param.name === "iss") {
      if (iss.length < 2 && isPlausibleIssuer(param.value)) iss.push(param.value);
    } else if (!fallback && isFallbackParam(param)) {
      fallback = true;
    }
  }
  return {
    params,
    fallback,
    connection:
      connections === 0
        ? NO_CONNECTION
        : connections > 1
          ? MANY_CONNECTIONS
          : isConnectionName(connection)
            ? { kind: "one", name: connection }
            : INVALID_CONNECTION,
    samlAudiences: [],
    samlIssuers: [],
    oidcIssuers: iss,
    inResponseTo: undefined,
    bodyHandles: {},
    bodyScan: "not-needed",
  };
}

export function needsBodyScan(facts: CallbackFacts, method: string): boolean {
  return !facts.fallback && facts.connection.kind === "none" && method === "POST";
}

/** Adds what the body says. Never throws; never changes what will be forwarded. */
export async function addBodyFacts(
  facts: CallbackFacts,
  contentType: string | null,
  body: PeekableBody,
  limit: number,
): Promise<CallbackFacts> {
  if (!isFormUrlEncoded(contentType)) return { ...facts, bodyScan: "not-form" };
  const scan = await scanCallbackBody(body, limit, charsetOf(contentType));
  const handles: BodyHandles = {};
  for (const name of ["RelayState", "wctx", "state"] as const) {
    const value = scan.fields[name];
    if (value !== undefined) handles[name] = value;
  }
  const withHandles: CallbackFacts = { ...facts, bodyHandles: handles };

  if (scan.signIn !== undefined) {
    const { field, result } = scan.signIn;
    if (!result.ok) return { ...withHandles, bodyScan: result.reason === "bad-base64" ? "bad-base64" : "bad-xml" };
    return {
      ...withHandles,
      samlAudiences: result.facts.audiences,
      samlIssuers: result.facts.issuers,
      samlEncrypted: result.facts.encrypted,
      inResponseTo: result.facts.inResponseTo,
      // Cut off by the limit before the identifying part ended: what was read still counts.
      bodyScan: !result.complete ? "truncated" : field === "SAMLResponse" ? "saml" : "wsfed",
    };
  }

  const oidcIssuers = [...facts.oidcIssuers];
  const postedIss = scan.fields.iss;
  if (postedIss !== undefined && isPlausibleIssuer(postedIss) && !oidcIssuers.includes(postedIss)) {
    oidcIssuers.push(postedIss);
  }
  const idToken = scan.fields.id_token;
  if (idToken !== undefined) {
    // Decoded for routing only — never verified here; the destination verifies it.
    const iss = unverifiedIssuer(idToken);
    if (iss === undefined) return { ...withHandles, oidcIssuers, bodyScan: "bad-jwt" };
    if (!oidcIssuers.includes(iss)) oidcIssuers.push(iss);
    return { ...withHandles, oidcIssuers, bodyScan: "id_token" };
  }
  return { ...withHandles, oidcIssuers, bodyScan: scan.truncated ? "truncated" : "no-sign-in-field" };
}

function isPlausibleIssuer(value: string): boolean {
  return value.length > 0 && value.length <= 400;
}

function unverifiedIssuer(jwt: string): string | undefined {
  try {
    const iss = decodeJwt(jwt).iss;
    return typeof iss === "string" && isPlausibleIssuer(iss) ? iss : undefined;
  } catch {
    return undefined;
  }
}
