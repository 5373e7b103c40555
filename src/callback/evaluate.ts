/**
 * "Where should this login go?" for an application or an operator: the
 * router's own decision (routeCallback) for the callbacks this connection's
 * IdP really sends, read from the same KV replica the router reads.
 *
 * A callback that names its connection (SAML's ACS URL) is one case; an OIDC
 * callback names none and is identified only by an issuer the IdP may not
 * send. Each callback shape the route's protocol produces is decided as the
 * router would decide it (table/routability.ts), and the answer is "new" only
 * when every usual shape would reach the new provider: never "new" for a
 * connection whose callbacks the router would not identify.
 */
import { affinityState, type AffinityState } from "../affinity/state";
import type { Config } from "../config";
import type { LoadedSettings, Lookup } from "../table/store";
import { routabilityOf, SHAPE_LABEL, type CallbackShape, type Routability } from "../table/routability";
import type { RouteStore } from "../table/store";
import { redirectLocation } from "../targets";
import { isRetiredInput, type Decision } from "./decide";
import { queryFacts, type CallbackFacts } from "./facts";
import { routeCallback } from "./route-callback";

export interface ShapeEvaluation {
  shape: CallbackShape;
  usual: boolean;
  destination: Decision["destination"];
  reason: string;
  /** How the router identified it ("none" when it did not). */
  identifiedBy: string;
}

export interface Evaluation {
  connection: string | null;
  /**
   * What happens to each callback shape of the route, in one line, e.g. "SAML post with
   * connection= → new (migrated); OIDC GET without iss → auth0 (unidentified, unknown: auth0)".
   * Shapes only some IdPs send are marked "(some IdPs)". Absent when there is no route.
   */
  summary?: string;
  /** "page": Auth0 is retired and the router answers the callback itself (decide.ts, PageDecision). */
  destination: Decision["destination"];
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
  /** Whether the route's callbacks can be identified, and how (absent when there is no route). */
  routability?: Routability;
  /** Each callback shape of the route's protocol, decided as the router would (no affinity handle). */
  callbacks?: ShapeEvaluation[];
  /** When the answer differs from the route's state: what really happens, in a sentence. */
  explanation?: string;
}

export type EvalConfig = Pick<Config, "auth0Tenant" | "bodyScanLimitBytes" | "affinity" | "auth0Retired">;

export async function evaluateConnection(
  connection: string,
  store: RouteStore,
  config: EvalConfig,
): Promise<Evaluation> {
  const named = await decideShape(
    { method: "GET", facts: queryFacts(`connection=${encodeURIComponent(connection)}`) },
    store,
    config,
  );
  const affinity = affinityOf(config, named.settings);
  const route = await store.route(connection);
  if (route.status !== "found") return evaluationOf(named.decision, named.connection, affinity);

  const routability = routabilityOf(route.value);
  const callbacks: Array<ShapeEvaluation & { decision: Decision }> = [];
  for (const s of routability.shapes) {
    const decided = await decideShape(callbackOf(s.shape, route.value, config.auth0Tenant), store, config);
    callbacks.push({
      shape: s.shape,
      usual: s.usual,
      destination: decided.decision.destination,
      reason: decided.decision.reason,
      identifiedBy: decided.identifiedBy,
      decision: decided.decision,
    });
  }
  // The answer: the worst of the usual shapes (a page, then auth0, beats new), else the connection-named decision.
  const usual = callbacks.filter((c) => c.usual);
  const worst = usual.find((c) => c.destination === "page") ?? usual.find((c) => c.destination === "auth0") ?? usual[0];
  const answer = worst?.decision ?? named.decision;
  const unknown = named.settings.status === "found" ? named.settings.value.unknown : undefined;
  // summary first: what happens to each shape, before the worst case.
  const { connection: _named, ...worstCase } = evaluationOf(answer, connection, affinity);
  const out: Evaluation = {
    connection,
    summary: callbacks.map((c) => shapeSummary(c, unknown)).join("; "),
    ...worstCase,
  };
  out.routability = routability;
  out.callbacks = callbacks.map(({ decision: _decision, ...rest }) => rest);
  if (worst !== undefined && worst.identifiedBy === "none") {
    out.explanation =
      answer.destination === "new"
        ? `its ${SHAPE_LABEL[worst.shape]} callbacks are not identified; they reach the new provider only through unknown: probe (a login Auth0 started returns to Auth0 ${affinity === "on" ? "through affinity" : "only through the new provider's fallback bounce: affinity is " + affinity})`
        : `its ${SHAPE_LABEL[worst.shape]} callbacks are not identified and go to Auth0 (${answer.reason}); a login started at the new provider would fail — start logins at Auth0, or set unknown: probe`;
  }
  return out;
}

