/**
 * Operating transaction affinity: /status, /evaluate and the counters say what it
 * does, and settings.affinity switches it off at run time through the API.
 */
import { env } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, inject, it, vi } from "vitest";
import type { ConnectionStats, Counts } from "../src/stats/report";
import { AFFINITY_REQUEST_ID } from "./support/affinity";
import { api, json, resetTable } from "./support/admin";
import { call, form, HOST } from "./support/worker";
import { resetCounters } from "./support/counters";

const WITH_AFFINITY = { AFFINITY_SECRET: "affinity-operations-secret-0123456789" };
type Report = { totals: Counts; connections: ConnectionStats[] };

beforeEach(async () => {
  vi.spyOn(console, "log").mockImplementation(() => {});
  await resetTable();
  await resetCounters();
  await api("/import?mode=replace", {
    method: "POST",
    body: {
      settings: { defaultTarget: "https://sso.example.com/cb", unknown: "probe" },
      routes: [{ connection: "acme-saml", state: "migrated" }],
    },
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** An SP-initiated SAML login of acme-saml (migrated): started at Auth0, answered by acme's IdP. */
async function spInitiatedLogin(): Promise<Response> {
  const start = await call(
    new Request(`${HOST}/authorize?kind=saml-post&connection=acme-saml&id=${AFFINITY_REQUEST_ID}`, {
      headers: { "x-test-origin": "login-start" },
    }),
    WITH_AFFINITY,
  );
  await start.body?.cancel();
  const cookies = start.headers.getSetCookie().filter((c) => c.startsWith("cra-"));
  return call(
    new Request(`${HOST}/login/callback?connection=acme-saml`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        cookie: cookies.map((c) => c.split(";")[0]).join("; "),
      },
      body: form({ SAMLResponse: inject("saml").spInitiated }),
    }),
    WITH_AFFINITY,
  );
}

describe("saying whether affinity is on", () => {
  it("/status: not-configured without AFFINITY_SECRET, on with it, off after PUT /settings", async () => {
    expect(await json(await api("/status"))).toMatchObject({ affinity: "not-configured" });
    expect(await json(await api("/status", { env: WITH_AFFINITY }))).toMatchObject({ affinity: "on" });
    const put = await api("/settings", { method: "PUT", body: { affinity: "off" }, env: WITH_AFFINITY });
    expect(put.status).toBe(200);
    expect(await json(put)).toMatchObject({ affinity: "off" });
    expect(await json(await api("/status", { env: WITH_AFFINITY }))).toMatchObject({ affinity: "off" });
  });

  it("/evaluate answers the table's decision and says affinity is on", async () => {
    const answer = await json(await api("/evaluate?connection=acme-saml", { env: WITH_AFFINITY }));
    expect(answer).toMatchObject({ destination: "new", reason: "migrated", affinity: "on" });
    const org = await json(await api("/evaluate?organization=org_none", { env: WITH_AFFINITY }));
    expect(org).toMatchObject({ affinity: "on" });
  });

  it("refuses a settings.affinity that is neither on nor off, naming the field", async () => {
    const res = await api("/settings", { method: "PUT", body: { affinity: "maybe" }, env: WITH_AFFINITY });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(JSON.stringify(await res.json())).toContain("affinity");
  });
});

describe("counting the bounces affinity saved", () => {
  it("counts an Auth0-started login of a migrated connection under affinity, without the migrated-but-Auth0 flag", async () => {
    const res = await spInitiatedLogin();
    expect(res.status).toBe(200);
    await res.body?.cancel();
    const report = await json<Report>(await api("/stats", { env: WITH_AFFINITY }));
    expect(report.totals).toMatchObject({ logins: 1, auth0: 1, new: 0, affinity: 1 });
    const acme = report.connections.find((c) => c.connection === "acme-saml");
    expect(acme?.counts).toMatchObject({ auth0: 1, affinity: 1 });
    expect(acme?.flags).not.toContain("auth0-traffic-while-migrated");
  });

  it("sends the same login to the new provider once affinity is switched off at run time", async () => {
    await api("/settings", { method: "PUT", body: { affinity: "off" }, env: WITH_AFFINITY });
    const res = await spInitiatedLogin();
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe("https://sso.example.com/cb?connection=acme-saml");
  });
});
