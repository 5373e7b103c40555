/**
 * "Where should this login go?" for an application or an operator: the
 * router's own decision (routeCallback) for a callback that names the
 * connection, read from the same KV replica the router reads.
 */
import { affinityState, type AffinityState } from "../affinity/state";
import type { Config } from "../config";
import type { LoadedSettings, Lookup } from "../table/store";
import type { RouteStore } from "../table/store";
import { redirectLocation } from "../targets";
import { queryFacts } from "./facts";
import { routeCallback } from "./route-callback";

export interface Evaluation {
  connection: string | null;
  destination: "new" | "auth0";
  reason: string;
  /** Where a callback would be redirected (the target, without a query). */
  target?: string;
  /** In shadow mode: what routing would have done. */
  shadow?: { destination: "new"; target: string };
  /**
   * Transaction affinity's state. When "on", a callback of a login Auth0 started goes
   * back to Auth0 whatever this answer says (reason auth0-transaction).
   */
  affinity: AffinityState;
}

export async function evaluateConnection(
  connection: string,
  store: RouteStore,
  config: Pick<Config, "auth0Tenant" | "bodyScanLimitBytes" | "affinity">,
): Promise<Evaluation> {
  const facts = queryFacts(`connection=${encodeURIComponent(connection)}`);
  const { decision, identification, settings } = await routeCallback(
    { method: "GET", contentType: null, body: undefined },
    facts,
    store,
    config,
  );
  const out: Evaluation = {
    connection: identification.connection ?? null,
    destination: decision.destination,
    reason: decision.reason,
    affinity: affinityOf(config, settings),
  };
  if (decision.destination === "new") out.target = redirectLocation(decision.target, "");
  if (decision.destination === "auth0" && decision.shadowOf !== undefined) {
    out.shadow = { destination: "new", target: redirectLocation(decision.shadowOf.target, "") };
  }
  return out;
}

export interface OrganizationEvaluation {
  organization: string;
  destination: "new" | "auth0";
  reason: string;
  connections: Evaluation[];
  affinity: AffinityState;
}

/**
 * An organization starts on the new provider only if every one of its
 * connections would be routed there; otherwise Auth0 (which can still serve
 * them all). An organization with no route gets the unknown-connection policy,
 * exactly as its callbacks would.
 */
export async function evaluateOrganization(
  organization: string,
  store: RouteStore,
  config: Pick<Config, "auth0Tenant" | "bodyScanLimitBytes" | "affinity">,
): Promise<OrganizationEvaluation> {
  const affinity = affinityOf(config, await store.settings());
  const index = await store.organizationConnections(organization);
  if (index.status === "unavailable") {
    return { organization, destination: "auth0", reason: "route-table-unavailable", connections: [], affinity };
  }
  if (index.status === "invalid") {
    return { organization, destination: "auth0", reason: "route-invalid", connections: [], affinity };
  }
  if (index.status === "absent") {
    // No route: exactly what the router does with a callback it cannot attribute.
    const { decision } = await routeCallback(
      { method: "GET", contentType: null, body: undefined },
      queryFacts(""),
      store,
      config,
    );
    return {
      organization,
      destination: decision.destination,
      reason: "unknown-organization",
      connections: [],
      affinity,
    };
  }
  const connections = await Promise.all(index.value.map((c) => evaluateConnection(c, store, config)));
  const allNew = connections.length > 0 && connections.every((e) => e.destination === "new");
  const reasons = new Set(connections.map((e) => e.reason));
  const reason = reasons.size === 1 ? ([...reasons][0] ?? "mixed") : "mixed";
  return { organization, destination: allNew ? "new" : "auth0", reason, connections, affinity };
}

function affinityOf(config: Pick<Config, "affinity">, settings: Lookup<LoadedSettings>): AffinityState {
  return affinityState(
    config.affinity !== undefined,
    settings.status === "found" ? settings.value.affinity : undefined,
  );
}
