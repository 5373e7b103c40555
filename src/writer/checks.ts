/**
 * The checks every write passes before it touches the table (reject first,
 * act later): configuration, the record's schema and targets, match values
 * claimed by another route, the provider guard, If-Match. Each answers a
 * ready Failure or passes.
 */
import { targetConfigFor, type TargetConfig } from "../config";
import type { EnvVars } from "../env";
import { matchesOf } from "../table/matches";
import type { RouteInput, Settings } from "../table/schema";
import { validateRoute } from "../table/validate";
import { inactiveReason } from "./provider-fields";
import { invalid, precondition, type Failure } from "./result";
import type { TableDb } from "./table-db";

/** The environment and allow-list targets are checked against; a wrong one stops every write. */
export function targetConfig(env: EnvVars): { ok: true; value: TargetConfig } | Failure {
  const targets = targetConfigFor(env);
  if (targets.ok) return { ok: true, value: targets.config };
  return {
    ok: false,
    status: 503,
    title: "Writer misconfigured",
    detail: targets.problems.map((p) => `${p.variable} ${p.message}`).join("; "),
  };
}

/** A route record as the API sent it: schema, targets, and no match value another route claims. */
export function checkRoute(env: EnvVars, db: TableDb, raw: unknown): { ok: true; value: RouteInput } | Failure {
  const config = targetConfig(env);
  if (!config.ok) return config;
  const connection = typeof raw === "object" && raw !== null && "connection" in raw ? raw.connection : undefined;
  const stored = typeof connection === "string" ? db.getRoute(connection) : null;
  const checked = validateRoute(raw, config.value, "", stored?.note);
  if (!checked.ok) return invalid(checked.errors);
  const route = checked.route;
  for (const [kind, value] of matchesOf(route)) {
    const owner = db.matchOwner(kind, value, route.connection);
    if (owner !== null) {
      const field = kind === "sp" ? "spEntityId" : kind === "idp" ? "idpEntityId" : "oidcIssuer";
      return {
        ok: false,
        status: 409,
        title: "Match value already claimed",
        detail: `"${value}" is already matched by connection "${owner}"`,
        errors: [{ field: `match.${field}`, reason: `already matched by connection "${owner}"` }],
      };
    }
  }
  return { ok: true, value: route };
}

/** settings.provider.requireActive: a route is never written as migrated unless its provider connection is active. */
export function refuseInactive(route: RouteInput, settings: Settings): Failure | undefined {
  const reason = inactiveReason(route, settings);
  if (reason === null) return undefined;
  return {
    ok: false,
    status: 409,
    title: "Provider connection not active",
    detail: reason,
    errors: [{ field: "state", reason }],
  };
}

/**
 * If-Match against the stored version (undefined: no such route). RFC 9110 §13.1.1:
 * `*` holds when the route exists; a version only when it is the current one.
 */
export function staleVersion(
  current: number | undefined,
  ifMatch: number | "*" | undefined,
  connection: string,
): Failure | undefined {
  if (ifMatch === undefined) return undefined;
  if (current === undefined) {
    const sent = ifMatch === "*" ? "*" : `"${ifMatch}"`;
    return precondition(`connection "${connection}" does not exist (If-Match: ${sent})`);
  }
  if (ifMatch === "*") return undefined;
  if (current !== ifMatch) return precondition(`connection "${connection}" is at version ${current}, not ${ifMatch}`);
  return undefined;
}
