import { env } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { readProviderOutcomes, type OutcomeOptions } from "../src/autopilot/outcomes";
import type { Env } from "../src/env";
import { fakeRequests, fakeWorkos, type FakeEvent, workosEnv } from "./support/workos";

const KEY = "sk_test_autopilot_outcomes";
const HOUR = 3_600_000;
const NOW = Date.now();
const FROM = NOW - HOUR;
const TO = NOW;

const envWith = (overrides: Partial<Env> = workosEnv(KEY)): Env => ({ ...env, ...overrides }) as Env;
const at = (msAfterFrom: number) => new Date(FROM + msAfterFrom).toISOString();
const ok = (connection_id: string | undefined, ms: number): FakeEvent => ({
  event: "authentication.sso_succeeded",
  ...(connection_id === undefined ? {} : { connection_id }),
  created_at: at(ms),
});
const failed = (connection_id: string, ms: number): FakeEvent => ({
  event: "authentication.sso_failed",
  connection_id,
  created_at: at(ms),
});

const CONNECTIONS = [
  { connection: "acme-saml", providerConnectionId: "conn_acme" },
  { connection: "globex-saml", providerConnectionId: "conn_globex" },
  { connection: "quiet-saml", providerConnectionId: "conn_quiet" },
];
const noWait: Partial<OutcomeOptions> = { client: { sleep: async () => {} } };

beforeEach(async () => {
  await fakeWorkos(KEY, {});
});

describe("readProviderOutcomes: counting WorkOS' SSO events per Auth0 connection", () => {
  it("counts succeeded and failed logins per connection in the window; a connection with none reads 0, not unknown", async () => {
    await fakeWorkos(KEY, {
      events: [
        ok("conn_acme", -5_000), // before the window
        ok("conn_acme", 1_000),
        ok("conn_acme", 2_000),
        failed("conn_globex", 3_000),
        ok("conn_globex", 4_000),
        failed("conn_globex", 5_000),
        ok("conn_other", 6_000), // a WorkOS connection no one asked about
        ok(undefined, 7_000), // names no connection
        failed("conn_acme", HOUR + 1_000), // after the window
      ],
    });
    const reading = await readProviderOutcomes(envWith(), CONNECTIONS, FROM, TO, noWait);
    expect(reading).toEqual({
      available: true,
      source: "workos-events",
      byConnection: {
        "acme-saml": { succeeded: 2, failed: 0 },
        "globex-saml": { succeeded: 1, failed: 2 },
        "quiet-saml": { succeeded: 0, failed: 0 },
      },
      unavailable: {},
      events: 7,
      unattributed: 1,
    });
  });

  it("asks WorkOS for the two SSO event types over the window, as documented", async () => {
    await readProviderOutcomes(envWith(), CONNECTIONS, FROM, TO, noWait);
    expect(await fakeRequests(KEY)).toEqual([
      {
        method: "GET",
        path: "/events",
        query: {
          events: "authentication.sso_succeeded,authentication.sso_failed",
          range_start: new Date(FROM).toISOString(),
          range_end: new Date(TO).toISOString(),
          limit: "100",
        },
        status: 200,
      },
    ]);
  });

  it("follows list_metadata.after across pages: 250 events in three pages of 100", async () => {
    const events = Array.from({ length: 250 }, (_, i) => (i % 5 === 0 ? failed : ok)("conn_acme", 1_000 + i));
    await fakeWorkos(KEY, { events });
    const reading = await readProviderOutcomes(envWith(), CONNECTIONS, FROM, TO, noWait);
    expect(reading).toMatchObject({ available: true, byConnection: { "acme-saml": { succeeded: 200, failed: 50 } } });
    expect((await fakeRequests(KEY)).map((r) => r.query["after"])).toEqual([
      undefined,
      "event_00000099",
      "event_00000199",
    ]);
  });

  it("is bounded in pages: more than maxPages is not available rather than judged on part of the window", async () => {
    await fakeWorkos(KEY, { events: Array.from({ length: 30 }, (_, i) => ok("conn_acme", 1_000 + i)) });
    const reading = await readProviderOutcomes(envWith(), CONNECTIONS, FROM, TO, {
      client: { pageLimit: 10, maxPages: 2, sleep: async () => {} },
    });
    expect(reading).toEqual({
      available: false,
      source: "workos-events",
      reason: "GET /events: more than 2 pages of 10 events; stopped without applying anything",
    });
    expect(await fakeRequests(KEY)).toHaveLength(2);
  });
});

