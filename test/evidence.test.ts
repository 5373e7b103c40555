/**
 * Evidence (src/stats/evidence.ts): scripted callbacks of each kind of connection, through the
 * router's real entry point, and the counts the TrafficCounter shards store per connection,
 * shape, who started the login and how it was identified — exactly. Then every stored value
 * is checked for the handles, codes, cookies and assertion content the callbacks carried.
 */
import { env } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { EvidenceRow } from "../src/stats/evidence";
import { shardName } from "../src/stats/recorder";
import type { RouteInput, RouteTableFile } from "../src/table/schema";
import { api, resetTable } from "./support/admin";
import { realCallback } from "./support/callbacks";
import { startLogin as startLoginThrough } from "./support/login-start";
import { call, form, HOST, postForm } from "./support/worker";
import { resetCounters } from "./support/counters";

const SECRET = "evidence-test-affinity-secret-0123456789";
const AFFINITY = { AFFINITY_SECRET: SECRET };
const SHARDS = 8;
const shard = (i: number) => env.TRAFFIC_COUNTER.get(env.TRAFFIC_COUNTER.idFromName(shardName(i)));

const ROUTES: RouteInput[] = [
  { connection: "acme-saml", state: "migrated", protocol: "samlp", match: { idpEntityId: "https://idp.acme.test/md" } },
  { connection: "contoso-waad", state: "legacy", protocol: "waad" },
  { connection: "hooli-okta", state: "legacy", protocol: "okta", match: { oidcIssuer: "https://hooli.okta.test" } },
  { connection: "kc-oidc", state: "legacy", protocol: "oidc", match: { oidcIssuer: "https://kc.test/realms/a" } },
  {
    connection: "hooli-adfs",
    state: "legacy",
    protocol: "adfs",
    match: { idpEntityId: "http://adfs.hooli.test/trust" },
  },
  // SAML with neither match: predicted routable (connection=), but its IdP encrypts and drops connection=.
  { connection: "initech-saml", state: "legacy", protocol: "samlp" },
  // Never seen: no evidence, the prediction stands.
  { connection: "quiet-saml", state: "legacy", protocol: "samlp" },
];
const TABLE: RouteTableFile = {
  settings: { mode: "route", unknown: "auth0", redirect: "307", defaultTarget: "https://sso.example.com/cb" },
  routes: ROUTES,
};
const route = (name: string): RouteInput => ROUTES.find((r) => r.connection === name)!;

/** Every shard's evidence of all time, summed per key, as "connection shape started by" → logins. */
async function stored(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (let i = 0; i < SHARDS; i++) {
    const rows: EvidenceRow[] = await shard(i).evidence("0000", "9999");
    for (const r of rows) {
      const key = `${r.connection} ${r.shape} ${r.started} ${r.identifiedBy}`;
      out[key] = (out[key] ?? 0) + r.logins;
    }
  }
  return out;
}

/** Every value of every row of every table of every shard, as text. */
async function everythingStored(): Promise<string> {
  const parts: string[] = [];
  for (let i = 0; i < SHARDS; i++) {
    const { runInDurableObject } = await import("cloudflare:test");
    await runInDurableObject(shard(i), (_instance, state) => {
      const tables = state.storage.sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%'")
        .toArray();
      for (const { name } of tables) {
        for (const row of state.storage.sql.exec(`SELECT * FROM ${name}`).toArray()) {
          for (const v of Object.values(row)) {
            parts.push(v instanceof ArrayBuffer ? new TextDecoder().decode(v) : String(v));
          }
        }
      }
    });
  }
  return parts.join("\n");
}

const startLogin = (kind: string, connection: string) => startLoginThrough(kind, connection, AFFINITY);

async function send(request: Request, overrides: Record<string, string> = AFFINITY): Promise<number> {
  const res = await call(request, overrides);
  await res.body?.cancel();
  return res.status;
}

function withCookies(request: Request, cookies: string[]): Request {
  const copy = new Request(request);
  copy.headers.set("cookie", cookies.join("; "));
  return copy;
}

/** What the scripted traffic carried that must never be stored. */
const SECRETS: string[] = [];

