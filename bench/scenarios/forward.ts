/**
 * Callbacks the router forwards to Auth0, each against the same request sent
 * through the bare fetch(request) Worker (issue target: >= 0.95x):
 *
 *   b   legacy forward: POST /login/callback?connection=<legacy>, ~8 KB SAML form
 *       (the connection is in the query, so the body is never read: streamed on as is)
 *   b-noev  the same through the router with STATS_EVIDENCE=off (what recording evidence costs)
 *   f   fallback forward: GET /login/callback?connection=<migrated>&code=…&state=…&fallback=auth0,
 *       the new provider's bounce; the router strips `fallback` and forwards
 */
import { samlPostBody } from "../fixtures";
import { check } from "../load";
import type { Scenario } from "../scenario";
import { CODE_AND_STATE, FORM, forwarded, only, type ScenarioContext } from "./common";

export function forwardScenarios(ctx: ScenarioContext): Scenario[] {
  const { small } = ctx.tables;
  const legacy = small.legacy[0] ?? "";
  const body = samlPostBody(legacy);
  const bytes = Buffer.byteLength(body);
  const legacyPath = `/login/callback?connection=${legacy}`;
  const legacyPreflight = async (base: URL) =>
    only([
      await check(
        new URL(legacyPath, base),
        { method: "POST", headers: FORM, body },
        200,
        forwarded(bytes, legacyPath),
      ),
    ]);
  const legacyRequest = { method: "POST" as const, path: legacyPath, headers: FORM, body };

  const migrated = small.migrated[0] ?? "";
  const toAuth0 = `/login/callback?connection=${migrated}&${CODE_AND_STATE}`;
  const fallbackPath = `${toAuth0}&fallback=auth0`;
  return [
    {
      id: "b-bare",
      label: `(b') POST callback ${(bytes / 1024).toFixed(1)} KB, bare Worker`,
      worker: "bare",
      expectStatus: 200,
      usesOrigin: true,
      request: legacyRequest,
      preflight: legacyPreflight,
    },
    {
      id: "b",
      label: `(b)  POST callback ${(bytes / 1024).toFixed(1)} KB, router, legacy`,
      worker: "router",
      expectStatus: 200,
      expectReason: "legacy",
      usesOrigin: true,
      request: legacyRequest,
      preflight: legacyPreflight,
    },
    {
      id: "b-noev",
      label: `(b)  POST callback ${(bytes / 1024).toFixed(1)} KB, router, legacy, no evidence recorded`,
      worker: "router-noevidence",
      expectStatus: 200,
      expectReason: "legacy",
      usesOrigin: true,
      request: legacyRequest,
      preflight: legacyPreflight,
    },
    {
      id: "f-bare",
      label: "(f') GET callback &fallback=auth0, bare Worker",
      worker: "bare",
      expectStatus: 200,
      usesOrigin: true,
      request: { method: "GET", path: fallbackPath },
      preflight: async (base) =>
        only([await check(new URL(fallbackPath, base), { method: "GET" }, 200, forwarded(0, fallbackPath))]),
    },
    {
      id: "f",
      label: "(f)  GET callback &fallback=auth0, router",
      worker: "router",
      expectStatus: 200,
      expectReason: "fallback-bounce",
      usesOrigin: true,
      request: { method: "GET", path: fallbackPath },
      // The router strips the one `fallback` parameter and keeps the rest as it was.
      preflight: async (base) =>
        only([await check(new URL(fallbackPath, base), { method: "GET" }, 200, forwarded(0, toAuth0))]),
    },
  ];
}
