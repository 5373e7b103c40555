/** The dashboard shell at {prefix}/: served without a token, holds no data, strict headers. */
import { beforeEach, describe, expect, it } from "vitest";
import type { Env } from "../src/env";
import { ADMIN_TOKEN, api, json, PREFIX, resetTable } from "./support/admin";
import { call, HOST } from "./support/worker";

beforeEach(() => resetTable());

const NO_CREDENTIAL: Partial<Env> = {
  ADMIN_TOKEN: undefined,
  ADMIN_JWKS_URL: undefined,
  ADMIN_JWT_ISSUER: undefined,
  ADMIN_JWT_AUDIENCE: undefined,
};

function nonceOf(csp: string): string {
  const m = /style-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp);
  expect(m, csp).not.toBeNull();
  return m?.[1] ?? "";
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

describe("dashboard page", () => {
  it("answers 200 HTML without a token, with the CSP, no-store and the other headers", async () => {
    const res = await api("/", { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=UTF-8");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    const csp = res.headers.get("content-security-policy") ?? "";
    const nonce = nonceOf(csp);
    const html = await res.text();
    expect(html.startsWith("<!doctype html>")).toBe(true);
    // Two script elements: the configuration (JSON data, never run) and the bundled client,
    // allowed by its SHA-256 alone; one style element with the answer's nonce.
    expect(html.match(/<script\b[^>]*>/g)).toEqual([
      '<script type="application/json" id="dashboard-config">',
      "<script>",
    ]);
    expect(html.match(/<style\b[^>]*>/g)).toEqual([`<style nonce="${nonce}">`]);
    const client = html.slice(html.lastIndexOf("<script>") + "<script>".length, html.lastIndexOf("</script>"));
    expect(client.length).toBeGreaterThan(20_000);
    expect(csp).toBe(
      `default-src 'none'; script-src 'sha256-${await sha256(client)}'; style-src 'nonce-${nonce}'; connect-src 'self'; ` +
        `img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    );
    expect(html).not.toMatch(/\son[a-z]+=|\sstyle=/i);
    // The skeleton: landmarks, the sign-in form with a labelled password field, table headers,
    // the time range and the per-connection view.
    expect(html).toContain('<main id="main"');
    expect(html).toContain('<label for="token">Admin token or JWT</label>');
    expect(html).toMatch(/<input id="token" name="token" type="password"/);
    expect(html).toContain('<th scope="col">Connection</th>');
    expect(html).toContain('role="switch"');
    expect(html).toContain("<legend>Time range</legend>");
    expect(html).toContain('id="connection-view"');
    // uPlot's stylesheet is in the page's one style element.
    expect(html).toContain(".uplot");
    // The configuration names the API prefix; "<" cannot end its element.
    const config = html.slice(html.indexOf('id="dashboard-config">') + 22, html.indexOf("</script>"));
    expect(JSON.parse(config)).toEqual({ api: PREFIX, refreshMs: 15_000 });
  });

  it("serves the same script on every answer, so its hash can stay in the CSP", async () => {
    const a = (await api("/", { token: null })).headers.get("content-security-policy") ?? "";
    const b = (await api("/", { token: null })).headers.get("content-security-policy") ?? "";
    expect(a.split("; ")[1]).toBe(b.split("; ")[1]);
  });

  it("holds no route data and no credential", async () => {
    const put = await api("/routes/secretive-saml", {
      method: "PUT",
      body: { state: "migrated", organization: "org_secretive", note: "do-not-leak" },
    });
    expect(put.status).toBe(201);
    const html = await (await api("/", { token: null })).text();
    for (const leak of ["secretive-saml", "org_secretive", "do-not-leak", ADMIN_TOKEN])
      expect(html).not.toContain(leak);
    // With a token the answer is the same empty shell.
    const withToken = await (await api("/")).text();
    expect(withToken).not.toContain("secretive-saml");
  });

  it("answers HEAD with the headers and no body", async () => {
    const res = await api("/", { token: null, method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toMatch(/^default-src 'none'/);
    expect(await res.text()).toBe("");
  });

  it("uses a fresh style nonce per answer", async () => {
    const a = nonceOf((await api("/", { token: null })).headers.get("content-security-policy") ?? "");
    const b = nonceOf((await api("/", { token: null })).headers.get("content-security-policy") ?? "");
    expect(a).not.toBe(b);
  });

  it("redirects the bare prefix to the page", async () => {
    const res = await call(new Request(`${HOST}${PREFIX}`), { ADMIN_TOKEN });
    expect(res.status).toBe(308);
    expect(res.headers.get("location")).toBe(`${PREFIX}/`);
  });

  it("answers the API's own 401 problem when no credential is configured", async () => {
    const page = await api("/", { token: null, env: NO_CREDENTIAL });
    const endpoint = await api("/routes", { token: null, env: NO_CREDENTIAL });
    expect(page.status).toBe(401);
    expect(page.headers.get("content-type")).toBe("application/problem+json");
    expect(page.headers.get("www-authenticate")).toBe(endpoint.headers.get("www-authenticate"));
    const problem = await json(page);
    expect(problem["detail"]).toContain("no credential configured");
    expect(problem).toEqual(await json(endpoint));
    expect(page.headers.get("content-security-policy")).toBeNull();
  });

  it("answers the API's 503 problem when the credential is misconfigured", async () => {
    const env: Partial<Env> = { ...NO_CREDENTIAL, ADMIN_TOKEN: "too-short" };
    const page = await api("/", { token: null, env });
    expect(page.status).toBe(503);
    expect(await json(page)).toEqual(await json(await api("/routes", { token: null, env })));
  });

  it("leaves every other API path behind the bearer check", async () => {
    const res = await api("/routes", { token: null });
    expect(res.status).toBe(401);
    expect((await api("/status", { token: null })).status).toBe(401);
  });
});
