/**
 * A route's `match` block as index entries, and the rule that no two routes
 * may claim the same entity ID or issuer.
 */
export type MatchKind = "sp" | "idp" | "oidc";

/** What these rules read of a route (schema.ts's RouteInput and Route have it; schema.ts uses them). */
export interface MatchedRoute {
  connection: string;
  match?:
    { spEntityId?: string | undefined; idpEntityId?: string | undefined; oidcIssuer?: string | undefined } | undefined;
}

/** The index entries one route owns: [kind, value] pairs. */
export function matchesOf(route: Pick<MatchedRoute, "match">): Array<[MatchKind, string]> {
  const out: Array<[MatchKind, string]> = [];
  if (route.match?.spEntityId !== undefined) out.push(["sp", route.match.spEntityId]);
  if (route.match?.idpEntityId !== undefined) out.push(["idp", route.match.idpEntityId]);
  if (route.match?.oidcIssuer !== undefined) out.push(["oidc", route.match.oidcIssuer]);
  return out;
}

/**
 * Two routes claiming the same entity ID or issuer would make identification
 * depend on write order; such a table is refused instead.
 */
export function findMatchConflicts(
  routes: ReadonlyArray<MatchedRoute>,
): Array<{ index: number; field: string; message: string }> {
  const owner = new Map<string, string>();
  const conflicts: Array<{ index: number; field: string; message: string }> = [];
  const fieldOf: Record<MatchKind, string> = { sp: "spEntityId", idp: "idpEntityId", oidc: "oidcIssuer" };
  routes.forEach((route, index) => {
    for (const [kind, value] of matchesOf(route)) {
      const key = `${kind}:${value}`;
      const first = owner.get(key);
      if (first !== undefined && first !== route.connection) {
        conflicts.push({
          index,
          field: `match.${fieldOf[kind]}`,
          message: `"${value}" is already matched by connection "${first}"`,
        });
      } else {
        owner.set(key, route.connection);
      }
    }
  });
  return conflicts;
}