/** The script: each kind of connection, Auth0-started and not, with the counts it must leave. */
async function script(): Promise<void> {
  // SAML with connection= (IdP-initiated: no affinity cookie), 3 logins; 2 without connection=, by Audience.
  for (let i = 0; i < 3; i++) expect(await send(realCallback("saml-acs", route("acme-saml")))).toBe(307);
  for (let i = 0; i < 2; i++)
    expect(await send(realCallback("saml-post-without-connection", route("acme-saml")))).toBe(307);
  // ... one encrypted, identified by its Issuer.
  expect(await send(realCallback("saml-encrypted-without-connection", route("acme-saml")))).toBe(307);
  // ... one Auth0 started: its RelayState matches the affinity cookie.
  const saml = await startLogin("saml-post", "acme-saml");
  const samlBody = form({
    SAMLResponse: btoa(
      '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r" Version="2.0"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">https://idp.acme.test/md</saml:Issuer></samlp:Response>',
    ),
    RelayState: saml.handles.relayState,
  });
  SECRETS.push(saml.handles.relayState, ...saml.cookies.map((c) => c.split("=")[1] ?? ""));
  expect(await send(withCookies(postForm("/login/callback?connection=acme-saml", samlBody), saml.cookies))).toBe(200);

  // Entra ID (waad): code + state, no iss. Two Auth0 started (affinity names the connection), one not (unidentified).
  for (let i = 0; i < 2; i++) {
    const oidc = await startLogin("oidc", "contoso-waad");
    SECRETS.push(oidc.handles.state, ...oidc.cookies.map((c) => c.split("=")[1] ?? ""));
    const q = `code=entra-code-${i}&state=${encodeURIComponent(oidc.handles.state)}&session_state=ss-${i}`;
    expect(await send(withCookies(new Request(`${HOST}/login/callback?${q}`), oidc.cookies))).toBe(200);
  }
  expect(await send(new Request(`${HOST}/login/callback?code=entra-code-x&state=stranger-state`))).toBe(200);
  SECRETS.push("entra-code-0", "entra-code-1", "entra-code-x", "stranger-state", "ss-0");
  // Okta: Auth0 started, no iss.
  const okta = await startLogin("oidc", "hooli-okta");
  SECRETS.push(okta.handles.state);
  expect(
    await send(
      withCookies(
        new Request(`${HOST}/login/callback?code=okta-code&state=${encodeURIComponent(okta.handles.state)}`),
        okta.cookies,
      ),
    ),
  ).toBe(200);
  // Keycloak: iss on every callback; two not Auth0's (identified by iss), one Auth0's (by affinity).
  for (let i = 0; i < 2; i++) expect(await send(realCallback("oidc-code-with-iss", route("kc-oidc")))).toBe(200);
  const kc = await startLogin("oidc", "kc-oidc");
  const kcQuery = `code=kc-code&state=${encodeURIComponent(kc.handles.state)}&iss=${encodeURIComponent("https://kc.test/realms/a")}`;
  expect(await send(withCookies(new Request(`${HOST}/login/callback?${kcQuery}`), kc.cookies))).toBe(200);
  SECRETS.push("kc-code");
  // initech: an Auth0-started SAML login whose IdP encrypts the assertion and drops connection=.
  const initech = await startLogin("saml-post", "initech-saml");
  const encrypted = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r" Version="2.0"><saml:Issuer>https://idp.initech.test</saml:Issuer><saml:EncryptedAssertion><x/></saml:EncryptedAssertion></samlp:Response>`;
  const initechBody = form({ SAMLResponse: btoa(encrypted), RelayState: initech.handles.relayState });
  expect(await send(withCookies(postForm("/login/callback", initechBody), initech.cookies))).toBe(200);
  // ADFS WS-Fed: identified by the token's Issuer attribute.
  expect(await send(realCallback("wsfed-post", route("hooli-adfs")))).toBe(200);
  // Affinity not configured: nobody can tell who started it.
  expect(await send(realCallback("saml-acs", route("acme-saml")), {})).toBe(307);
  // Not evidence: a bounce, and a HEAD.
  expect(await send(new Request(`${HOST}/login/callback?connection=acme-saml&fallback=auth0`))).toBe(200);
  expect(await send(new Request(`${HOST}/login/callback?connection=acme-saml`, { method: "HEAD" }))).toBe(200);
}

