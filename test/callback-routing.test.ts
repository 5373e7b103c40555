import { beforeEach, describe, expect, it } from "vitest";
import type { RouteTableFile } from "../src/table/schema";
import { SUBMIT_SCRIPT, SUBMIT_SCRIPT_SHA256 } from "../src/callback/redirect";
import { DEFAULT_TARGET, TEST_TABLE } from "./support/table";
import { call, form, HOST, postForm, received, seed, sha256Hex } from "./support/worker";

beforeEach(() => seed(TEST_TABLE));

function withSettings(settings: RouteTableFile["settings"]): RouteTableFile {
  return { ...TEST_TABLE, settings: { ...TEST_TABLE.settings, ...settings } };
}

const SAML_BODY = form({ SAMLResponse: "PHNhbWxwOlJlc3BvbnNlLz4=", RelayState: "opaque-relay" });

describe("callbacks of legacy and migrated connections", () => {
  it("forwards a legacy connection's POST to Auth0 with query and body unchanged", async () => {
    const res = await call(postForm("/login/callback?connection=globex-saml", SAML_BODY));
    const got = await received(res);
    expect(got.url).toBe("/login/callback?connection=globex-saml");
    expect(got.bodyText).toBe(SAML_BODY);
  });

  it("307-redirects a migrated connection's POST to its target with the whole query", async () => {
    const res = await call(postForm("/login/callback?connection=acme-saml&organization=org_1", SAML_BODY));
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe(
      "https://sso.example.com/auth0/acme/callback?connection=acme-saml&organization=org_1",
    );
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("uses settings.defaultTarget for a migrated route without its own target", async () => {
    const res = await call(postForm("/login/callback?connection=initech-saml", SAML_BODY));
    expect(res.headers.get("location")).toBe(`${DEFAULT_TARGET}?connection=initech-saml`);
  });

  it("keeps repeated and percent-encoded query parameters byte for byte", async () => {
    const query = "connection=acme-saml&x=1&x=2&y=a%20b%2Bc&z=%E2%9C%93&empty=&flag";
    const res = await call(new Request(`${HOST}/login/callback?${query}`));
    expect(res.headers.get("location")).toBe(`https://sso.example.com/auth0/acme/callback?${query}`);
    const legacy = await call(new Request(`${HOST}/login/callback?${query.replace("acme-saml", "globex-saml")}`));
    expect((await received(legacy)).url).toBe(`/login/callback?${query.replace("acme-saml", "globex-saml")}`);
  });

  it("sends a 2 MiB POST byte-identical to Auth0, and redirects it without reading it", async () => {
    const big = "SAMLResponse=" + "A".repeat(2 * 1024 * 1024) + "&RelayState=r";
    const bytes = new TextEncoder().encode(big);
    const legacy = await call(postForm("/login/callback?connection=globex-saml", big));
    const got = await received(legacy);
    expect(got.bodyLength).toBe(bytes.length);
    expect(got.bodySha256).toBe(await sha256Hex(bytes));
    const migrated = await call(postForm("/login/callback?connection=acme-saml", big));
    expect(migrated.status).toBe(307);
  });

  it("sends a 2 MiB POST without connection parameter byte-identical to Auth0 after scanning its start", async () => {
    const big = "RelayState=r&SAMLResponse=" + "QUFB".repeat(512 * 1024) + "&tail=1";
    const bytes = new TextEncoder().encode(big);
    const res = await call(postForm("/login/callback", big, { "content-length": String(bytes.length) }));
    const got = await received(res);
    expect(got.headers["content-length"]).toBe(String(bytes.length));
    expect(got.bodyLength).toBe(bytes.length);
    expect(got.bodySha256).toBe(await sha256Hex(bytes));
  });

  it("follows the unknown policy for a connection missing from the table", async () => {
    const toAuth0 = await call(new Request(`${HOST}/login/callback?connection=not-in-table&code=c`));
    expect((await received(toAuth0)).url).toBe("/login/callback?connection=not-in-table&code=c");
    await seed(withSettings({ unknown: "probe" }));
    const probe = await call(new Request(`${HOST}/login/callback?connection=not-in-table&code=c`));
    expect(probe.status).toBe(307);
    expect(probe.headers.get("location")).toBe(`${DEFAULT_TARGET}?connection=not-in-table&code=c`);
  });
});

describe("fallback=auth0 (the loop guard)", () => {
  it("forwards a fallback=auth0 POST for a migrated connection to Auth0 with only that parameter removed and the body unchanged", async () => {
    const res = await call(postForm("/login/callback?connection=acme-saml&fallback=auth0&x=%20y&x=2", SAML_BODY));
    const got = await received(res);
    expect(got.url).toBe("/login/callback?connection=acme-saml&x=%20y&x=2");
    expect(got.bodyText).toBe(SAML_BODY);
  });

  it.each([
    ["connection=acme-saml&fallback=auth0", "/login/callback?connection=acme-saml"],
    ["fallback=auth0&connection=acme-saml", "/login/callback?connection=acme-saml"],
    ["fallback=auth0", "/login/callback"],
    ["connection=acme-saml&%66allback=auth0", "/login/callback?connection=acme-saml"],
    ["connection=acme-saml&f%61llback=auth0", "/login/callback?connection=acme-saml"],
    ["connection=acme-saml&fallback=%61uth0", "/login/callback?connection=acme-saml"],
    ["connection=acme-saml&fallback=auth0&fallback=auth0", "/login/callback?connection=acme-saml"],
    ["connection=acme-saml&FALLBACK=auth0&fallback=auth0", "/login/callback?connection=acme-saml&FALLBACK=auth0"],
  ])("never redirects ?%s and forwards it as %s", async (query, expected) => {
    await seed(withSettings({ unknown: "probe" }));
    const res = await call(new Request(`${HOST}/login/callback?${query}`));
    expect(res.status).toBe(200);
    expect((await received(res)).url).toBe(expected);
  });

  // Not the marker (docs/design.md, "The bounce marker"): a client's own parameter, routed by
  // the table and passed on byte for byte.
  it.each([
    "fallback=other",
    "FALLBACK=auth0",
    "Fallback=auth0",
    "fallback=Auth0",
    "fallback=auth0%20",
    "fallback=+auth0",
  ])(
    "redirects a migrated connection's callback carrying %s, which is not the marker, with it unchanged",
    async (spelling) => {
      const res = await call(new Request(`${HOST}/login/callback?connection=acme-saml&${spelling}`));
      expect(res.status).toBe(307);
      expect(new URL(res.headers.get("location") ?? "").search).toBe(`?connection=acme-saml&${spelling}`);
    },
  );

  it("does not treat another fallback value as the loop guard", async () => {
    const res = await call(new Request(`${HOST}/login/callback?connection=acme-saml&fallback=other`));
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toContain("fallback=other");
  });
});

describe("settings: mode, rollout and redirect form", () => {
  it("the kill switch forwards even a migrated connection to Auth0, in route and in shadow mode", async () => {
    for (const mode of ["route", "shadow"] as const) {
      await seed(withSettings({ mode, killSwitch: { on: true } }));
      const res = await call(postForm("/login/callback?connection=acme-saml", SAML_BODY));
      expect(res.status).toBe(200);
      expect((await received(res)).bodyText).toBe(SAML_BODY);
    }
  });

  it("an older table's mode: passthrough is the kill switch on", async () => {
    await seed(withSettings({ mode: "passthrough" }));
    const res = await call(postForm("/login/callback?connection=acme-saml", SAML_BODY));
    expect(res.status).toBe(200);
    expect((await received(res)).bodyText).toBe(SAML_BODY);
  });

  it("shadow mode forwards a migrated connection to Auth0", async () => {
    await seed(withSettings({ mode: "shadow" }));
    const res = await call(postForm("/login/callback?connection=acme-saml", SAML_BODY));
    expect(res.status).toBe(200);
    expect((await received(res)).bodyText).toBe(SAML_BODY);
  });

  it("rollout: 0 % keeps a rollout connection on Auth0, 100 % sends it to the new provider", async () => {
    await seed(withSettings({ rollout: { percentage: 0, include: [], exclude: [] } }));
    expect((await call(new Request(`${HOST}/login/callback?connection=stark-saml`))).status).toBe(200);
    await seed(withSettings({ rollout: { percentage: 100, include: [], exclude: [] } }));
    expect((await call(new Request(`${HOST}/login/callback?connection=stark-saml`))).status).toBe(307);
  });

  it("rollout: include sends an organization to the new provider and exclude beats include", async () => {
    await seed(withSettings({ rollout: { percentage: 0, include: ["org_stark", "wayne-saml"], exclude: [] } }));
    expect((await call(new Request(`${HOST}/login/callback?connection=stark-saml`))).status).toBe(307);
    expect((await call(new Request(`${HOST}/login/callback?connection=wayne-saml`))).status).toBe(307);
    await seed(withSettings({ rollout: { percentage: 100, include: ["org_stark"], exclude: ["org_stark"] } }));
    expect((await call(new Request(`${HOST}/login/callback?connection=stark-saml`))).status).toBe(200);
  });

  it("redirect: form answers a POST with an auto-submitting, escaped form and a strict CSP", async () => {
    await seed(withSettings({ redirect: "form" }));
    const body = form({ SAMLResponse: "PHg+", RelayState: `"><script>alert(1)</script>` });
    const res = await call(postForm("/login/callback?connection=acme-saml&a=%22%3E", body));
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toContain(`script-src 'sha256-${SUBMIT_SCRIPT_SHA256}'`);
    const html = await res.text();
    expect(html).toContain('action="https://sso.example.com/auth0/acme/callback?connection=acme-saml&amp;a=%22%3E"');
    expect(html).toContain('name="SAMLResponse" value="PHg+"');
    expect(html).toContain('name="RelayState" value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(html).not.toContain("<script>alert(1)");
    // One script, the one the CSP's hash allows; the Continue button outside any <noscript>.
    expect(html.match(/<script\b[^>]*>[^<]*<\/script>/g)).toEqual([`<script>${SUBMIT_SCRIPT}</script>`]);
    expect(html).not.toContain("<noscript>");
    expect(html).toMatch(/<button type="submit">Continue<\/button>\n<\/form>/);
  });

  it("redirect: form answers with the 307 when the form could not re-send the body byte for byte", async () => {
    await seed(withSettings({ redirect: "form" }));
    for (const body of ["SAMLResponse=PHg%2B&RelayState=%E9", "SAMLResponse=50%zz", "a=b%0Ac", "_charset_=x"]) {
      const res = await call(postForm("/login/callback?connection=acme-saml", body));
      expect(res.status, body).toBe(307);
      expect(res.headers.get("location")).toBe("https://sso.example.com/auth0/acme/callback?connection=acme-saml");
    }
  });

  it("redirect: form still answers a GET with a 307", async () => {
    await seed(withSettings({ redirect: "form" }));
    const res = await call(new Request(`${HOST}/login/callback?connection=acme-saml&code=x&state=y`));
    expect(res.status).toBe(307);
  });
});

describe("redirect targets", () => {
  it("never redirects to a target host outside ALLOWED_TARGET_HOSTS; the callback goes to Auth0", async () => {
    const res = await call(new Request(`${HOST}/login/callback?connection=evil-target`));
    expect(res.status).toBe(200);
    expect(res.headers.get("location")).toBeNull();
    expect((await received(res)).url).toBe("/login/callback?connection=evil-target");
  });

  it("refuses an http target that is not loopback, even in development", async () => {
    await seed({
      settings: { defaultTarget: "http://sso.example.com/cb" },
      routes: [{ connection: "acme-saml", state: "migrated" }],
    });
    const res = await call(new Request(`${HOST}/login/callback?connection=acme-saml`));
    expect(res.status).toBe(200);
    expect((await received(res)).url).toBe("/login/callback?connection=acme-saml");
  });

  it("allows http targets on localhost in development", async () => {
    await seed({
      settings: { defaultTarget: "http://localhost:9999/cb" },
      routes: [{ connection: "acme-saml", state: "migrated" }],
    });
    const res = await call(new Request(`${HOST}/login/callback?connection=acme-saml`));
    expect(res.headers.get("location")).toBe("http://localhost:9999/cb?connection=acme-saml");
  });

  it("sends a migrated connection to Auth0 when there is no target at all", async () => {
    await seed({ routes: [{ connection: "acme-saml", state: "migrated" }] });
    const res = await call(new Request(`${HOST}/login/callback?connection=acme-saml`));
    expect(res.status).toBe(200);
  });
});
