/**
 * Deterministic inputs for the benchmark: generated route tables (10 and
 * 100 000 routes) and a realistic ~8 KB SAML POST body.
 */
import { createHash } from "node:crypto";
import type { RouteInput, RouteTableFile } from "../src/table/schema";

export const TARGET_HOST = "sso.example.com";
export const DEFAULT_TARGET = `https://${TARGET_HOST}/sso/client_bench/auth0/callback`;

export interface GeneratedTable {
  file: RouteTableFile;
  /** Connections whose state is "migrated" (a callback for them must answer 307). */
  migrated: string[];
  /** Connections whose state is "legacy" (forwarded to the Auth0 stand-in). */
  legacy: string[];
  /** Legacy connections whose IdP entity ID (samlIssuer) is in the `match:idp:` index. */
  legacyIndexed: string[];
}

/** The IdP entity ID that samlPostBody's messages carry as their Issuer. */
export function samlIssuer(connection: string): string {
  return `https://idp.${connection}.customer.example.net/saml/metadata`;
}

export function connectionName(i: number): string {
  return `conn-${String(i).padStart(6, "0")}-saml`;
}

/**
 * `count` routes: 70 % migrated, 20 % legacy, 10 % rollout (percentage 0, so
 * they stay on Auth0). Odd routes carry their own target, even ones use
 * settings.defaultTarget. Every 50th route belongs to an Auth0 organization and
 * every 50th (another one) has an IdP entity ID, which add `org:` and `match:idp:` KV entries
 * the way a real table would (kept sparse: each KV entry costs ~1 ms to seed
 * in Miniflare).
 */
export function generateTable(count: number): GeneratedTable {
  const routes: RouteInput[] = [];
  const migrated: string[] = [];
  const legacy: string[] = [];
  const legacyIndexed: string[] = [];
  for (let i = 0; i < count; i++) {
    const connection = connectionName(i);
    const bucket = i % 10;
    const state = bucket < 7 ? "migrated" : bucket < 9 ? "legacy" : "rollout";
    const route: RouteInput = { connection, protocol: "samlp", state };
    if (i % 50 === 5) route.organization = `org_${String(i).padStart(6, "0")}`;
    if (i % 2 === 1) route.target = `https://${TARGET_HOST}/auth0/${connection}/callback`;
    if (i % 50 === 3) route.match = { idpEntityId: `https://idp-${i}.customer.example.net/saml/metadata` };
    // A legacy SAML connection whose IdP (the Issuer of samlPostBody's messages) is indexed:
    // a POST without ?connection= is identified from its body and forwarded to Auth0.
    if (i % 50 === 8) route.match = { idpEntityId: samlIssuer(connection) };
    routes.push(route);
    if (state === "migrated") migrated.push(connection);
    if (state === "legacy") legacy.push(connection);
    if (state === "legacy" && route.match !== undefined) legacyIndexed.push(connection);
  }
  return {
    file: {
      settings: {
        mode: "route",
        unknown: "auth0",
        redirect: "307",
        defaultTarget: DEFAULT_TARGET,
        rollout: { percentage: 0, include: [], exclude: [] },
      },
      routes,
    },
    migrated,
    legacy,
    legacyIndexed,
  };
}

/** Deterministic pseudo-random base64 of `bytes` bytes (stands in for signatures and certificates). */
function pseudoBase64(seed: string, bytes: number): string {
  const chunks: Buffer[] = [];
  let total = 0;
  let block = createHash("sha256").update(seed).digest();
  while (total < bytes) {
    chunks.push(block);
    total += block.length;
    block = createHash("sha256").update(block).digest();
  }
  return Buffer.concat(chunks).subarray(0, bytes).toString("base64");
}

function wrap76(b64: string): string {
  return b64.replace(/(.{76})/g, "$1\n");
}

