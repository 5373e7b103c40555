/**
 * Transaction affinity, unit by unit (src/affinity): recognising Auth0's login
 * starts, reading AuthnRequests, the cookie codec, and recording on a
 * passed-through response. Runs inside workerd (WebCrypto, DecompressionStream).
 */
import { describe, expect, it } from "vitest";
import { findSamlPostForm } from "../src/affinity/auto-post";
import { bytesToBase64Url } from "../src/affinity/base64";
import {
  affinityKey,
  expiredSetCookie,
  matchTransaction,
  MAX_COOKIES,
  readTransactionCookies,
  staleCookieNames,
  KEEP_COOKIES,
  transactionSetCookie,
} from "../src/affinity/cookie";
import type { Handle } from "../src/affinity/handles";
import { loginStartOfForm, loginStartOfLocation, type LoginStartContext } from "../src/affinity/login-start";
import { HTML_SCAN_LIMIT_BYTES, recordLoginStart } from "../src/affinity/record";
import { inflateRaw, MAX_XML_BYTES, readAuthnRequest, scanAuthnRequest } from "../src/affinity/saml-request";

const ORIGIN = "https://auth.example.com";
const CALLBACK = `${ORIGIN}/login/callback`;
const SECRET = "a-test-affinity-secret-of-32-chars!!";
const context = (path = "/authorize"): LoginStartContext => ({
  requestUrl: new URL(`${ORIGIN}${path}`),
  auth0Tenant: "example-tenant",
});

function authnRequest(id: string, options: { acs?: string | null; issuer?: string } = {}): string {
  const acs = options.acs === undefined ? `${CALLBACK}?connection=acme-saml` : options.acs;
  return (
    `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"` +
    (acs === null ? "" : ` AssertionConsumerServiceURL="${acs.replace(/&/g, "&amp;")}"`) +
    ` Destination="https://idp.acme.test/sso" ID="${id}" IssueInstant="2026-11-30T12:00:00Z"` +
    ` ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Version="2.0">` +
    `<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">${options.issuer ?? "urn:auth0:example-tenant:acme-saml"}</saml:Issuer>` +
    `<samlp:NameIDPolicy AllowCreate="true" Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"/>` +
    `</samlp:AuthnRequest>`
  );
}