describe("readProviderOutcomes: when there is no outcome to read, it says so", () => {
  it("a connection without a providerConnectionId is unavailable with the reason, never counted as 0", async () => {
    await fakeWorkos(KEY, { events: [ok("conn_acme", 1_000)] });
    const reading = await readProviderOutcomes(
      envWith(),
      [{ connection: "acme-saml", providerConnectionId: "conn_acme" }, { connection: "hooli-adfs" }],
      FROM,
      TO,
      noWait,
    );
    expect(reading).toMatchObject({
      available: true,
      byConnection: { "acme-saml": { succeeded: 1, failed: 0 } },
      unavailable: { "hooli-adfs": "no providerConnectionId: WorkOS' events cannot be matched to this connection" },
    });
    if (reading.available) expect(reading.byConnection).not.toHaveProperty("hooli-adfs");
  });

  it("no connection mapped at all: not available, and WorkOS is not asked", async () => {
    const reading = await readProviderOutcomes(envWith(), [{ connection: "hooli-adfs" }], FROM, TO, noWait);
    expect(reading).toEqual({
      available: false,
      source: null,
      reason:
        "none of the 1 connections has a providerConnectionId (import the WorkOS package or run the provider sync)",
    });
    expect(await fakeRequests(KEY)).toEqual([]);
  });

  it("two routes on one WorkOS connection cannot be told apart: both unavailable", async () => {
    const reading = await readProviderOutcomes(
      envWith(),
      [
        { connection: "acme-saml", providerConnectionId: "conn_acme" },
        { connection: "acme-eu-saml", providerConnectionId: "conn_acme" },
        { connection: "globex-saml", providerConnectionId: "conn_globex" },
      ],
      FROM,
      TO,
      noWait,
    );
    expect(reading).toMatchObject({
      available: true,
      byConnection: { "globex-saml": { succeeded: 0, failed: 0 } },
      unavailable: {
        "acme-saml": "providerConnectionId conn_acme is shared with acme-eu-saml",
        "acme-eu-saml": "providerConnectionId conn_acme is shared with acme-saml",
      },
    });
  });

  it("WorkOS not configured: not available, no source, naming the variable", async () => {
    const reading = await readProviderOutcomes(envWith(workosEnv(undefined)), CONNECTIONS, FROM, TO, noWait);
    expect(reading).toEqual({
      available: false,
      source: null,
      reason: "WORKOS_API_KEY is not set (a WorkOS secret key, sk_…)",
    });
  });

  it("a malformed answer is not available, naming the field and the event", async () => {
    await fakeWorkos(KEY, { events: [ok("conn_acme", 1_000), ok("conn_acme", 2_000)], malformed: "types" });
    const reading = await readProviderOutcomes(envWith(), CONNECTIONS, FROM, TO, noWait);
    expect(reading).toMatchObject({ available: false, source: "workos-events" });
    if (!reading.available) {
      expect(reading.reason).toMatch(
        /^GET \/events: malformed answer at data\.sso\.connection_id of event event_00000000: /,
      );
    }
  });

  it("a body that is not JSON is not available, saying so", async () => {
    await fakeWorkos(KEY, { events: [ok("conn_acme", 1_000)], malformed: "json" });
    expect(await readProviderOutcomes(envWith(), CONNECTIONS, FROM, TO, noWait)).toEqual({
      available: false,
      source: "workos-events",
      reason: "GET /events: the body is not JSON",
    });
  });

  it("honours a 429's Retry-After (waits the 2 s asked, then reads)", async () => {
    await fakeWorkos(KEY, { events: [failed("conn_acme", 1_000)], rateLimitOnce: "2" });
    const slept: number[] = [];
    const reading = await readProviderOutcomes(envWith(), CONNECTIONS, FROM, TO, {
      client: { sleep: async (ms) => void slept.push(ms) },
    });
    expect(reading).toMatchObject({ available: true, byConnection: { "acme-saml": { succeeded: 0, failed: 1 } } });
    expect(slept).toEqual([2000]);
    expect((await fakeRequests(KEY)).map((r) => r.status)).toEqual([429, 200]);
  });

  it("a Retry-After beyond the reading's time is not available, without waiting", async () => {
    await fakeWorkos(KEY, { events: [failed("conn_acme", 1_000)], rateLimitOnce: "60" });
    const slept: number[] = [];
    const reading = await readProviderOutcomes(envWith(), CONNECTIONS, FROM, TO, {
      client: { sleep: async (ms) => void slept.push(ms) },
    });
    expect(reading).toEqual({
      available: false,
      source: "workos-events",
      reason: "GET /events: WorkOS asked for a 60 s wait (Retry-After), beyond the 10 s one read may wait in total",
    });
    expect(slept).toEqual([]);
  });

  it("WorkOS failing (503 every time) is not available after the bounded retries", async () => {
    await fakeWorkos(KEY, { failures: "always" });
    const reading = await readProviderOutcomes(envWith(), CONNECTIONS, FROM, TO, noWait);
    expect(reading).toEqual({
      available: false,
      source: "workos-events",
      reason: "GET /events: WorkOS answered 503 3 times",
    });
  });

  it("a window older than WorkOS' 30 days of events, or an empty one, is not available", async () => {
    const old = NOW - 31 * 24 * HOUR;
    expect(await readProviderOutcomes(envWith(), CONNECTIONS, old, old + HOUR, noWait)).toMatchObject({
      available: false,
      reason: expect.stringMatching(/before the 30 days WorkOS keeps events$/),
    });
    expect(await readProviderOutcomes(envWith(), CONNECTIONS, TO, FROM, noWait)).toMatchObject({ available: false });
    expect(await fakeRequests(KEY)).toEqual([]);
  });
});
