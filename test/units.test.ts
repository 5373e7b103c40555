import { describe, expect, it } from "vitest";
import { beforeAfter, VALUE_SHOWN } from "../cli/output";
import { connectionFromAudience } from "../src/callback/identify";
import { parseFormBody } from "../src/callback/form";
import { withoutFallback } from "../src/callback/query";
import { scanSignInXml } from "../src/callback/xml";
import { parseConfig } from "../src/config";
import { evaluateRollout, rolloutBucket } from "../src/rollout";
import { RouteTableFile } from "../src/table/schema";
import { checkTarget, redirectLocation } from "../src/targets";

const devConfig = {
  environment: "development" as const,
  allowedTargetHosts: new Set(["sso.example.com", "localhost:8789"]),
};
const prodConfig = { ...devConfig, environment: "production" as const };

describe("redirect targets", () => {
  it.each([
    ["https://sso.example.com/cb", true],
    ["https://SSO.EXAMPLE.COM/cb", true],
    ["https://sso.example.com.evil.test/cb", false],
    ["https://evil.test/sso.example.com", false],
    ["https://sso.example.com:8443/cb", false],
    ["https://user:pw@sso.example.com/cb", false],
    ["http://sso.example.com/cb", false],
    ["javascript:alert(1)", false],
    ["//sso.example.com/cb", false],
    ["https://sso.example.com/cb#frag", false],
    ["http://localhost:8789/cb", true],
  ])("in development %s is allowed: %s", (raw, ok) => {
    expect(checkTarget(raw, devConfig).ok).toBe(ok);
  });

  it("refuses http even for localhost in production", () => {
    expect(checkTarget("http://localhost:8789/cb", prodConfig).ok).toBe(false);
  });

  it("appends the original query after the target's own", () => {
    expect(redirectLocation(new URL("https://sso.example.com/cb?client=1"), "connection=a&x=%20")).toBe(
      "https://sso.example.com/cb?client=1&connection=a&x=%20",
    );
    expect(redirectLocation(new URL("https://sso.example.com/cb"), "")).toBe("https://sso.example.com/cb");
  });
});

describe("query handling", () => {
  it.each([
    ["a=1&fallback=auth0&b=2", "a=1&b=2"],
    ["fallback=auth0", ""],
    ["a=%E2%9C%93&fallback=auth0&a=%20", "a=%E2%9C%93&a=%20"],
    ["a=1&&f%61llback=%61uth0", "a=1&"],
    ["a=1&fallback=AUTH0&fallback=auth0", "a=1&fallback=AUTH0"],
    ["fallback=auth1&x", "fallback=auth1&x"],
    ["bad=%E0%A4%A&fallback=auth0", "bad=%E0%A4%A"],
  ])("removes only the fallback=auth0 marker from %s", (raw, expected) => {
    expect(withoutFallback(raw)).toBe(expected);
  });
});

describe("form bodies", () => {
  it("drops the cut-off last field of a truncated body", () => {
    const bytes = new TextEncoder().encode("a=1&SAMLResponse=abc");
    expect(parseFormBody(bytes, false)).toEqual([{ name: "a", value: "1" }]);
    expect(parseFormBody(bytes, true)).toEqual([
      { name: "a", value: "1" },
      { name: "SAMLResponse", value: "abc" },
    ]);
  });
});