async function deflateRaw(text: string): Promise<Uint8Array> {
  const stream = new Blob([new TextEncoder().encode(text)]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** SAML HTTP-Redirect binding encoding (bindings §3.4.4.1). */
async function redirectEncoded(xml: string): Promise<string> {
  return base64(await deflateRaw(xml));
}

function authorizeLocation(params: Record<string, string>): string {
  return `https://login.microsoftonline.com/tenant-id/oauth2/v2.0/authorize?${new URLSearchParams(params)}`;
}

describe("recognising a login start in a Location", () => {
  it("records an OIDC authorize redirect whose redirect_uri is this domain's callback", async () => {
    const location = authorizeLocation({
      client_id: "c1",
      response_type: "code",
      redirect_uri: CALLBACK,
      state: "auth0-state-123",
      scope: "openid",
    });
    const start = await loginStartOfLocation(location, context("/authorize?connection=contoso-waad&client_id=app"));
    expect(start).toEqual({
      protocol: "oauth2",
      binding: "redirect",
      handles: [{ kind: "state", value: "auth0-state-123" }],
      connection: "contoso-waad",
      idpHost: "login.microsoftonline.com",
    });
  });

  it("records a social login (Google) started from Universal Login without a connection", async () => {
    const location = `https://accounts.google.com/o/oauth2/auth?${new URLSearchParams({
      response_type: "code",
      redirect_uri: CALLBACK,
      scope: "email profile",
      state: "g-state",
      client_id: "123.apps.googleusercontent.com",
    })}`;
    const start = await loginStartOfLocation(location, context("/u/login/identifier?state=ul-state"));
    expect(start?.handles).toEqual([{ kind: "state", value: "g-state" }]);
    expect(start?.connection).toBeUndefined();
  });

  it.each([
    [
      "Auth0's redirect back to the application (code + the app's own state)",
      "https://app.example.com/callback?code=abc&state=app-state",
    ],
    [
      "a redirect_uri on another host",
      authorizeLocation({ state: "s", redirect_uri: "https://app.example.com/login/callback" }),
    ],
    ["a redirect_uri on another path", authorizeLocation({ state: "s", redirect_uri: `${ORIGIN}/callback` })],
    [
      "a redirect_uri on another scheme",
      authorizeLocation({ state: "s", redirect_uri: "http://auth.example.com/login/callback" }),
    ],
    ["no state", authorizeLocation({ redirect_uri: CALLBACK })],
    ["two states", `${authorizeLocation({ redirect_uri: CALLBACK, state: "a" })}&state=b`],
    ["an empty state", authorizeLocation({ redirect_uri: CALLBACK, state: "" })],
    ["a redirect within this host", `/u/login?state=abc&redirect_uri=${encodeURIComponent(CALLBACK)}`],
    ["a non-http scheme", `myapp://callback?state=s&redirect_uri=${encodeURIComponent(CALLBACK)}`],
    ["a Location that is not a URL", "http://[bad"],
    ["WS-Fed without wctx", "https://adfs.hooli.test/adfs/ls/?wa=wsignin1.0&wtrealm=urn%3Aauth0%3Aexample-tenant"],
    ["WS-Fed sign-out", "https://adfs.hooli.test/adfs/ls/?wa=wsignout1.0&wctx=x"],
    [
      "WS-Fed with a wreply elsewhere",
      `https://adfs.hooli.test/adfs/ls/?wa=wsignin1.0&wctx=x&wreply=${encodeURIComponent("https://evil.test/")}`,
    ],
  ])("does not record %s", async (_what, location) => {
    expect(await loginStartOfLocation(location, context())).toBeUndefined();
  });

  it("records a WS-Fed sign-in with its wctx", async () => {
    const location = `https://adfs.hooli.test/adfs/ls/?${new URLSearchParams({
      wa: "wsignin1.0",
      wtrealm: "urn:auth0:example-tenant",
      wctx: "ws-ctx-1",
      wreply: CALLBACK,
    })}`;
    const start = await loginStartOfLocation(location, context("/authorize?connection=hooli-adfs"));
    expect(start).toMatchObject({
      protocol: "wsfed",
      handles: [{ kind: "wctx", value: "ws-ctx-1" }],
      connection: "hooli-adfs",
    });
  });

  it("records a SAML HTTP-Redirect AuthnRequest: RelayState and the request ID, connection from the ACS URL", async () => {
    const location = `https://idp.acme.test/sso?${new URLSearchParams({
      SAMLRequest: await redirectEncoded(authnRequest("_abc123")),
      RelayState: "relay-1",
    })}`;
    const start = await loginStartOfLocation(location, context("/u/login/identifier"));
    expect(start).toEqual({
      protocol: "saml",
      binding: "redirect",
      handles: [
        { kind: "RelayState", value: "relay-1" },
        { kind: "InResponseTo", value: "_abc123" },
      ],
      connection: "acme-saml",
      idpHost: "idp.acme.test",
    });
  });

  it("names the SAML connection from Auth0's SP entity ID when the ACS URL has none", async () => {
    const xml = authnRequest("_id2", { acs: CALLBACK, issuer: "urn:auth0:example-tenant:globex-saml" });
    const start = await loginStartOfLocation(
      `https://idp.globex.test/sso?SAMLRequest=${encodeURIComponent(await redirectEncoded(xml))}`,
      context(),
    );
    expect(start?.connection).toBe("globex-saml");
    expect(start?.handles).toEqual([{ kind: "InResponseTo", value: "_id2" }]);
  });

  it("does not take a connection from another tenant's SP entity ID", async () => {
    const xml = authnRequest("_id3", { acs: null, issuer: "urn:auth0:other-tenant:globex-saml" });
    const start = await loginStartOfLocation(
      `https://idp.globex.test/sso?SAMLRequest=${encodeURIComponent(await redirectEncoded(xml))}&RelayState=r`,
      context(),
    );
    expect(start?.connection).toBeUndefined();
    expect(start?.handles).toHaveLength(2);
  });

  it("does not record a SAML request whose ACS URL is another host's", async () => {
    const xml = authnRequest("_id4", { acs: "https://other.example.com/login/callback" });
    const location = `https://idp.acme.test/sso?SAMLRequest=${encodeURIComponent(await redirectEncoded(xml))}&RelayState=r`;
    expect(await loginStartOfLocation(location, context())).toBeUndefined();
  });

  it("does not record a SAMLRequest that is not a deflated AuthnRequest", async () => {
    const notDeflated = `https://idp.acme.test/sso?SAMLRequest=${encodeURIComponent(btoa(authnRequest("_x")))}&RelayState=r`;
    expect(await loginStartOfLocation(notDeflated, context())).toBeUndefined();
    const logout = await redirectEncoded(
      `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_l"/>`,
    );
    expect(
      await loginStartOfLocation(
        `https://idp.acme.test/slo?SAMLRequest=${encodeURIComponent(logout)}&RelayState=r`,
        context(),
      ),
    ).toBeUndefined();
  });
});

describe("reading an AuthnRequest", () => {
  it("reads ID, ACS URL and Issuer in either binding's encoding", async () => {
    const xml = authnRequest("_r1");
    const expected = {
      id: "_r1",
      assertionConsumerServiceUrl: `${CALLBACK}?connection=acme-saml`,
      issuer: "urn:auth0:example-tenant:acme-saml",
    };
    expect(await readAuthnRequest(await redirectEncoded(xml), "redirect")).toEqual(expected);
    expect(await readAuthnRequest(btoa(xml), "post")).toEqual(expected);
  });

  it("refuses a DOCTYPE (no entity is ever expanded)", () => {
    const xml = `<!DOCTYPE x [<!ENTITY e "boom">]>${authnRequest("_d")}`;
    expect(scanAuthnRequest(xml)).toBeUndefined();
  });

  it("stops inflating a deflate bomb at the size limit", async () => {
    const bomb = await deflateRaw(`<a>${" ".repeat(MAX_XML_BYTES * 4)}</a>`);
    expect(bomb.byteLength).toBeLessThan(2048);
    expect(await inflateRaw(new Uint8Array(bomb), MAX_XML_BYTES)).toBeUndefined();
    expect(await readAuthnRequest(base64(bomb), "redirect")).toBeUndefined();
  });

  it("answers undefined for text that is not base64", async () => {
    expect(await readAuthnRequest("not base64 !!", "post")).toBeUndefined();
  });
});

describe("the HTTP-POST binding form", () => {
  const page = (fields: string, action = "https://idp.acme.test/sso") =>
    `<!DOCTYPE html><html><head><title>Working...</title></head><body onload="document.forms[0].submit()">` +
    `<form method="post" name="hiddenform" action="${action}">${fields}` +
    `<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit"></noscript></form></body></html>`;

  it("finds SAMLRequest and RelayState, decoding character references", async () => {
    const encoded = btoa(authnRequest("_p1"));
    const html = page(
      `<input type="hidden" name="SAMLRequest" value="${encoded.replace(/\+/g, "&#x2B;").replace(/=/g, "&#61;")}">` +
        `<input type="hidden" name='RelayState' value='r&amp;1'>`,
    );
    const form = findSamlPostForm(html);
    expect(form?.action).toBe("https://idp.acme.test/sso");
    expect(form?.fields.get("SAMLRequest")).toBe(encoded);
    expect(form?.fields.get("RelayState")).toBe("r&1");
    const start = await loginStartOfForm(form!, context());
    expect(start).toMatchObject({
      protocol: "saml",
      binding: "post",
      handles: [
        { kind: "RelayState", value: "r&1" },
        { kind: "InResponseTo", value: "_p1" },
      ],
      connection: "acme-saml",
    });
  });

  it("ignores GET forms, forms without SAMLRequest and forms posting to this host", async () => {
    expect(
      findSamlPostForm(`<form action="https://idp/x"><input name="SAMLRequest" value="x"></form>`),
    ).toBeUndefined();
    expect(findSamlPostForm(page(`<input name="username">`))).toBeUndefined();
    const own = findSamlPostForm(page(`<input name="SAMLRequest" value="${btoa(authnRequest("_o"))}">`, "/login"));
    expect(own).toBeDefined();
    expect(await loginStartOfForm(own!, context())).toBeUndefined();
  });
});

describe("the affinity cookie", () => {
  const oidc: Handle[] = [{ kind: "state", value: "auth0-state-abcdefghijklmnop" }];

  it("carries exactly Path=/login/callback; Secure; HttpOnly; SameSite=None and the Max-Age, and no handle in clear", async () => {
    const key = await affinityKey(SECRET);
    const cookie = await transactionSetCookie(key, oidc, "contoso-waad", { maxAgeSeconds: 3600 });
    expect(cookie?.header).toMatch(
      /^cra-[A-Za-z0-9_-]{4}=[A-Za-z0-9_-]{8}\.contoso-waad; Max-Age=3600; Path=\/login\/callback; Secure; HttpOnly; SameSite=None$/,
    );
    expect(cookie?.header).not.toContain("auth0-state");
    expect(expiredSetCookie(cookie!.name)).toBe(
      `${cookie!.name}=; Max-Age=0; Path=/login/callback; Secure; HttpOnly; SameSite=None`,
    );
  });

  it("matches the handle it recorded and gives back the connection", async () => {
    const key = await affinityKey(SECRET);
    const cookie = await transactionSetCookie(key, oidc, "contoso-waad", { maxAgeSeconds: 60 });
    const read = readTransactionCookies(`did=abc; ${cookieOf(cookie!.header)}; auth0=xyz`);
    expect(read.malformed).toBe(0);
    expect(await matchTransaction(key, read.cookies, oidc)).toEqual({
      connection: "contoso-waad",
      names: [cookie!.name],
    });
    expect(
      await matchTransaction(key, read.cookies, [{ kind: "state", value: "someone-elses-state" }]),
    ).toBeUndefined();
    // The kind is part of the tag: the same value as a RelayState is another handle.
    expect(await matchTransaction(key, read.cookies, [{ kind: "RelayState", value: oidc[0]!.value }])).toBeUndefined();
  });

  it("matches a SAML transaction by RelayState or by InResponseTo alone", async () => {
    const key = await affinityKey(SECRET);
    const saml: Handle[] = [
      { kind: "RelayState", value: "relay-9" },
      { kind: "InResponseTo", value: "_req9" },
    ];
    const cookie = await transactionSetCookie(key, saml, undefined, { maxAgeSeconds: 60 });
    const read = readTransactionCookies(cookieOf(cookie!.header));
    expect(await matchTransaction(key, read.cookies, [saml[1]!])).toEqual({
      connection: undefined,
      names: [cookie!.name],
    });
    expect(await matchTransaction(key, read.cookies, [saml[0]!])).toBeDefined();
  });

  it("ignores a tampered tag, an edited connection and another deployment's cookie", async () => {
    const key = await affinityKey(SECRET);
    const cookie = cookieOf((await transactionSetCookie(key, oidc, "contoso-waad", { maxAgeSeconds: 60 }))!.header);
    const [name, value] = cookie.split("=") as [string, string];
    const flipped = `${name}=${value[0] === "A" ? "B" : "A"}${value.slice(1)}`;
    const edited = cookie.replace("contoso-waad", "fabrikam-waad");
    for (const header of [flipped, edited]) {
      const read = readTransactionCookies(header);
      expect(read.cookies).toHaveLength(1);
      expect(await matchTransaction(key, read.cookies, oidc)).toBeUndefined();
    }
    const foreign = await affinityKey("another-deployment-secret-32-characters");
    const theirs = cookieOf((await transactionSetCookie(foreign, oidc, "contoso-waad", { maxAgeSeconds: 60 }))!.header);
    expect(await matchTransaction(key, readTransactionCookies(theirs).cookies, oidc)).toBeUndefined();
  });

  it("counts cookies of the wrong shape as malformed and reads at most MAX_COOKIES", async () => {
    const read = readTransactionCookies(
      `cra-abcd=short; cra-abcd=${"A".repeat(24)}; cra-toolongname=AAAAAAAA; cra-abcd=AAAAAAAA.bad..name; cra-abcd; other=1`,
    );
    expect(read).toEqual({ cookies: [], malformed: 5, overflow: 0, names: ["cra-abcd"] });
    const many = Array.from({ length: MAX_COOKIES + 5 }, (_, i) => `cra-${String(i).padStart(4, "0")}=AAAAAAAA`).join(
      "; ",
    );
    const big = readTransactionCookies(many);
    expect(big.cookies).toHaveLength(MAX_COOKIES);
    expect(big.cookies[0]?.name).toBe("cra-0005");
    expect(big.overflow).toBe(5);
  });

  it("reads the newest MAX_COOKIES when more piled up: the login finishing now matches, the oldest are the ones left unread", async () => {
    // 100 logins started and abandoned within Max-Age (a synthetic check failing at the IdP, say),
    // then the newest one's callback: the browser lists the cookies oldest first (RFC 6265 §5.4).
    const key = await affinityKey(SECRET);
    const states = Array.from({ length: MAX_COOKIES + 36 }, (_, i) => `state-${i}-${"y".repeat(30)}`);
    const jar: string[] = [];
    for (const state of states) {
      const cookie = await transactionSetCookie(key, [{ kind: "state", value: state }], undefined, {
        maxAgeSeconds: 3600,
      });
      jar.push(cookieOf(cookie!.header));
    }
    const read = readTransactionCookies(jar.join("; "));
    expect(read.cookies.map((c) => c.name)).toEqual(jar.slice(-MAX_COOKIES).map((c) => c.split("=")[0]));
    expect(read.overflow).toBe(36);
    const newest = await matchTransaction(key, read.cookies, [{ kind: "state", value: states.at(-1)! }]);
    expect(newest?.names).toEqual([jar.at(-1)!.split("=")[0]]);
    // The ones not read are among those the answer expires (the oldest beyond the bound).
    const stale = new Set(staleCookieNames(read));
    for (const c of jar.slice(0, 36)) expect(stale.has(c.split("=")[0]!)).toBe(true);
  });

  it("finds one transaction among fifty, and its size per transaction stays small", async () => {
    const key = await affinityKey(SECRET);
    const headers: string[] = [];
    const states = Array.from({ length: 50 }, (_, i) => `state-${i}-${"x".repeat(40)}`);
    for (const state of states) {
      const cookie = await transactionSetCookie(key, [{ kind: "state", value: state }], undefined, {
        maxAgeSeconds: 3600,
      });
      headers.push(cookieOf(cookie!.header));
    }
    const cookieHeader = headers.join("; ");
    expect(new Set(headers.map((h) => h.split("=")[0])).size).toBe(50);
    // One transaction adds "cra-XXXX=" + 8 characters: 17 bytes, 19 with the "; " separator.
    expect(headers[0]!.length).toBe(17);
    expect(cookieHeader.length).toBe(50 * 17 + 49 * 2);
    const read = readTransactionCookies(cookieHeader);
    for (const i of [0, 17, 49]) {
      const match = await matchTransaction(key, read.cookies, [{ kind: "state", value: states[i]! }]);
      expect(match?.names).toEqual([headers[i]!.split("=")[0]]);
    }
    // A callback's answer expires the 18 oldest: the browser keeps 32, 17 × 32 + 31 × 2 = 606 bytes.
    const stale = staleCookieNames(read);
    expect(stale).toEqual(headers.slice(0, 18).map((h) => h.split("=")[0]));
    const bounded = headers.filter((h) => !stale.includes(h.split("=")[0]!)).join("; ");
    expect(bounded.length).toBe(KEEP_COOKIES * 17 + (KEEP_COOKIES - 1) * 2);
    expect(bounded.length).toBe(606);
  });

  it("expires the oldest beyond KEEP_COOKIES (32), at most MAX_EXPIRED_PER_ANSWER (64) per answer", () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `cra-${String(i).padStart(4, "0")}`);
    const header = (n: number) =>
      names(n)
        .map((name) => `${name}=AAAAAAAA`)
        .join("; ");
    expect(staleCookieNames(readTransactionCookies(header(32)))).toEqual([]);
    expect(staleCookieNames(readTransactionCookies(header(40)))).toEqual(names(8));
    // 200 abandoned logins: the 64 oldest now, the next callback goes on (every name counts, read or not).
    expect(staleCookieNames(readTransactionCookies(header(200)))).toEqual(names(64));
    // Of the Worker's shape only, each name once; malformed values count (the browser stores them).
    const mixed = `${header(32)}; cra-0000=x; cra-toolongname=AAAAAAAA; other=1; cra-zzzz=bad..value`;
    expect(staleCookieNames(readTransactionCookies(mixed))).toEqual(["cra-0000"]);
  });
});