/** "OIDC GET without iss → auth0 (unidentified, unknown: auth0)": one shape's line of `summary`. */
function shapeSummary(c: ShapeEvaluation, unknown: string | undefined): string {
  const policy =
    (c.reason === "unidentified" || c.reason === "unknown-connection") && unknown !== undefined
      ? `, unknown: ${unknown}`
      : "";
  return `${SHAPE_LABEL[c.shape]}${c.usual ? "" : " (some IdPs)"} → ${c.destination} (${c.reason}${policy})`;
}

function evaluationOf(decision: Decision, connection: string | null, affinity: AffinityState): Evaluation {
  const out: Evaluation = { connection, destination: decision.destination, reason: decision.reason, affinity };
  if (decision.destination === "new") out.target = redirectLocation(decision.target, "");
  if (decision.destination === "auth0" && decision.shadowOf !== undefined) {
    out.shadow = { destination: "new", target: redirectLocation(decision.shadowOf.target, "") };
  }
  return out;
}

async function decideShape(
  callback: { method: string; facts: CallbackFacts },
  store: RouteStore,
  config: EvalConfig,
): Promise<{
  decision: Decision;
  connection: string | null;
  identifiedBy: string;
  settings: Lookup<LoadedSettings>;
}> {
  const { decision, identification, settings } = await routeCallback(
    { method: callback.method, contentType: null, body: undefined },
    callback.facts,
    store,
    config,
  );
  return {
    decision,
    connection: identification.connection ?? null,
    identifiedBy: identification.identifiedBy,
    settings,
  };
}

/**
 * The facts of a callback of `shape` for this route, as the body scan would
 * read them (test/evaluate-agrees.test.ts sends the real requests and checks
 * the router answers the same). Values the table does not hold are values the
 * table cannot know: absent.
 */
export function callbackOf(
  shape: CallbackShape,
  route: { connection: string; match?: { spEntityId?: string; idpEntityId?: string; oidcIssuer?: string } | undefined },
  tenant: string | undefined,
): { method: string; facts: CallbackFacts } {
  const match = route.match ?? {};
  const post = (facts: Partial<CallbackFacts>): { method: string; facts: CallbackFacts } => ({
    method: "POST",
    facts: { ...queryFacts(""), ...facts },
  });
  const issuers = match.idpEntityId === undefined ? [] : [match.idpEntityId];
  switch (shape) {
    case "saml-acs":
      return { method: "POST", facts: queryFacts(`connection=${encodeURIComponent(route.connection)}`) };
    case "saml-post-without-connection":
      return post({
        samlAudiences: [match.spEntityId ?? `urn:auth0:${tenant ?? "tenant"}:${route.connection}`],
        samlIssuers: issuers,
        bodyScan: "saml",
      });
    case "saml-encrypted-without-connection":
      return post({ samlIssuers: issuers, bodyScan: "saml" });
    case "wsfed-post":
      return post({ samlAudiences: [`urn:auth0:${tenant ?? "tenant"}`], samlIssuers: issuers, bodyScan: "wsfed" });
    case "oidc-code-with-iss":
      return {
        method: "GET",
        facts: queryFacts(
          match.oidcIssuer === undefined
            ? "code=c&state=s"
            : `code=c&state=s&iss=${encodeURIComponent(match.oidcIssuer)}`,
        ),
      };
    case "oidc-form-post":
      return post({ oidcIssuers: match.oidcIssuer === undefined ? [] : [match.oidcIssuer], bodyScan: "id_token" });
    case "oidc-code-without-iss":
      return { method: "GET", facts: queryFacts("code=c&state=s") };
  }
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
  config: EvalConfig,
): Promise<OrganizationEvaluation> {
  const settings = await store.settings();
  const affinity = affinityOf(config, settings);
  // Retired: the new provider is the only place a login can start.
  const retired = isRetiredInput({ settings, auth0Retired: config.auth0Retired || store.retiredSeen() });
  const otherwise = retired ? "new" : "auth0";
  const index = await store.organizationConnections(organization);
  if (index.status === "unavailable") {
    return { organization, destination: otherwise, reason: "route-table-unavailable", connections: [], affinity };
  }
  if (index.status === "invalid") {
    return { organization, destination: otherwise, reason: "route-invalid", connections: [], affinity };
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
      destination: decision.destination === "page" ? otherwise : decision.destination,
      reason: "unknown-organization",
      connections: [],
      affinity,
    };
  }
  const connections = await Promise.all(index.value.map((c) => evaluateConnection(c, store, config)));
  const allNew = connections.length > 0 && connections.every((e) => e.destination === "new");
  const reasons = new Set(connections.map((e) => e.reason));
  const reason = reasons.size === 1 ? ([...reasons][0] ?? "mixed") : "mixed";
  return { organization, destination: allNew ? "new" : otherwise, reason, connections, affinity };
}

function affinityOf(config: Pick<Config, "affinity">, settings: Lookup<LoadedSettings>): AffinityState {
  return affinityState(
    config.affinity !== undefined,
    settings.status === "found" ? settings.value.affinity : undefined,
  );
}