describe("XML scanning", () => {
  it("reads audiences and issuers whatever the prefixes are", () => {
    const xml = `<p:Response xmlns:p="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:a="urn:oasis:names:tc:SAML:2.0:assertion">
      <a:Issuer> https://idp.test/x </a:Issuer>
      <a:Assertion><a:Issuer>https://idp.test/x</a:Issuer><a:Conditions><a:AudienceRestriction><a:Audience>urn:auth0:t:c</a:Audience></a:AudienceRestriction></a:Conditions></a:Assertion>
    </p:Response>`;
    expect(scanSignInXml(xml)).toMatchObject({
      ok: true,
      facts: { audiences: ["urn:auth0:t:c"], issuers: ["https://idp.test/x"], encrypted: false },
      complete: true,
    });
  });

  it("does not take an Issuer element from an unrelated namespace", () => {
    const xml = `<Response xmlns="urn:oasis:names:tc:SAML:2.0:protocol"><Issuer xmlns="urn:example:other">https://spoof</Issuer></Response>`;
    expect(scanSignInXml(xml)).toMatchObject({ ok: true, facts: { issuers: [] } });
  });

  it("refuses any DOCTYPE", () => {
    expect(scanSignInXml(`<!DOCTYPE x><x/>`)).toMatchObject({ ok: false });
  });

  it("refuses elements nested deeper than any sign-in message (namespace resolution per element costs the depth)", () => {
    const deep = "<x>".repeat(100) + "</x>".repeat(100);
    const xml = `<Response xmlns="urn:oasis:names:tc:SAML:2.0:protocol">${deep}<Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">https://idp.test/x</Issuer></Response>`;
    expect(scanSignInXml(xml)).toEqual({ ok: false, reason: "elements nested deeper than 64" });
  });

  it("reads a message nested as deep as real ones (WS-Trust envelope, signature, key info)", () => {
    const deep = "<x>".repeat(40) + "</x>".repeat(40);
    const xml = `<Response xmlns="urn:oasis:names:tc:SAML:2.0:protocol"><Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">https://idp.test/x</Issuer>${deep}</Response>`;
    expect(scanSignInXml(xml)).toMatchObject({ ok: true, facts: { issuers: ["https://idp.test/x"] } });
  });

  it("keeps at most four values of each kind", () => {
    const many = Array.from({ length: 50 }, (_, i) => `<a:Audience>aud-${i}</a:Audience>`).join("");
    const xml = `<a:Assertion xmlns:a="urn:oasis:names:tc:SAML:2.0:assertion">${many}</a:Assertion>`;
    const scan = scanSignInXml(xml);
    expect(scan.ok && scan.facts.audiences).toHaveLength(4);
  });
});

describe("audiences", () => {
  it.each([
    ["urn:auth0:example-tenant:acme-saml", "example-tenant", "acme-saml"],
    ["urn:auth0:example-tenant:acme-saml", undefined, "acme-saml"],
    ["urn:auth0:other:acme-saml", "example-tenant", undefined],
    ["urn:auth0:example-tenant", "example-tenant", undefined],
    ["urn:auth0:example-tenant:bad_name", "example-tenant", undefined],
    ["https://app.example.com/saml", undefined, undefined],
  ])("%s (tenant %s) names %s", (audience, tenant, expected) => {
    expect(connectionFromAudience(audience, tenant)).toBe(expected);
  });
});

describe("rollout", () => {
  const flag = (percentage: number, include: string[] = [], exclude: string[] = []) => ({
    percentage,
    include,
    exclude,
  });

  it("buckets deterministically and roughly evenly", () => {
    expect(rolloutBucket("org_1")).toBe(rolloutBucket("org_1"));
    const ids = Array.from({ length: 10_000 }, (_, i) => `org_${i}`);
    const inAt10 = ids.filter((id) => evaluateRollout(flag(10), { organization: id }).destination === "new").length;
    expect(inAt10).toBeGreaterThan(800);
    expect(inAt10).toBeLessThan(1200);
  });

  it("only adds organizations as the percentage grows", () => {
    const ids = Array.from({ length: 2_000 }, (_, i) => `org_${i}`);
    const at = (p: number) =>
      new Set(ids.filter((id) => evaluateRollout(flag(p), { organization: id }).destination === "new"));
    const ten = at(10);
    const twenty = at(20);
    for (const id of ten) expect(twenty.has(id)).toBe(true);
  });

  it("uses the organization, not the connection, when there is one", () => {
    const a = evaluateRollout(flag(50), { organization: "org_x", connection: "c1" });
    const b = evaluateRollout(flag(50), { organization: "org_x", connection: "c2" });
    expect(a).toEqual(b);
  });

  it("lets exclude beat include, and both beat the percentage", () => {
    expect(evaluateRollout(flag(100, [], ["org_x"]), { organization: "org_x" }).destination).toBe("auth0");
    expect(evaluateRollout(flag(0, ["org_x"]), { organization: "org_x" }).destination).toBe("new");
    expect(evaluateRollout(flag(0, ["org_x"], ["org_x"]), { organization: "org_x" }).destination).toBe("auth0");
    expect(evaluateRollout(flag(0, ["c1"]), { organization: "org_x", connection: "c1" }).destination).toBe("new");
  });
});

