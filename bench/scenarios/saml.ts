/**
 * SAML POSTs without ?connection=: the router finds the connection in the body
 * (the Response <Issuer>, indexed under match:idp:, and the Auth0 audience),
 * the route says legacy, and the POST is forwarded to Auth0 byte for byte.
 * Each against the same POST through the bare fetch(request) Worker:
 *
 *   s8   ~8 KB body   (issue target: >= 0.8x the bare pass-through)
 *   s2m  >= 2 MiB body, its Issuer at the top (issue target: costs no more
 *        than the 8 KB one: router/bare no lower than s8's router/bare);
 *        8 connections on both sides instead of --connections
 */
import { samlPostBody } from "../fixtures";
import { check } from "../load";
import type { Scenario } from "../scenario";
import { LARGE_SAML_BYTES } from "../settings";
import { FORM, forwarded, only, type ScenarioContext } from "./common";

const PATH = "/login/callback";

/** Concurrent 2 MiB uploads (both sides of the pair): 32 of them would measure the loopback's memory copies. */
const LARGE_CONNECTIONS = 8;

function pair(idPrefix: string, size: string, body: string, connections?: number): Scenario[] {
  const bytes = Buffer.byteLength(body);
  const request = { method: "POST" as const, path: PATH, headers: FORM, body };
  const preflight = async (base: URL) =>
    only([await check(new URL(PATH, base), { method: "POST", headers: FORM, body }, 200, forwarded(bytes, PATH))]);
  return [
    {
      id: `${idPrefix}-bare`,
      label: `(${idPrefix}') POST callback ${size} SAML, no connection=, bare Worker`,
      worker: "bare",
      expectStatus: 200,
      usesOrigin: true,
      connections,
      request,
      preflight,
    },
    {
      id: idPrefix,
      label: `(${idPrefix})  POST callback ${size} SAML, identified from body, router`,
      worker: "router",
      expectStatus: 200,
      expectReason: "legacy",
      usesOrigin: true,
      connections,
      request,
      preflight,
    },
  ];
}

export function samlScenarios(ctx: ScenarioContext): Scenario[] {
  const connection = ctx.tables.small.legacyIndexed[0];
  if (connection === undefined) throw new Error("the small table has no legacy connection with an indexed IdP");
  const small = samlPostBody(connection);
  const large = samlPostBody(connection, LARGE_SAML_BYTES);
  return [
    ...pair("s8", `${(Buffer.byteLength(small) / 1024).toFixed(1)} KB`, small),
    ...pair("s2m", `${(Buffer.byteLength(large) / 1024 / 1024).toFixed(2)} MiB`, large, LARGE_CONNECTIONS),
  ];
}
