/**
 * From a callback's facts to a decision: settings, identification, decide.
 * The router's handler and the API's /evaluate both call this, so the answer
 * an application gets is the one a callback would get.
 */
import type { Config } from "../config";
import type { LoadedSettings, Lookup, RouteStore } from "../table/store";
import type { PeekableBody } from "./body";
import { decide, ROUTED_METHODS, type Decision } from "./decide";
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
  let identification: Identification = fromQueryOnly(facts);
  const settings = await store.settings();
  const routing =
    settings.status === "found" &&
    settings.value.mode !== "passthrough" &&
    !facts.fallback &&
    ROUTED_METHODS.has(request.method);
  if (routing) {
    if (request.body !== undefined && needsBodyScan(facts, request.method)) {
      facts = await addBodyFacts(facts, request.contentType, request.body, config.bodyScanLimitBytes);
    }
    identification = await identify(candidatesOf(facts, config.auth0Tenant), store);
  }
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
