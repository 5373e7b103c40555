/**
 * From a callback's facts to a decision: settings, the short-cuts, then
 * identification and decide. The short-cuts are decide.ts's own, asked first
 * so that a request they answer reads no body and no route.
 * The router's handler and the API's /evaluate both call this, so the answer
 * an application gets is the one a callback would get.
 */
import type { Config } from "../config";
import type { LoadedSettings, Lookup, RouteStore } from "../table/store";
import type { PeekableBody } from "./body";
import { decide, shortCut, type Decision } from "./decide";
import { addBodyFacts, needsBodyScan, type CallbackFacts } from "./facts";
import { candidatesOf, fromQueryOnly, identify, type Identification } from "./identify";

export interface Routed {
  facts: CallbackFacts;
  identification: Identification;
  settings: Lookup<LoadedSettings>;
  decision: Decision;
}

export async function routeCallback(
  request: { method: string; contentType: string | null; body: PeekableBody | undefined },
  initialFacts: CallbackFacts,
  store: RouteStore,
  config: Pick<Config, "auth0Tenant" | "bodyScanLimitBytes">,
): Promise<Routed> {
  let facts = initialFacts;
  const settings = await store.settings();
  const early = shortCut({ method: request.method, fallback: facts.fallback, settings });
  if (early !== undefined) return { facts, identification: fromQueryOnly(facts), settings, decision: early };

  if (request.body !== undefined && needsBodyScan(facts, request.method)) {
    facts = await addBodyFacts(facts, request.contentType, request.body, config.bodyScanLimitBytes);
  }
  const identification = await identify(candidatesOf(facts, config.auth0Tenant), store);
  const decision = decide({
    method: request.method,
    fallback: facts.fallback,
    connectionParam: facts.connection,
    settings,
    connection: identification.connection,
    route: identification.route,
  });
  return { facts, identification, settings, decision };
}