describe("recording on a passed-through response", () => {
  const options = async () => ({
    key: await affinityKey(SECRET),
    maxAgeSeconds: 3600,
    htmlScanLimitBytes: HTML_SCAN_LIMIT_BYTES,
    auth0Tenant: "example-tenant",
  });
  const auth0Cookies = [
    "auth0=s%3Av1.gadzZXNzaW9uiKZoYW5kbGXEQK; Path=/; Expires=Tue, 01 Dec 2026 12:00:00 GMT; HttpOnly; Secure; SameSite=None",
    "auth0_compat=s%3Av1.gadzZXNzaW9uiKZoYW5kbGXEQK; Path=/; Expires=Tue, 01 Dec 2026 12:00:00 GMT; HttpOnly; Secure",
    "did=s%3Av0%3A1234; Max-Age=31557600; Path=/; Expires=Wed, 01 Dec 2027 18:00:00 GMT; HttpOnly; Secure; SameSite=None",
  ];

  function auth0Redirect(location: string): Response {
    const headers = new Headers({ location, "cache-control": "no-store", "content-type": "text/plain; charset=utf-8" });
    for (const c of auth0Cookies) headers.append("set-cookie", c);
    return new Response("Found. Redirecting", { status: 302, headers });
  }

  it("adds one Set-Cookie after Auth0's own, which stay byte-identical and separate", async () => {
    const location = authorizeLocation({ redirect_uri: CALLBACK, state: "s-1", client_id: "c" });
    const request = new Request(`${ORIGIN}/authorize?connection=contoso-waad`);
    const { response, start } = await recordLoginStart(request, auth0Redirect(location), await options());
    expect(start?.protocol).toBe("oauth2");
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(location);
    const cookies = response.headers.getSetCookie();
    expect(cookies.slice(0, 3)).toEqual(auth0Cookies);
    expect(cookies).toHaveLength(4);
    expect(cookies[3]).toMatch(
      /^cra-.{4}=.{8}\.contoso-waad; Max-Age=3600; Path=\/login\/callback; Secure; HttpOnly; SameSite=None$/,
    );
    expect(await response.text()).toBe("Found. Redirecting");
  });

  it("passes the very same response on when nothing is recorded", async () => {
    const redirectBack = auth0Redirect("https://app.example.com/callback?code=c&state=app");
    const request = new Request(`${ORIGIN}/authorize/resume?state=x`);
    expect((await recordLoginStart(request, redirectBack, await options())).response).toBe(redirectBack);
    const json = new Response("{}", { headers: { "content-type": "application/json" } });
    expect((await recordLoginStart(request, json, await options())).response).toBe(json);
    const head = auth0Redirect(authorizeLocation({ redirect_uri: CALLBACK, state: "s" }));
    expect(
      (await recordLoginStart(new Request(`${ORIGIN}/authorize`, { method: "HEAD" }), head, await options())).response,
    ).toBe(head);
  });

  it("records a small HTTP-POST binding page and passes its bytes on unchanged", async () => {
    const html =
      `<html><body onload="document.forms[0].submit()"><form method="POST" action="https://idp.acme.test/sso">` +
      `<input type="hidden" name="SAMLRequest" value="${btoa(authnRequest("_post1"))}"/>` +
      `<input type="hidden" name="RelayState" value="relay-post-1"/></form></body></html>`;
    const bytes = new TextEncoder().encode(html);
    const headers = new Headers({
      "content-type": "text/html; charset=utf-8",
      "content-length": String(bytes.byteLength),
    });
    headers.append("set-cookie", auth0Cookies[0]!);
    const original = new Response(bytes, { status: 200, headers });
    const { response, start } = await recordLoginStart(
      new Request(`${ORIGIN}/u/login/identifier`, { method: "POST" }),
      original,
      await options(),
    );
    expect(start?.handles.map((h) => h.kind)).toEqual(["RelayState", "InResponseTo"]);
    expect(start?.connection).toBe("acme-saml");
    expect(response.headers.getSetCookie()[0]).toBe(auth0Cookies[0]);
    expect(response.headers.getSetCookie()[1]).toMatch(/^cra-.{4}=.{16}\.acme-saml; /);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
  });

  it("never reads an HTML page whose Content-Length is over the limit (a Universal Login page streams)", async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1024));
      },
    });
    const page = new Response(body, {
      headers: { "content-type": "text/html", "content-length": String(200 * 1024) },
    });
    const { response } = await recordLoginStart(new Request(`${ORIGIN}/u/login`), page, await options());
    expect(response).toBe(page);
    // The runtime may have pulled the first chunk to fill its queue; nothing more was read.
    expect(pulled).toBeLessThanOrEqual(1);
    await response.body?.cancel();
  });

  it("holds back at most the limit of an HTML page of unknown length, then streams the rest", async () => {
    const chunk = new Uint8Array(HTML_SCAN_LIMIT_BYTES / 2).fill(0x61);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 3) await gate; // The origin stalls after 24 KiB …
        if (sent === 25) return controller.close(); // … and 200 KiB in all.
        sent++;
        controller.enqueue(chunk);
      },
    });
    const page = new Response(body, { headers: { "content-type": "text/html; charset=utf-8" } });
    const { response, start } = await recordLoginStart(new Request(`${ORIGIN}/u/login`), page, await options());
    // Answered while the origin is still stalled: the page was not buffered.
    expect(start).toBeUndefined();
    expect(sent).toBe(3);
    release();
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(bytes.byteLength).toBe(25 * chunk.byteLength);
    expect(bytes.every((b) => b === 0x61)).toBe(true);
  });
});

function cookieOf(setCookie: string): string {
  return setCookie.split(";")[0]!;
}

describe("base64url", () => {
  it("writes unpadded URL-safe base64", () => {
    expect(bytesToBase64Url(new Uint8Array([0xfb, 0xff, 0xfe]))).toBe("-__-");
  });
});