beforeEach(async () => {
  vi.spyOn(console, "log").mockImplementation(() => {});
  await resetTable();
  await resetCounters();
  const res = await api("/import?mode=replace", { method: "POST", body: TABLE });
  expect(res.status).toBe(200);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("evidence: what each connection's callbacks carry, per hour", () => {
  it("records each scripted callback's shape, who started it and how it was identified, exactly", async () => {
    await script();
    expect(await stored()).toEqual({
      "acme-saml saml-acs elsewhere query": 3,
      "acme-saml saml-post-without-connection elsewhere audience": 2,
      "acme-saml saml-encrypted-without-connection elsewhere issuer": 1,
      "acme-saml saml-acs auth0 query": 1,
      "acme-saml saml-acs unknown query": 1,
      "contoso-waad oidc-code-without-iss auth0 affinity": 2,
      "(unidentified) oidc-code-without-iss elsewhere none": 1,
      "hooli-okta oidc-code-without-iss auth0 affinity": 1,
      "kc-oidc oidc-code-with-iss elsewhere iss": 2,
      "kc-oidc oidc-code-with-iss auth0 affinity": 1,
      "hooli-adfs wsfed-post elsewhere issuer": 1,
      "initech-saml saml-encrypted-without-connection auth0 affinity": 1,
    });
  });

  it("keeps evidence per UTC hour, one row per key however many logins share it", async () => {
    for (let i = 0; i < 4; i++) expect(await send(realCallback("saml-acs", route("acme-saml")))).toBe(307);
    const hour = new Date().toISOString().slice(0, 13);
    let rows: EvidenceRow[] = [];
    for (let i = 0; i < SHARDS; i++) rows = rows.concat(await shard(i).evidence(hour, hour, ["acme-saml"]));
    expect(rows.reduce((n, r) => n + r.logins, 0)).toBe(4);
    expect(await shard(0).evidence("2000-01-01T00", "2000-01-01T23")).toEqual([]);
  });

  it("records no evidence with STATS_EVIDENCE=off, and still counts each login", async () => {
    await resetCounters();
    const off = { ...AFFINITY, STATS_EVIDENCE: "off" };
    for (let i = 0; i < 2; i++) expect(await send(realCallback("saml-acs", route("acme-saml")), off)).toBe(307);
    expect(await stored()).toEqual({});
    let sent = 0;
    for (let i = 0; i < SHARDS; i++) {
      for (const r of await shard(i).query("hour", "0000", "9999", "acme-saml")) sent += r.new;
    }
    expect(sent).toBe(2);
    // The same callback with recording on (the default) leaves its evidence.
    expect(await send(realCallback("saml-acs", route("acme-saml")))).toBe(307);
    expect(Object.values(await stored())).toEqual([1]);
  });

  it("drops evidence past 35 days when the shard prunes", async () => {
    const old = new Date(Date.now() - 36 * 24 * 3_600_000).toISOString().slice(0, 13);
    const kept = new Date(Date.now() - 34 * 24 * 3_600_000).toISOString().slice(0, 13);
    const row = (at: string): EvidenceRow => ({
      at,
      connection: "acme-saml",
      shape: "saml-acs",
      started: "unknown",
      identifiedBy: "query",
      logins: 1,
    });
    await shard(0).add([], [], [row(old), row(kept)]);
    const { runInDurableObject } = await import("cloudflare:test");
    await runInDurableObject(shard(0), (instance) => instance.prune(Date.now()));
    expect((await shard(0).evidence("0000", "9999")).map((r) => r.logins)).toEqual([1]);
  });

  it("stores no handle, code, cookie or assertion content, in any table", async () => {
    SECRETS.length = 0;
    await script();
    const text = await everythingStored();
    expect(text).toContain("oidc-code-without-iss");
    const found = SECRETS.filter((s) => s.length >= 4 && text.includes(s));
    expect(found).toEqual([]);
    for (const fragment of [
      "SAMLResponse",
      "samlp:",
      "https://idp.acme.test/md",
      "https://kc.test",
      "adfs.hooli",
      "wresult",
    ]) {
      expect(text).not.toContain(fragment);
    }
  });
});

type Readiness = {
  verdict: string;
  logins: number;
  identifiable: number;
  unidentifiable: number;
  summary: string;
  fix?: string;
  prediction: string;
  agrees: boolean;
  difference?: string;
};

describe("readiness: measured from the evidence, the prediction where there is none", () => {
  it("sets aside callbacks of a shape the protocol never sends: a stranger cannot make an Okta route look ready", async () => {
    await resetCounters();
    // An Okta IdP never names the connection in the callback; anyone can send these.
    for (let i = 0; i < 5; i++) {
      const forged = new Request(`${HOST}/login/callback?connection=hooli-okta&code=abc${i}&state=xyz${i}`);
      await send(forged);
    }
    const readiness = ((await (await api("/routes/hooli-okta")).json()) as { readiness: Readiness }).readiness;
    expect(readiness).toMatchObject({ verdict: "no evidence", logins: 0, setAside: 5, prediction: "partial" });
    expect(readiness.summary).toContain("5 callbacks of a shape okta never sends set aside");
  });

  it("answers each route's verdict with its numbers and fix in GET /routes/{c}", async () => {
    await script();
    const readiness = async (c: string) =>
      ((await (await api(`/routes/${c}`)).json()) as { readiness: Readiness }).readiness;
    expect(await readiness("acme-saml")).toMatchObject({
      verdict: "ready",
      logins: 8,
      identifiable: 8,
      summary: "8 logins in 7 days; all identifiable: 5 by connection=, 2 by Audience, 1 by Issuer",
      prediction: "routable",
      agrees: true,
    });
    expect(await readiness("contoso-waad")).toMatchObject({
      verdict: "not ready",
      logins: 2,
      unidentifiable: 2,
      summary:
        "2 logins in 7 days; 100 % of callbacks (2) carried no iss: after a cut-over those follow affinity, then unknown",
      prediction: "unroutable",
      agrees: true,
    });
    expect((await readiness("contoso-waad")).fix).toMatch(/^keep settings.unknown = probe/);
    // Keycloak sends iss every time: predicted partial, the evidence says ready and shows the difference.
    expect(await readiness("kc-oidc")).toMatchObject({
      verdict: "ready",
      logins: 3,
      summary: "3 logins in 7 days; all identifiable by iss",
      prediction: "partial",
      agrees: false,
    });
    expect((await readiness("kc-oidc")).difference).toMatch(/^configuration predicted partial .*evidence says ready$/);
    expect(await readiness("hooli-adfs")).toMatchObject({
      verdict: "ready",
      logins: 1,
      summary: "1 login in 7 days; all identifiable by Issuer",
    });
    // Predicted routable; its IdP really encrypts and drops connection=: the evidence wins.
    expect(await readiness("initech-saml")).toMatchObject({
      verdict: "not ready",
      logins: 1,
      summary:
        "1 login in 7 days; 100 % of callbacks (1) were encrypted SAML post without connection= but the route has no match.idpEntityId: after a cut-over those follow affinity, then unknown",
      fix: "set match.idpEntityId to the IdP's entity ID",
      prediction: "routable",
      agrees: false,
      difference:
        "configuration predicted routable; 1 of 1 recorded callbacks were not identifiable, so the evidence says not ready",
    });
    expect(await readiness("quiet-saml")).toMatchObject({
      verdict: "no evidence",
      logins: 0,
      prediction: "routable",
      agrees: true,
    });
    expect((await readiness("quiet-saml")).summary).toMatch(
      /^no logins recorded in 7 days; predicted from configuration: routable — /,
    );
  });

  it("counts verdicts across the table in GET /coverage and lists the routes not ready or disagreeing", async () => {
    await script();
    const coverage = (await (await api("/coverage")).json()) as {
      readiness: {
        days: number;
        byVerdict: Record<string, number>;
        connections: Array<Readiness & { connection: string }>;
      };
    };
    expect(coverage.readiness.days).toBe(7);
    expect(coverage.readiness.byVerdict).toEqual({ ready: 3, "not ready": 3, "no evidence": 1 });
    expect(coverage.readiness.connections.map((c) => `${c.connection} ${c.verdict} ${c.agrees}`).sort()).toEqual([
      "contoso-waad not ready true",
      "hooli-okta not ready true",
      "initech-saml not ready false",
      "kc-oidc ready false",
    ]);
  });
});
