/**
 * From a callback's facts to a decision: settings, the short-cuts, then
 * identification and decide. The short-cuts are decide.ts's own, asked first
 * so that a request they answer reads no body and no route.
 * Step 2a (started by Auth0) needs the affinity cookie, and for a form POST the
 * body scan's handles: it is checked after the first short-cuts, before
 * identification, and a match reads no route at all.
 * The router's handler and the API's /evaluate both call this, so the answer
 * an application gets is the one a callback would get.
 */
import {
  affinityWithoutCookie,
  checkCallbackAffinity,
  handlesOfBody,
  handlesOfFields,
  type AffinityCheck,
} from "../affinity/callback";
import type { Config } from "../config";
import type { LoadedSettings, Lookup, RouteStore } from "../table/store";
import type { PeekableBody } from "./body";
import { decide, decideRoute, isRetiredInput, shortCut, type Decision } from "./decide";
import { addBodyFacts, needsBodyScan, type CallbackFacts } from "./facts";
import { isFormUrlEncoded, parseFormBody } from "./form";
import { candidatesOf, fromQueryOnly, identify, type Identification } from "./identify";

export interface Routed {
  facts: CallbackFacts;
  identification: Identification;
  settings: Lookup<LoadedSettings>;
  decision: Decision;
  /** The affinity check; undefined when affinity is not configured or a short-cut answered first. */
  affinity: AffinityCheck | undefined;
}

/** What the affinity check needs from the request: its cookies, and the secret. */
export interface AffinityRequest {
  secret: string;
  cookieHeader: string | null;
}

type CallbackRequest = { method: string; contentType: string | null; body: PeekableBody | undefined };

/**
 * routeCallback's answer when it needs no I/O and no wait: the settings and the one route
 * it would read are fresh in the isolate cache (RouteStore.cachedSettings / cachedRoute),
 * and neither a body scan nor an affinity match (an HMAC) is needed: affinity off, or no
 * affinity cookie in the request (affinityWithoutCookie). Synchronous, so a
 * cached callback's 307 is answered without a promise; undefined whenever routeCallback
 * would read KV, the body or a cookie (then ask it). It takes routeCallback's steps in
 * routeCallback's order and answers what routeCallback would (test/callback-cached.test.ts).
 */
export function routeFromCache(
  method: string,
  facts: CallbackFacts,
  store: RouteStore,
  config: Pick<Config, "auth0Tenant" | "auth0Retired">,
  affinityRequest?: AffinityRequest,
): Routed | undefined {
  const settings = store.cachedSettings();
  if (settings === undefined) return undefined;
  const auth0Retired = knownRetired(config, store);
  const early = shortCut({ method, fallback: facts.fallback, settings, auth0Retired });
  if (early !== undefined) {
    // A bounce without connection= is identified from the body or issuers, for the log and counts.
    if (early.reason === "fallback-bounce" && facts.connection.kind === "none") return undefined;
    return { facts, identification: fromQueryOnly(facts), settings, decision: early, affinity: undefined };
  }
  let affinity: AffinityCheck | undefined;
  // Retired: Auth0 started nothing that could still finish; no handle is checked.
  if (affinityRequest !== undefined && settings.status === "found" && !isRetiredInput({ settings, auth0Retired })) {
    // With an affinity cookie the handles decide (maybe a body scan, an HMAC): routeCallback's.
    affinity = settings.value.affinity === "off" ? AFFINITY_OFF : affinityWithoutCookie(affinityRequest.cookieHeader);
    if (affinity === undefined) return undefined;
  }
  if (needsBodyScan(facts, method)) return undefined;
  const candidates = candidatesOf(facts, config.auth0Tenant);
  let identification: Identification;
  if (candidates.length === 0) {
    identification = { connection: undefined, identifiedBy: "none", route: undefined };
  } else {
    const [only] = candidates;
    // Issuers go through the match index (more reads): routeCallback's.
    if (candidates.length > 1 || only === undefined || only.by !== "query") return undefined;
    const route = store.cachedRoute(only.connection);
    if (route === undefined) return undefined;
    // identify()'s answer for one named candidate, whatever the route's status.
    identification = { connection: only.connection, identifiedBy: "query", route };
  }
  // shortCut answered undefined above, and no affinity match: the rest of decide().
  const decision = decideRoute({
    method,
    fallback: facts.fallback,
    connectionParam: facts.connection,
    settings,
    connection: identification.connection,
    route: identification.route,
    auth0Transaction: false,
    auth0Retired,
  });
  return { facts, identification, settings, decision, affinity };
}

