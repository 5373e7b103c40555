import { SignJWT } from "jose";
import { beforeEach, describe, expect, inject, it } from "vitest";
import { DEFAULT_TARGET, TEST_TABLE } from "./support/table";
import { call, captureLogs, form, HOST, postForm, received, seed } from "./support/worker";

beforeEach(() => seed(TEST_TABLE));

const saml = () => inject("saml");

async function routeOf(
  request: Request,
): Promise<{ status: number; location: string | null; log: Record<string, unknown> }> {
  const { result, logs } = await captureLogs(() => call(request));
  const log = logs.find((l) => l["event"] === "callback");
  expect(log).toBeDefined();
  return { status: result.status, location: result.headers.get("location"), log: log ?? {} };
}

function unsignedJwt(claims: Record<string, unknown>): Promise<string> {
  // A real HS256 JWT whose key the router never has: it only decodes `iss`.
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode("k".repeat(32)));
}

describe("identifying a SAML POST without a connection parameter", () => {
  it("reads the Audience urn:auth0:{tenant}:{connection} of a prefixed (samlp:/saml:) response", async () => {
    const r = await routeOf(postForm("/login/callback", form({ SAMLResponse: saml().prefixed, RelayState: "rs" })));
    expect(r.status).toBe(307);
    expect(r.location).toBe("https://sso.example.com/auth0/acme/callback");
    expect(r.log).toMatchObject({ connection: "acme-saml", identifiedBy: "saml-audience", bodyScan: "saml" });
  });

  it("reads a default-namespace response the same way", async () => {
    const r = await routeOf(
      postForm("/login/callback", form({ SAMLResponse: saml().defaultNamespace, RelayState: "rs" })),
    );
    expect(r.status).toBe(200);
    expect(r.log).toMatchObject({
      connection: "globex-saml",
      identifiedBy: "saml-audience",
      decision: "auth0",
      reason: "legacy",
    });
  });

  it("identifies an encrypted assertion by its Response Issuer", async () => {
    const r = await routeOf(postForm("/login/callback", form({ SAMLResponse: saml().encrypted })));
    expect(r.status).toBe(307);
    expect(r.location).toBe(DEFAULT_TARGET);
    expect(r.log).toMatchObject({ connection: "initech-saml", identifiedBy: "idp-issuer" });
  });

  it("matches a custom SP entity ID (Audience) from a route's match.spEntityId", async () => {
    const r = await routeOf(postForm("/login/callback", form({ SAMLResponse: saml().customAudience })));
    expect(r.log).toMatchObject({ connection: "custom-sp", identifiedBy: "sp-entity-id", decision: "new" });
  });

  it("ignores an audience of another tenant when AUTH0_TENANT is set, and falls back to the Issuer", async () => {
    const r = await routeOf(postForm("/login/callback", form({ SAMLResponse: saml().otherTenant })));
    expect(r.log).toMatchObject({ connection: "acme-saml", identifiedBy: "idp-issuer" });
  });

  it("forwards the identified legacy POST to Auth0 with the body byte-identical", async () => {
    const body = form({ SAMLResponse: saml().defaultNamespace, RelayState: "rs" });
    const res = await call(postForm("/login/callback", body));
    expect((await received(res)).bodyText).toBe(body);
  });

  it("prefers the connection parameter over what the body says", async () => {
    const r = await routeOf(
      postForm("/login/callback?connection=globex-saml", form({ SAMLResponse: saml().prefixed })),
    );
    expect(r.log).toMatchObject({ connection: "globex-saml", identifiedBy: "query", bodyScan: "not-needed" });
  });
});

describe("identifying WS-Federation (ADFS)", () => {
  it("matches the SAML 1.1 Issuer attribute of wresult to a route", async () => {
    const r = await routeOf(
      postForm("/login/callback", form({ wa: "wsignin1.0", wresult: saml().wsfed, wctx: "ctx" })),
    );
    expect(r.status).toBe(307);
    expect(r.log).toMatchObject({ connection: "hooli-adfs", identifiedBy: "idp-issuer", bodyScan: "wsfed" });
  });
});

describe("identifying OIDC callbacks", () => {
  it("matches the RFC 9207 iss parameter of a GET (back channel)", async () => {
    const r = await routeOf(
      new Request(`${HOST}/login/callback?code=abc&state=xyz&iss=${encodeURIComponent("https://hooli.okta.test")}`),
    );
    expect(r.status).toBe(307);
    expect(r.location).toBe(`${DEFAULT_TARGET}?code=abc&state=xyz&iss=https%3A%2F%2Fhooli.okta.test`);
    expect(r.log).toMatchObject({ connection: "hooli-okta", identifiedBy: "oidc-issuer" });
  });

  it("matches the unverified iss claim of a form_post id_token (front channel)", async () => {
    const idToken = await unsignedJwt({ iss: "https://login.pied.test/", sub: "u1", aud: "client" });
    const r = await routeOf(postForm("/login/callback", form({ id_token: idToken, state: "s" })));
    expect(r.status).toBe(200);
    expect(r.log).toMatchObject({
      connection: "pied-oidc",
      identifiedBy: "oidc-issuer",
      reason: "legacy",
      bodyScan: "id_token",
    });
  });

  it("leaves an OIDC GET without iss unidentified and follows the unknown policy", async () => {
    const r = await routeOf(new Request(`${HOST}/login/callback?code=abc&state=xyz`));
    expect(r.status).toBe(200);
    expect(r.log).toMatchObject({ connection: null, identifiedBy: "none", reason: "unidentified" });
  });
});

describe("hostile or broken bodies get a defined answer", () => {
  const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">&lol9;</saml:Issuer></samlp:Response>`;
  const xxe = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">&xxe;</saml:Issuer></samlp:Response>`;
  const undeclared = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">&lol9;</saml:Issuer></samlp:Response>`;

  it.each([
    ["malformed base64", "%%%not-base64***", "bad-base64"],
    ["base64 of something that is not XML", btoa("definitely { not xml"), "bad-xml"],
    [
      "truncated XML",
      btoa('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><saml:Issuer'),
      "bad-xml",
    ],
    ["an entity-expansion bomb", btoa(bomb), "bad-xml"],
    ["an XXE payload", btoa(xxe), "bad-xml"],
    ["an undeclared entity", btoa(undeclared), "bad-xml"],
  ])("forwards %s to Auth0 unchanged and logs why it was not identified", async (_name, samlResponse, scan) => {
    const body = form({ SAMLResponse: samlResponse, RelayState: "r" });
    const { result, logs } = await captureLogs(() => call(postForm("/login/callback", body)));
    expect(result.status).toBe(200);
    expect((await received(result)).bodyText).toBe(body);
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({ bodyScan: scan, reason: "unidentified" });
  });

  it("reads a malformed id_token as unidentified", async () => {
    const r = await routeOf(postForm("/login/callback", form({ id_token: "not.a.jwt", state: "s" })));
    expect(r.log).toMatchObject({ bodyScan: "bad-jwt", reason: "unidentified" });
  });

  it("does not scan a body that is not a form", async () => {
    const r = await routeOf(
      new Request(`${HOST}/login/callback`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      }),
    );
    expect(r.log).toMatchObject({ bodyScan: "not-form", reason: "unidentified" });
  });

  it("stops scanning at the limit: a SAMLResponse that starts past it is not read", async () => {
    const body = `padding=${"p".repeat(600 * 1024)}&SAMLResponse=${encodeURIComponent(saml().prefixed)}`;
    const r = await routeOf(postForm("/login/callback", body));
    expect(r.log).toMatchObject({ bodyScan: "truncated", reason: "unidentified" });
  });
});