function samlResponseXml(connection: string, attributeCount: number): string {
  const issuer = samlIssuer(connection);
  const acs = `https://auth.example.com/login/callback?connection=${connection}`;
  const responseId = `_${pseudoBase64(`rid:${connection}`, 16).replace(/[^a-zA-Z0-9]/g, "")}`;
  const assertionId = `_${pseudoBase64(`aid:${connection}`, 16).replace(/[^a-zA-Z0-9]/g, "")}`;
  const now = "2026-04-26T10:15:30Z";
  const later = "2026-04-26T10:20:30Z";
  const attributes: string[] = [];
  const names = ["email", "given_name", "family_name", "groups", "department", "employee_id", "upn", "title"];
  for (let i = 0; i < attributeCount; i++) {
    const name = names[i % names.length] ?? "attr";
    attributes.push(
      `<saml:Attribute Name="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/${name}${i >= names.length ? `_${i}` : ""}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">` +
        `<saml:AttributeValue xsi:type="xs:string">${name}-value-${i}-${pseudoBase64(`${connection}:${i}`, 12)}</saml:AttributeValue>` +
        `</saml:Attribute>`,
    );
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${responseId}" Version="2.0" IssueInstant="${now}" Destination="${acs}" InResponseTo="_a1b2c3d4e5f60718293a4b5c6d7e8f90">` +
    `<saml:Issuer>${issuer}</saml:Issuer>` +
    `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
    `<saml:Assertion xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" ID="${assertionId}" Version="2.0" IssueInstant="${now}">` +
    `<saml:Issuer>${issuer}</saml:Issuer>` +
    `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>` +
    `<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>` +
    `<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>` +
    `<ds:Reference URI="#${assertionId}"><ds:Transforms>` +
    `<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>` +
    `<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>` +
    `<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>` +
    `<ds:DigestValue>${pseudoBase64(`digest:${connection}`, 32)}</ds:DigestValue></ds:Reference></ds:SignedInfo>` +
    `<ds:SignatureValue>${wrap76(pseudoBase64(`sig:${connection}`, 256))}</ds:SignatureValue>` +
    `<ds:KeyInfo><ds:X509Data><ds:X509Certificate>${wrap76(pseudoBase64(`cert:${connection}`, 920))}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>` +
    `</ds:Signature>` +
    `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">jane.doe@customer.example.net</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${later}" Recipient="${acs}" InResponseTo="_a1b2c3d4e5f60718293a4b5c6d7e8f90"/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${now}" NotOnOrAfter="${later}"><saml:AudienceRestriction><saml:Audience>urn:auth0:example-tenant:${connection}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${now}" SessionIndex="${assertionId}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    `<saml:AttributeStatement>${attributes.join("")}</saml:AttributeStatement>` +
    `</saml:Assertion></samlp:Response>`
  );
}

/**
 * `SAMLResponse=<base64 XML, urlencoded>&RelayState=<opaque state>` as an IdP
 * posts it, with as many attributes as it takes to be at least `minBytes`
 * (8 000 by default; 2 MiB for the large-body scenario). The Response-level
 * <Issuer> is the first element inside <Response>, as IdPs write it; the
 * attributes (what makes a message large) come after it.
 */
export function samlPostBody(connection: string, minBytes = 8000): string {
  const relayState = pseudoBase64(`relay:${connection}`, 32).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const bodyOf = (attributes: number): string =>
    `SAMLResponse=${encodeURIComponent(Buffer.from(samlResponseXml(connection, attributes), "utf8").toString("base64"))}` +
    `&RelayState=${encodeURIComponent(relayState)}`;
  // Every attribute adds about the same number of bytes: estimate the count, then step up to it.
  const base = bodyOf(4).length;
  const perAttribute = Math.max(1, (bodyOf(12).length - base) / 8);
  let attributes = Math.max(4, 4 + Math.floor((minBytes - base) / perAttribute) - 2);
  for (let steps = 0; steps < 1000; steps++, attributes++) {
    const body = bodyOf(attributes);
    if (body.length >= minBytes) return body;
  }
  throw new Error("could not build a SAML body of the requested size");
}
