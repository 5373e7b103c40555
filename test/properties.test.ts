/**
 * Properties that must hold for every request, checked on generated input
 * (fast-check) against the Worker in workerd with the real KV simulation.
 */
import { env } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, inject, it, vi } from "vitest";
import { queryFacts } from "../src/callback/facts";
import { withoutFallback } from "../src/callback/query";
import { SETTINGS_KEY, tableToKvEntries } from "../src/table/kv-layout";
import type { RouteTableFile } from "../src/table/schema";
import { isolateCache } from "../src/table/store";
import { hasMarker, isMarkerSegment } from "./support/bounce-marker";
import { reportExercised, Tally } from "./support/exercised";
import { TEST_TABLE } from "./support/table";
import { call, captureLogs, HOST, postForm, seed, sha256Hex } from "./support/worker";

// Hundreds of requests per property: far above the default 5 s per test.
vi.setConfig({ testTimeout: 180_000 });

const ALLOWED = new Set(["sso.example.com", "localhost:9999"]);

/** Migrated connections of TEST_TABLE whose target is allowed: their GETs and POSTs are redirected. */
const REDIRECTED = ["acme-saml", "initech-saml", "custom-sp", "hooli-adfs", "hooli-okta"];
const connectionValue = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...REDIRECTED) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      ...TEST_TABLE.routes.map((r) => r.connection).filter((c) => !REDIRECTED.includes(c)),
      "unknown-conn",
      "",
      "a".repeat(200),
      "../settings",
      "acme-saml%00",
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);
const param = fc.oneof(
  { weight: 1, arbitrary: connectionValue.map((v) => `connection=${encodeURIComponent(v)}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "fallback=auth0",
      "fallback=AUTH0",
      "%66allback=auth0",
      "f%61llback=auth0",
      "fallback=%61uth0",
      "FALLBACK=auth0",
      "fallback=+auth0",
      "fallback=other",
      "fallback",
      "fallback=auth0%00",
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "iss=https%3A%2F%2Fhooli.okta.test",
      "iss=https%3A%2F%2Flogin.pied.test%2F",
      "code=abc",
      "state=xyz",
      "organization=org_1",
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((s) => encodeURIComponent(s)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) }, // raw, possibly malformed
);
/** Mostly one connection= among other parameters (two would be ambiguous, so not routed). */
const query = fc
  .tuple(
    fc.option(
      connectionValue.map((v) => `connection=${encodeURIComponent(v)}`),
      { freq: 4 },
    ),
    fc.array(param, { maxLength: 5 }),
    fc.nat(),
  )
  .map(([connection, others, at]) => {
    const params = [...others];
    if (connection !== null) params.splice(at % (params.length + 1), 0, connection);
    return params.join("&");
  });

function bodyArb(): fc.Arbitrary<{ contentType: string | null; body: string | Uint8Array<ArrayBuffer> | null }> {
  const saml = inject("saml");
  const samlBodies = [saml.prefixed, saml.defaultNamespace, saml.encrypted, saml.customAudience, saml.otherTenant].map(
    (s) => `SAMLResponse=${encodeURIComponent(s)}&RelayState=r`,
  );
  return fc.oneof(
    fc.constant({ contentType: null, body: null }),
    {
      weight: 3,
      arbitrary: fc
        .constantFrom(...samlBodies, `wa=wsignin1.0&wresult=${encodeURIComponent(saml.wsfed)}`)
        .map((body) => ({ contentType: "application/x-www-form-urlencoded", body })),
    },
    fc
      .string({ maxLength: 300 })
      .map((s) => ({ contentType: "application/x-www-form-urlencoded", body: `SAMLResponse=${s}` })),
    fc.base64String({ maxLength: 400 }).map((s) => ({
      contentType: "application/x-www-form-urlencoded",
      body: `SAMLResponse=${encodeURIComponent(s)}`,
    })),
    fc
      .uint8Array({ maxLength: 2000 })
      .map((b) => ({ contentType: "application/x-www-form-urlencoded", body: new Uint8Array(b) })),
    fc
      .uint8Array({ maxLength: 2000 })
      .map((b) => ({ contentType: "application/octet-stream", body: new Uint8Array(b) })),
  );
}

const settingsArb = fc.record({
  // "passthrough": an older table's kill switch, still read as one.
  mode: fc.constantFrom(
    "route" as const,
    "route" as const,
    "route" as const,
    "shadow" as const,
    "passthrough" as const,
  ),
  killSwitch: fc.record({ on: fc.boolean() }),
  unknown: fc.constantFrom("auth0" as const, "probe" as const),
  redirect: fc.constantFrom("307" as const, "form" as const, "form" as const),
  rollout: fc.record({
    percentage: fc.integer({ min: 0, max: 100 }),
    include: fc.constant<string[]>(["org_stark"]),
    exclude: fc.constant<string[]>([]),
  }),
});

/** TEST_TABLE's routes under `settings`: only the settings key is rewritten (a whole seed per run is slow). */
async function useSettings(settings: Partial<RouteTableFile["settings"]>): Promise<void> {
  const table: RouteTableFile = { ...TEST_TABLE, settings: { ...TEST_TABLE.settings, ...settings } };
  const entry = tableToKvEntries(table, "2026-11-23T00:00:00.000Z").find((e) => e.key === SETTINGS_KEY);
  if (entry === undefined) throw new Error("tableToKvEntries wrote no settings");
  await env.ROUTES.put(entry.key, entry.value);
  isolateCache.clear();
}

describe("properties of every callback", () => {
  beforeAll(() => seed(TEST_TABLE));

  it("is never answered with a 500 and never redirected off the allow-list", async (context) => {
    const tally = new Tally();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "GET", "GET", "POST", "POST", "POST", "POST", "HEAD", "OPTIONS", "PUT"),
        query,
        bodyArb(),
        settingsArb,
        async (method, q, { contentType, body }, settings) => {
          await useSettings(settings);
          const headers: Record<string, string> = { "cname-api-key": "spoofed" };
          if (contentType !== null) headers["content-type"] = contentType;
          const hasBody = method !== "GET" && method !== "HEAD" && body !== null;
          const res = await call(
            new Request(`${HOST}/login/callback${q === "" ? "" : `?${q}`}`, {
              method,
              headers,
              body: hasBody ? body : null,
            }),
          );
          tally.add("tried");
          expect(res.status).toBeLessThan(500);
          const location = res.headers.get("location");
          const fromAuth0 = res.headers.get("x-origin") === "auth0-stand-in";
          if (location !== null) {
            tally.add("redirected");
            expect(ALLOWED.has(new URL(location).host)).toBe(true);
          }
          const form =
            res.status === 200 &&
            !fromAuth0 &&
            res.headers.get("content-security-policy")?.includes("script-src 'sha256-");
          if (fromAuth0 && method !== "HEAD") {
            tally.add("forwarded");
            const got = (await res.json()) as { url: string; headers: Record<string, unknown> };
            expect(got.headers["cname-api-key"]).toBeUndefined();
            expect(hasMarker(got.url.split("?")[1] ?? "")).toBe(false);
          } else if (form === true && method !== "HEAD") {
            // redirect: form — the page's one action is the allow-listed target.
            tally.add("form");
            const action = /action="([^"]+)"/.exec(await res.text())?.[1];
            expect(action, "a redirect form without an action").toBeDefined();
            expect(ALLOWED.has(new URL((action ?? "").replace(/&amp;/g, "&")).host)).toBe(true);
          } else {
            await res.body?.cancel();
          }
        },
      ),
      { numRuns: 400, seed: inject("fuzzSeed") },
    );
    await reportExercised(context, `callbacks: ${tally.toString()}`);
    expect(tally.get("tried")).toBe(400);
    // A router that never redirects, never answers with a form or never forwards fails here.
    expect(tally.get("redirected")).toBeGreaterThanOrEqual(20);
    expect(tally.get("form")).toBeGreaterThanOrEqual(4);
    expect(tally.get("forwarded")).toBeGreaterThanOrEqual(100);
    await seed(TEST_TABLE);
  });

  it("forwards every body to Auth0 byte-identical, scanned or not: real SAML posts across the 16 KiB read and 512 KiB scan limits, cut or whole, and random bytes", async (context) => {
    await seed(TEST_TABLE);
    const READ = 16 * 1024;
    const SCAN = 512 * 1024;
    const encoder = new TextEncoder();
    const sized = inject("saml").sized.map((s) => ({ ...s, bytes: encoder.encode(s.body) }));
    const tally = new Tally();
    const post = fc.oneof(
      {
        weight: 3,
        arbitrary: fc
          .record({
            sample: fc.constantFrom(...sized),
            // A post cut anywhere (a client gone mid-upload, a proxy's limit): still sent on as it came.
            cut: fc.oneof(
              { weight: 2, arbitrary: fc.constant(1) },
              { weight: 1, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
            ),
          })
          .map(({ sample, cut }) => ({
            kind: cut === 1 ? "whole SAML" : "cut SAML",
            bytes: sample.bytes.slice(0, Math.max(1, Math.floor(sample.bytes.length * cut))),
          })),
      },
      {
        weight: 1,
        arbitrary: fc
          .uint8Array({ minLength: 1, maxLength: 4096 })
          .map((b) => ({ kind: "random bytes", bytes: new Uint8Array(b) })),
      },
    );
    await fc.assert(
      fc.asyncProperty(post, fc.boolean(), async ({ kind, bytes }, withConnection) => {
        const path = withConnection ? "/login/callback?connection=globex-saml" : "/login/callback";
        const { result: res, logs } = await captureLogs(() =>
          call(
            new Request(`${HOST}${path}`, {
              method: "POST",
              headers: { "content-type": "application/x-www-form-urlencoded" },
              body: bytes,
            }),
          ),
        );
        const got = (await res.json()) as { bodyLength: number; bodySha256: string };
        expect(got.bodyLength).toBe(bytes.length);
        expect(got.bodySha256).toBe(await sha256Hex(bytes));
        tally.add(kind);
        tally.add(bytes.length < READ ? "< 16 KiB" : bytes.length <= SCAN ? "16-512 KiB" : "> 512 KiB");
        if (kind === "whole SAML" && !withConnection) {
          // Scanned (no connection= to go by): the Audience near the top names globex-saml, whatever the size.
          expect(logs.find((l) => l["event"] === "callback")).toMatchObject({
            identifiedBy: "saml-audience",
            connection: "globex-saml",
          });
          tally.add("identified from the body");
        }
      }),
      { numRuns: 100, seed: inject("fuzzSeed") },
    );
    await reportExercised(context, `bodies: ${tally.toString()}`);
    for (const kind of ["whole SAML", "cut SAML", "random bytes", "< 16 KiB", "16-512 KiB", "> 512 KiB"])
      expect(tally.get(kind), kind).toBeGreaterThanOrEqual(8);
    expect(tally.get("identified from the body")).toBeGreaterThanOrEqual(10);
  });
});

/** A spelling of `fallback=auth0` and what was done to it (for the floors). */
interface Spelling {
  segment: string;
  caseChanged: boolean;
  escaped: boolean;
  padded: boolean;
  malformed: boolean;
}

/** Each letter as it is, in the other case, or percent-escaped (upper- or lower-case hex). */
function respell(word: string): fc.Arbitrary<{ text: string; caseChanged: boolean; escaped: boolean }> {
  const letter = (ch: string) =>
    fc.oneof(
      { weight: 6, arbitrary: fc.constant({ text: ch, caseChanged: false, escaped: false }) },
      {
        weight: 1,
        arbitrary: fc.constant({ text: ch.toUpperCase(), caseChanged: ch.toUpperCase() !== ch, escaped: false }),
      },
      {
        weight: 1,
        arbitrary: fc.boolean().map((lowerHex) => {
          const hex = ch.charCodeAt(0).toString(16).padStart(2, "0");
          return { text: `%${lowerHex ? hex : hex.toUpperCase()}`, caseChanged: false, escaped: true };
        }),
      },
    );
  return fc.tuple(...[...word].map(letter)).map((parts) => ({
    text: parts.map((p) => p.text).join(""),
    caseChanged: parts.some((p) => p.caseChanged),
    escaped: parts.some((p) => p.escaped),
  }));
}

const PADS = ["+", "%20", "%09", "%0A", "%00", " ", "%2B", "%C2%A0", "%EF%BB%BF"];
const BROKEN = ["%", "%G1", "%E0%A4%A", "%FF"];

const spelling: fc.Arbitrary<Spelling> = fc
  .record({
    name: respell("fallback"),
    value: respell("auth0"),
    before: fc.oneof({ weight: 4, arbitrary: fc.constant("") }, { weight: 1, arbitrary: fc.constantFrom(...PADS) }),
    after: fc.oneof({ weight: 4, arbitrary: fc.constant("") }, { weight: 1, arbitrary: fc.constantFrom(...PADS) }),
    broken: fc.oneof({ weight: 6, arbitrary: fc.constant("") }, { weight: 1, arbitrary: fc.constantFrom(...BROKEN) }),
    brokenInName: fc.boolean(),
    equals: fc.constantFrom("=", "=", "=", "=", "%3D", ""),
    lead: fc.constantFrom("", "", "", "", "", "?"),
  })
  .map((g) => {
    const name = g.lead + (g.brokenInName ? g.name.text + g.broken : g.name.text);
    const value = g.before + g.value.text + g.after + (g.brokenInName ? "" : g.broken);
    return {
      segment: `${name}${g.equals}${value}`,
      caseChanged: g.name.caseChanged || g.value.caseChanged,
      escaped: g.name.escaped || g.value.escaped,
      padded: g.before !== "" || g.after !== "",
      malformed: g.broken !== "",
    };
  });

/** The issue's odd spellings, with the rule's answer for each (docs/design.md). */
const FIXED: Array<[segment: string, marker: boolean]> = [
  ["fallback=auth0", true],
  ["%66allback=auth0", true],
  ["f%61llback=auth0", true],
  ["fallback=%61uth0", true],
  ["FALLBACK=auth0", false],
  ["Fallback=auth0", false],
  ["fallback=Auth0", false],
  ["fallback=auth0%20", false],
  ["fallback=+auth0", false],
  ["fallback=auth0%", false],
  ["?fallback=auth0", false],
  ["fallback%3Dauth0", false],
];

describe("the bounce marker: which spellings are fallback=auth0", () => {
  it.each(FIXED)("%s is the marker (stripped, the bounce goes to Auth0): %s", (segment, marker) => {
    expect(isMarkerSegment(segment)).toBe(marker);
    const raw = `a=1&${segment}&b=%20`;
    expect(queryFacts(raw).fallback).toBe(marker);
    expect(withoutFallback(raw)).toBe(marker ? "a=1&b=%20" : raw);
  });

  it("removes exactly the segments a standard reader takes for fallback=auth0, keeps every other byte, and decides the bounce alike", async (context) => {
    const tally = new Tally();
    const segment = fc.oneof(
      { weight: 4, arbitrary: spelling },
      { weight: 1, arbitrary: fc.constantFrom(...FIXED.map(([s]) => s)) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          "fallback=auth0",
          "",
          "a=1",
          "x=%E0%A4%A",
          "fallback",
          "fallback=no",
          "connection=acme-saml",
        ),
      },
      { weight: 1, arbitrary: fc.string({ maxLength: 12 }).filter((s) => !s.includes("&")) },
    );
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (segments) => {
        const texts = segments.map((s) => (typeof s === "string" ? s : s.segment));
        for (const text of texts) if (text === "fallback=auth0") tally.add("literal marker");
        for (const s of segments) {
          if (typeof s === "string") continue;
          const marker = isMarkerSegment(s.segment);
          tally.add(marker ? "marker" : "not marker");
          if (marker && s.escaped) tally.add("escaped marker");
          if (!marker && s.caseChanged && !s.padded && !s.malformed) tally.add("case variant");
          if (!marker && s.padded && !s.caseChanged && !s.malformed) tally.add("padded");
          if (s.malformed) tally.add("malformed");
        }
        const raw = texts.join("&");
        const kept = raw === "" ? [] : raw.split("&").filter((s) => !isMarkerSegment(s));
        expect(withoutFallback(raw)).toBe(kept.join("&"));
        expect(queryFacts(raw).fallback).toBe(raw !== "" && kept.length < raw.split("&").length);
      }),
      { numRuns: 2000, seed: inject("fuzzSeed") },
    );
    await reportExercised(context, `bounce-marker spellings: ${tally.toString()}`);
    // Each kind of spelling the rule decides on, generated (not only the fixed list).
    for (const kind of ["literal marker", "escaped marker", "case variant", "padded", "malformed"])
      expect(tally.get(kind), kind).toBeGreaterThanOrEqual(150);
  });
});

describe("a fuzzed table never leaks onto the callback path", () => {
  it("keeps the invariants for generated route tables: GETs and POSTs, redirected only to allowed hosts", async (context) => {
    const hosts = fc.constantFrom(
      "sso.example.com",
      "evil.test",
      "sso.example.com.evil.test",
      "localhost:9999",
      "localhost:9998",
    );
    const tally = new Tally();
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            state: fc.constantFrom("legacy" as const, "migrated" as const, "rollout" as const),
            scheme: fc.constantFrom("https", "http"),
            host: hosts,
            method: fc.constantFrom("GET", "POST"),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        hosts,
        fc.constantFrom("307" as const, "form" as const),
        async (routes, defaultHost, redirect) => {
          await seed({
            settings: {
              defaultTarget: `https://${defaultHost}/cb`,
              unknown: "probe",
              redirect,
              rollout: { percentage: 50, include: [], exclude: [] },
            },
            routes: routes.map((r, i) => ({
              connection: `c${i}`,
              state: r.state,
              target: `${r.scheme}://${r.host}/cb`,
            })),
          });
          tally.add(routes.length > 5 ? "tables of > 5 routes" : "tables of ≤ 5 routes");
          // c0…c(n-1) are in the table, cn is not (unknown: probe, so defaultTarget).
          for (let i = 0; i <= routes.length; i++) {
            const method = routes[i]?.method ?? "POST";
            const res = await call(
              method === "GET"
                ? new Request(`${HOST}/login/callback?connection=c${i}`)
                : postForm(`/login/callback?connection=c${i}`, "SAMLResponse=PHNhbWxwOlJlc3BvbnNlLz4%3D&RelayState=r"),
            );
            tally.add(method);
            expect(res.status).toBeLessThan(500);
            const location = res.headers.get("location");
            const body = res.headers.get("x-origin") === null ? await res.text() : (await res.body?.cancel(), "");
            const action = /action="([^"]+)"/.exec(body)?.[1]?.replace(/&amp;/g, "&");
            const target = location ?? action;
            const route = routes[i];
            if (
              route?.state === "migrated" &&
              ALLOWED.has(route.host) &&
              (route.scheme === "https" || route.host.startsWith("localhost"))
            ) {
              // A migrated connection with an allowed target is sent there (https, or http to localhost).
              expect(target === undefined ? undefined : new URL(target).host).toBe(route.host);
              tally.add("migrated routes redirected");
            }
            if (target !== undefined) {
              tally.add(location !== null ? "redirected (307)" : "redirected (form)");
              if (method === "POST") tally.add("POSTs redirected");
              expect(ALLOWED.has(new URL(target).host)).toBe(true);
            }
          }
        },
      ),
      { numRuns: 60, seed: inject("fuzzSeed") },
    );
    await seed(TEST_TABLE);
    await reportExercised(context, `generated tables: ${tally.toString()}`);
    expect(tally.get("tables of > 5 routes")).toBeGreaterThanOrEqual(10);
    expect(tally.get("redirected (307)")).toBeGreaterThanOrEqual(20);
    expect(tally.get("redirected (form)")).toBeGreaterThanOrEqual(10);
    expect(tally.get("POSTs redirected")).toBeGreaterThanOrEqual(20);
    expect(tally.get("migrated routes redirected")).toBeGreaterThanOrEqual(20);
  });
});
