/**
 * What a callback request says about its connection, read without I/O:
 * the query string, and (for a form POST without `connection`) a bounded scan
 * of the body for a SAML response, a WS-Fed token or an OIDC id_token.
 */
import { decodeJwt } from "jose";
import { isConnectionName } from "../table/schema";
import type { PeekableBody } from "./body";
import { firstField, isFormUrlEncoded, parseFormBody } from "./form";
import { isFallbackParam, parseQuery, valuesOf, type QueryParam } from "./query";
import { scanSignInXml } from "./xml";

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
  oidcIssuers: string[];
  bodyScan: BodyScan;
}

export function connectionParamOf(params: QueryParam[]): ConnectionParam {
  const values = valuesOf(params, "connection");
  if (values.length === 0) return { kind: "none" };
  if (values.length > 1) return { kind: "many" };
  const name = values[0] ?? "";
  return isConnectionName(name) ? { kind: "one", name } : { kind: "invalid" };
}

/** Facts from the query string alone (enough for fallback and `connection=` callbacks). */
export function queryFacts(rawQuery: string): CallbackFacts {
  const params = parseQuery(rawQuery);
  const iss = valuesOf(params, "iss").filter(isPlausibleIssuer).slice(0, 2);
  return {
    params,
    fallback: params.some(isFallbackParam),
    connection: connectionParamOf(params),
    samlAudiences: [],
    samlIssuers: [],
    oidcIssuers: iss,
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
  const peek = await body.peek(limit);
  const fields = parseFormBody(peek.bytes, peek.complete);
  const truncated = !peek.complete;

  const samlResponse = firstField(fields, "SAMLResponse");
  if (samlResponse !== undefined) {
    const xml = decodeBase64Text(samlResponse);
    if (xml === undefined) return { ...facts, bodyScan: "bad-base64" };
    const scan = scanSignInXml(xml);
    if (!scan.ok) return { ...facts, bodyScan: "bad-xml" };
    return { ...facts, samlAudiences: scan.facts.audiences, samlIssuers: scan.facts.issuers, bodyScan: "saml" };
  }

  // WS-Federation passive profile: wresult carries the RSTR XML as-is (not base64).
  const wresult = firstField(fields, "wresult");
  if (wresult !== undefined) {
    const scan = scanSignInXml(wresult);
    if (!scan.ok) return { ...facts, bodyScan: "bad-xml" };
    return { ...facts, samlAudiences: scan.facts.audiences, samlIssuers: scan.facts.issuers, bodyScan: "wsfed" };
  }

  const oidcIssuers = [...facts.oidcIssuers];
  const postedIss = firstField(fields, "iss");
  if (postedIss !== undefined && isPlausibleIssuer(postedIss)) oidcIssuers.push(postedIss);
  const idToken = firstField(fields, "id_token");
  if (idToken !== undefined) {
    // Decoded for routing only — never verified here; the destination verifies it.
    const iss = unverifiedIssuer(idToken);
    if (iss === undefined) return { ...facts, oidcIssuers, bodyScan: "bad-jwt" };
    if (!oidcIssuers.includes(iss)) oidcIssuers.push(iss);
    return { ...facts, oidcIssuers, bodyScan: "id_token" };
  }
  return { ...facts, oidcIssuers, bodyScan: truncated ? "truncated" : "no-sign-in-field" };
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

/** Base64 (line breaks allowed, as some IdPs wrap) to UTF-8 text; undefined when not base64. */
export function decodeBase64Text(value: string): string | undefined {
  const compact = value.replace(/[\r\n\t ]/g, "");
  if (compact === "" || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  let binary: string;
  try {
    binary = atob(compact);
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new TextDecoder("utf-8").decode(bytes);
}
