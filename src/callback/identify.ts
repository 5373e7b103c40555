/**
 * From what a callback says to the connection it belongs to. The candidates
 * are derived purely from the facts, in docs/design.md's order; resolving them
 * against the table is the only I/O, one key per candidate.
 */
import type { MatchKind } from "../table/kv-layout";
import { isConnectionName } from "../table/schema";
import type { LoadedRoute, Lookup, RouteStore } from "../table/store";
import type { CallbackFacts } from "./facts";

export type IdentifiedBy =
  | "query"
  | "sp-entity-id"
  | "saml-audience"
  | "idp-issuer"
  | "oidc-issuer"
  /** The connection the login start named, from the affinity cookie (src/affinity). */
  | "affinity"
  | "none";

export type Candidate =
  | { by: "query" | "saml-audience"; connection: string }
  | { by: "sp-entity-id" | "idp-issuer" | "oidc-issuer"; kind: MatchKind; value: string };

/**
 * Auth0's default SP entity ID is `urn:auth0:{tenant}:{connection}`; the
 * WS-Fed realm `urn:auth0:{tenant}` names no connection and yields nothing.
 */
export function connectionFromAudience(audience: string, tenant: string | undefined): string | undefined {
  const parts = audience.split(":");
  if (parts.length !== 4 || parts[0] !== "urn" || parts[1] !== "auth0") return undefined;
  const [, , audienceTenant, name] = parts;
  if (tenant !== undefined && audienceTenant !== tenant) return undefined;
  return name !== undefined && isConnectionName(name) ? name : undefined;
}

/** Ordered: query, then each audience (operator's index, then Auth0's pattern), then issuers. */
export function candidatesOf(facts: CallbackFacts, tenant: string | undefined): Candidate[] {
  if (facts.connection.kind === "one") return [{ by: "query", connection: facts.connection.name }];
  if (facts.connection.kind !== "none") return [];
  const out: Candidate[] = [];
  for (const audience of facts.samlAudiences) {
    out.push({ by: "sp-entity-id", kind: "sp", value: audience });
    const name = connectionFromAudience(audience, tenant);
    if (name !== undefined) out.push({ by: "saml-audience", connection: name });
  }
  for (const issuer of facts.samlIssuers) out.push({ by: "idp-issuer", kind: "idp", value: issuer });
  for (const issuer of facts.oidcIssuers) out.push({ by: "oidc-issuer", kind: "oidc", value: issuer });
  return out;
}

export interface Identification {
  connection: string | undefined;
  identifiedBy: IdentifiedBy;
  route: Lookup<LoadedRoute> | undefined;
}

/** What the query alone says, before (or instead of) reading the table. */
export function fromQueryOnly(facts: CallbackFacts): Identification {
  return facts.connection.kind === "one"
    ? { connection: facts.connection.name, identifiedBy: "query", route: undefined }
    : { connection: undefined, identifiedBy: "none", route: undefined };
}

/**
 * The first candidate whose connection has a route wins; when none has one,
 * the first candidate that named a connection identifies it (route absent).
 * A table that cannot be read stops the search: the caller fails safe.
 */
export async function identify(candidates: Candidate[], store: RouteStore): Promise<Identification> {
  let firstNamed: Identification | undefined;
  for (const candidate of candidates) {
    let connection: string;
    if ("connection" in candidate) {
      connection = candidate.connection;
    } else {
      const hit = await store.matched(candidate.kind, candidate.value);
      if (hit.status === "unavailable") return { connection: undefined, identifiedBy: candidate.by, route: hit };
      if (hit.status !== "found" || !isConnectionName(hit.value)) continue;
      connection = hit.value;
    }
    const route = await store.route(connection);
    const found: Identification = { connection, identifiedBy: candidate.by, route };
    if (route.status !== "absent") return found;
    firstNamed ??= found;
  }
  return firstNamed ?? { connection: undefined, identifiedBy: "none", route: undefined };
}