/** Retired without the settings' word: AUTH0_RETIRED, or the last settings this isolate read. */
function knownRetired(config: Pick<Config, "auth0Retired">, store: RouteStore): boolean {
  return config.auth0Retired || store.retiredSeen();
}

const AFFINITY_OFF: AffinityCheck = Object.freeze({ outcome: "off" });

export async function routeCallback(
  request: CallbackRequest,
  initialFacts: CallbackFacts,
  store: RouteStore,
  config: Pick<Config, "auth0Tenant" | "bodyScanLimitBytes" | "auth0Retired">,
  affinityRequest?: AffinityRequest,
): Promise<Routed> {
  let facts = initialFacts;
  // The body is scanned at most once: for a bounce's connection, the affinity handles (when a
  // cookie asks) or to identify.
  let scanned = false;
  const scanBody = async (): Promise<void> => {
    if (scanned || request.body === undefined || request.method !== "POST") return;
    scanned = true;
    facts = await addBodyFacts(facts, request.contentType, request.body, config.bodyScanLimitBytes);
  };

  const settings = await store.settings();
  const auth0Retired = knownRetired(config, store);
  const early = shortCut({ method: request.method, fallback: facts.fallback, settings, auth0Retired });
  if (early !== undefined && early.reason === "fallback-bounce" && facts.connection.kind === "none") {
    // The decision is made (Auth0); the connection is looked up only so the bounce is
    // logged and counted under the connection its login was sent for (an OIDC `iss`, a
    // SAML Issuer or Audience), as that login was: /stats' fallbackShare is per connection.
    await scanBody();
    const identification = await identify(candidatesOf(facts, config.auth0Tenant), store);
    return { facts, identification, settings, decision: early, affinity: undefined };
  }
  if (early !== undefined) {
    return { facts, identification: fromQueryOnly(facts), settings, decision: early, affinity: undefined };
  }

  let affinity: AffinityCheck | undefined;
  if (affinityRequest !== undefined && settings.status === "found" && !isRetiredInput({ settings, auth0Retired })) {
    affinity =
      settings.value.affinity === "off"
        ? { outcome: "off" }
        : await checkCallbackAffinity({
            secret: affinityRequest.secret,
            cookieHeader: affinityRequest.cookieHeader,
            handles: async () => {
              const inQuery = handlesOfFields(facts.params);
              if (inQuery.length > 0) return inQuery;
              await scanBody();
              const scannedHandles = handlesOfBody(facts.bodyHandles, facts.inResponseTo);
              if (scannedHandles.length > 0 || request.body === undefined || !isFormUrlEncoded(request.contentType)) {
                return scannedHandles;
              }
              // The scan stops after the message; ADFS posts wctx after wresult. Read on, within the limit.
              const peek = await request.body.peek(config.bodyScanLimitBytes);
              return handlesOfFields(parseFormBody(peek.bytes, peek.complete));
            },
          });
  }

  let identification: Identification;
  if (affinity?.outcome === "match") {
    // Auth0's own login: no route is read. The connection is the one the login start named, if any.
    identification =
      facts.connection.kind === "one" || affinity.connection === undefined
        ? fromQueryOnly(facts)
        : { connection: affinity.connection, identifiedBy: "affinity", route: undefined };
  } else {
    if (needsBodyScan(facts, request.method)) await scanBody();
    identification = await identify(candidatesOf(facts, config.auth0Tenant), store);
  }
  const decision = decide({
    method: request.method,
    fallback: facts.fallback,
    connectionParam: facts.connection,
    settings,
    connection: identification.connection,
    route: identification.route,
    auth0Transaction: affinity?.outcome === "match",
    auth0Retired,
  });
  return { facts, identification, settings, decision, affinity };
}
