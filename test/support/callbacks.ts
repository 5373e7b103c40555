/** Real callbacks as IdPs send them, one per callback shape (table/routability.ts). */
import type { RouteInput } from "../../src/table/schema";
import { HOST } from "./worker";

/** The Auth0 tenant of testEnv (support/worker.ts): what `urn:auth0:{tenant}:{connection}` names. */
const TENANT = "example-tenant";
const A = "urn:oasis:names:tc:SAML:2.0:assertion";
const P = "urn:oasis:names:tc:SAML:2.0:protocol";

const b64url = (s: string) => btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/** The request an IdP really sends for `shape`, with the values this route's IdP would put in it. */
export function realCallback(shape: string, route: RouteInput): Request {
  const c = route.connection;
  const m = route.match ?? {};
  // A value the table does not hold, where the route has none: what an IdP unknown to the table sends.
  const idp = m.idpEntityId ?? `https://unknown-idp.test/${c}`;
  const iss = m.oidcIssuer ?? `https://unknown-op.test/${c}`;
  const post = (path: string, body: string) =>
    new Request(`${HOST}${path}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });
  const response = (inner: string) =>
    `<samlp:Response xmlns:samlp="${P}" xmlns:saml="${A}" ID="_r" Version="2.0" InResponseTo="_q"><saml:Issuer>${idp}</saml:Issuer>${inner}</samlp:Response>`;
  switch (shape) {
    case "saml-acs":
      return post(`/login/callback?connection=${c}`, form({ SAMLResponse: btoa(response("")), RelayState: "r" }));
    case "saml-post-without-connection": {
      const audience = m.spEntityId ?? `urn:auth0:${TENANT}:${c}`;
      const assertion = `<saml:Assertion ID="_a" Version="2.0"><saml:Issuer>${idp}</saml:Issuer><saml:Conditions><saml:AudienceRestriction><saml:Audience>${audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions></saml:Assertion>`;
      return post("/login/callback", form({ SAMLResponse: btoa(response(assertion)), RelayState: "r" }));
    }
    case "saml-encrypted-without-connection":
      return post(
        "/login/callback",
        form({ SAMLResponse: btoa(response(`<saml:EncryptedAssertion><x/></saml:EncryptedAssertion>`)) }),
      );
    case "wsfed-post": {
      const wresult = `<t:RequestSecurityTokenResponse xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust"><t:RequestedSecurityToken><saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" MajorVersion="1" MinorVersion="1" Issuer="${idp}"><saml:Conditions><saml:AudienceRestrictionCondition><saml:Audience>urn:auth0:${TENANT}</saml:Audience></saml:AudienceRestrictionCondition></saml:Conditions></saml:Assertion></t:RequestedSecurityToken></t:RequestSecurityTokenResponse>`;
      return post("/login/callback", form({ wa: "wsignin1.0", wresult, wctx: "x" }));
    }
    case "oidc-code-with-iss":
      return new Request(`${HOST}/login/callback?code=c&state=s&iss=${encodeURIComponent(iss)}`);
    case "oidc-form-post": {
      const jwt = `${b64url('{"alg":"RS256"}')}.${b64url(JSON.stringify({ iss, sub: "u", aud: "x" }))}.sig`;
      return post("/login/callback", form({ id_token: jwt, state: "s" }));
    }
    case "oidc-code-without-iss":
      return new Request(`${HOST}/login/callback?code=c&state=s`);
    default:
      throw new Error(`no real callback for shape ${shape}`);
  }
}