describe("configuration", () => {
  const base = { AUTH0_ORIGIN: "https://tenant.us.auth0.com" };

  it("accepts a minimal production configuration with defaults", () => {
    const r = parseConfig(base);
    expect(r.ok).toBe(true);
    expect(r.ok && r.config).toMatchObject({
      environment: "production",
      auth0TimeoutMs: 30_000,
      bodyScanLimitBytes: 524_288,
    });
  });

  it.each([
    [{ AUTH0_ORIGIN: "tenant.us.auth0.com" }, "AUTH0_ORIGIN", "is not an absolute URL"],
    [{ AUTH0_ORIGIN: "https://tenant.us.auth0.com/login" }, "AUTH0_ORIGIN", "must be an origin only"],
    [{ AUTH0_TIMEOUT_MS: "soon" }, "AUTH0_TIMEOUT_MS", "whole number"],
    [
      { ALLOWED_TARGET_HOSTS: "sso.example.com, https://x.test" },
      "ALLOWED_TARGET_HOSTS",
      '"https://x.test" is not a host',
    ],
    [{ ENVIRONMENT: "prod" }, "ENVIRONMENT", "must be development, staging or production"],
    [{ KV_CACHE_TTL_SECONDS: "5" }, "KV_CACHE_TTL_SECONDS", "from 30"],
  ])("names the wrong variable: %o", (over, variable, message) => {
    const r = parseConfig({ ...base, ...over });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems).toContainEqual({ variable, message: expect.stringContaining(message) as unknown });
  });
});

describe("routes.json schema", () => {
  it("refuses duplicate connections and two routes claiming one IdP, naming the field", () => {
    const r = RouteTableFile.safeParse({
      routes: [
        { connection: "a", state: "legacy", match: { idpEntityId: "https://idp" } },
        { connection: "a", state: "legacy" },
        { connection: "b", state: "legacy", match: { idpEntityId: "https://idp" } },
      ],
    });
    expect(r.success).toBe(false);
    const paths = r.error?.issues.map((i) => i.path.join(".")) ?? [];
    expect(paths).toContain("routes.1.connection");
    expect(paths).toContain("routes.2.match.idpEntityId");
  });

  it("refuses unknown fields and bad states", () => {
    const r = RouteTableFile.safeParse({ routes: [{ connection: "a", state: "moved", colour: "red" }] });
    expect(r.success).toBe(false);
  });
});

describe("CLI output: an audit entry's values", () => {
  it("prints nested objects in an array as compact JSON, never [object Object]", () => {
    const after = {
      plan: { waves: [{ connections: ["a-saml"], percentage: 10 }, { connections: ["b-oidc"] }] },
    };
    const cells = beforeAfter(null, after);
    expect(cells.before).toBe("-");
    expect(cells.after).toBe('plan.waves=[{"connections":["a-saml"],"percentage":10}, {"connections":["b-oidc"]}]');
    expect(cells.after).not.toContain("[object Object]");
  });

  it("escapes control characters inside the JSON and bounds a long value with an ellipsis", () => {
    const evil = "x\u001b]0;owned\u0007\u2028\u202e";
    const long = { waves: [{ connections: Array.from({ length: 40 }, (_, i) => `conn-${i}-saml`), note: evil }] };
    const { after } = beforeAfter(null, long);
    expect(after).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u202e]/);
    expect(after.startsWith('waves=[{"connections":["conn-0-saml",')).toBe(true);
    expect(after.endsWith("…]")).toBe(true);
    expect(after.length).toBeLessThanOrEqual("waves=[]".length + VALUE_SHOWN);
    const { after: short } = beforeAfter(null, { waves: [{ note: evil }] });
    expect(short).toBe('waves=[{"note":"x\\u001b]0;owned\\u0007\\u2028\\u202e"}]');
  });
});
