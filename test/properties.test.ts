/**
 * Properties that must hold for every request, checked on generated input
 * (fast-check) against the Worker in workerd with the real KV simulation.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, inject, it, vi } from "vitest";
import { withoutFallback } from "../src/callback/query";
import type { RouteTableFile } from "../src/table/schema";
import { TEST_TABLE } from "./support/table";
import { call, HOST, seed, sha256Hex } from "./support/worker";

// Hundreds of requests per property: far above the default 5 s per test.
vi.setConfig({ testTimeout: 180_000 });

const ALLOWED = new Set(["sso.example.com", "localhost:9999"]);

const connectionValue = fc.oneof(
  fc.constantFrom(
    ...TEST_TABLE.routes.map((r) => r.connection),
    "unknown-conn",
    "",
    "a".repeat(200),
    "../settings",
    "acme-saml%00",
  ),
  fc.string({ maxLength: 40 }),
);
const param = fc.oneof(
  connectionValue.map((v) => `connection=${encodeURIComponent(v)}`),
  fc.constantFrom(
    "fallback=auth0",
    "fallback=AUTH0",
    "%66allback=auth0",
    "fallback=other",
    "fallback",
    "fallback=auth0%00",
  ),
  fc.constantFrom(
    "iss=https%3A%2F%2Fhooli.okta.test",
    "iss=https%3A%2F%2Flogin.pied.test%2F",
    "code=abc",
    "state=xyz",
    "organization=org_1",
  ),
  fc.string({ maxLength: 30 }).map((s) => encodeURIComponent(s)),
  fc.string({ maxLength: 30 }), // raw, possibly malformed
);
const query = fc.array(param, { maxLength: 6 }).map((ps) => ps.join("&"));

function bodyArb(): fc.Arbitrary<{ contentType: string | null; body: string | Uint8Array<ArrayBuffer> | null }> {
  const saml = inject("saml");
  const samlBodies = [saml.prefixed, saml.defaultNamespace, saml.encrypted, saml.customAudience, saml.otherTenant].map(
    (s) => `SAMLResponse=${encodeURIComponent(s)}&RelayState=r`,
  );
  return fc.oneof(
    fc.constant({ contentType: null, body: null }),
    fc.constantFrom(...samlBodies, `wa=wsignin1.0&wresult=${encodeURIComponent(saml.wsfed)}`).map((body) => ({
      contentType: "application/x-www-form-urlencoded",
      body,
    })),
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
  mode: fc.constantFrom("route" as const, "shadow" as const, "passthrough" as const),
  unknown: fc.constantFrom("auth0" as const, "probe" as const),
  redirect: fc.constantFrom("307" as const, "form" as const),
  rollout: fc.record({
    percentage: fc.integer({ min: 0, max: 100 }),
    include: fc.constant<string[]>(["org_stark"]),
    exclude: fc.constant<string[]>([]),
  }),
});

describe("properties of every callback", () => {
  beforeAll(() => seed(TEST_TABLE));

  it("is never answered with a 500 and never redirected off the allow-list", async () => {
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "POST", "HEAD", "OPTIONS", "PUT"),
        query,
        bodyArb(),
        fc.option(settingsArb, { nil: undefined }),
        async (method, q, { contentType, body }, settings) => {
          if (settings !== undefined) {
            const table: RouteTableFile = { ...TEST_TABLE, settings: { ...TEST_TABLE.settings, ...settings } };
            await seed(table);
          }
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
          tried++;
          expect(res.status).not.toBe(500);
          expect(res.status).toBeLessThan(500);
          const location = res.headers.get("location");
          if (location !== null) expect(ALLOWED.has(new URL(location).host)).toBe(true);
          if (res.status === 200 && res.headers.get("x-origin") === "auth0-stand-in" && method !== "HEAD") {
            const got = (await res.json()) as { url: string; headers: Record<string, unknown> };
            expect(got.headers["cname-api-key"]).toBeUndefined();
            expect(got.url).not.toMatch(/(?:^|[?&])fallback=auth0(?:&|$)/i);
          } else {
            await res.body?.cancel();
          }
          if (
            res.status === 200 &&
            res.headers.get("content-security-policy")?.includes("script-src 'sha256-") === true
          ) {
            // form mode: the only action is the allow-listed target
            const action = /action="([^"]+)"/.exec(
              await res
                .clone()
                .text()
                .catch(() => ""),
            )?.[1];
            if (action !== undefined) expect(ALLOWED.has(new URL(action.replace(/&amp;/g, "&")).host)).toBe(true);
          }
        },
      ),
      { numRuns: 400 },
    );
    expect(tried).toBeGreaterThanOrEqual(400);
    await seed(TEST_TABLE);
  });

  it("forwards every body to Auth0 byte-identical, scanned or not", async () => {
    await seed(TEST_TABLE);
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 4096 }),
        fc.boolean(),
        async (bytes, withConnection) => {
          const path = withConnection ? "/login/callback?connection=globex-saml" : "/login/callback";
          const res = await call(
            new Request(`${HOST}${path}`, {
              method: "POST",
              headers: { "content-type": "application/x-www-form-urlencoded" },
              body: bytes,
            }),
          );
          const got = (await res.json()) as { bodyLength: number; bodySha256: string };
          expect(got.bodyLength).toBe(bytes.length);
          expect(got.bodySha256).toBe(await sha256Hex(new Uint8Array(bytes)));
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("properties of the query handling", () => {
  const segment = fc.oneof(
    fc.constantFrom(
      "fallback=auth0",
      "fallback=Auth0",
      "%66allback=auth0",
      "fallback=no",
      "",
      "x=%E0%A4%A",
      "a=1",
      "a=1",
    ),
    fc.string({ maxLength: 12 }).filter((s) => !s.includes("&")),
  );

  it("removes exactly the fallback=auth0 segments and keeps every other byte", () => {
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (segments) => {
        const raw = segments.join("&");
        const out = withoutFallback(raw);
        const kept = raw === "" ? [] : raw.split("&").filter((s) => !/^(?:fallback|%66allback)=auth0$/i.test(s));
        expect(out).toBe(kept.join("&"));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("a fuzzed table never leaks onto the callback path", () => {
  it("keeps the invariants for generated route tables", async () => {
    const hosts = fc.constantFrom(
      "sso.example.com",
      "evil.test",
      "sso.example.com.evil.test",
      "localhost:9999",
      "localhost:9998",
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            state: fc.constantFrom("legacy" as const, "migrated" as const, "rollout" as const),
            scheme: fc.constantFrom("https", "http"),
            host: hosts,
          }),
          { minLength: 1, maxLength: 5 },
        ),
        hosts,
        async (routes, defaultHost) => {
          await seed({
            settings: {
              defaultTarget: `https://${defaultHost}/cb`,
              unknown: "probe",
              rollout: { percentage: 50, include: [], exclude: [] },
            },
            routes: routes.map((r, i) => ({
              connection: `c${i}`,
              state: r.state,
              target: `${r.scheme}://${r.host}/cb`,
            })),
          });
          for (let i = 0; i <= routes.length; i++) {
            const res = await call(new Request(`${HOST}/login/callback?connection=c${i}`));
            expect(res.status).toBeLessThan(500);
            const location = res.headers.get("location");
            if (location !== null) expect(ALLOWED.has(new URL(location).host)).toBe(true);
            await res.body?.cancel();
          }
        },
      ),
      { numRuns: 60 },
    );
    await seed(TEST_TABLE);
  });
});
