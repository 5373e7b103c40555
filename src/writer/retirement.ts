/**
 * Retiring Auth0 is checked (docs/retirement.md): the change to `auth0: retired` is refused
 * while anything still needs Auth0. Pure: the writer passes the table it holds and the
 * traffic the admin Worker read from the counters (src/admin/retirement.ts).
 */
import type { FieldError } from "../table/validate";
import { isRetired, type Route, type Settings } from "../table/schema";

/** One reason Auth0 cannot be retired yet, as a problem's field error (field names the thing). */
export type RetirementBlocker = FieldError;

/** How far back logins that reached Auth0 block retirement. */
export const RETIREMENT_QUIET_DAYS = 7;

/**
 * What still needs Auth0 in the table and settings: every route in state legacy or
 * rollout, and a mode other than route (the kill switch or shadow would send callbacks to it).
 */
export function tableBlockers(
  routes: readonly Pick<Route, "connection" | "state">[],
  settings: Pick<Settings, "mode" | "killSwitch">,
): RetirementBlocker[] {
  const blockers: RetirementBlocker[] = [];
  for (const route of routes) {
    if (route.state === "legacy") {
      blockers.push({
        field: `routes.${route.connection}.state`,
        reason: "legacy: its callbacks go to Auth0; migrate it or remove the route",
      });
    } else if (route.state === "rollout") {
      blockers.push({
        field: `routes.${route.connection}.state`,
        reason: "rollout: the flag keeps some of its logins on Auth0; set it migrated",
      });
    }
  }
  if (settings.killSwitch.on) {
    blockers.push({ field: "killSwitch", reason: "the kill switch is on: every callback goes to Auth0" });
  }
  if (settings.mode === "shadow") {
    blockers.push({ field: "mode", reason: "shadow mode: every callback goes to Auth0" });
  }
  return blockers;
}

/** Per connection, the logins the counters saw reach Auth0 (not bounces) in the quiet period. */
export interface Auth0Traffic {
  connection: string;
  logins: number;
}

export function trafficBlockers(traffic: readonly Auth0Traffic[]): RetirementBlocker[] {
  return traffic
    .filter((t) => t.logins > 0)
    .map((t) => ({
      field: `traffic.${t.connection}`,
      reason: `${t.logins} login${t.logins === 1 ? "" : "s"} reached Auth0 in the last ${RETIREMENT_QUIET_DAYS} days (not through a fallback bounce)`,
    }));
}

/** The settings change is a retirement: from active (or absent) to retired. */
export function isRetiring(before: Settings, after: Settings): boolean {
  return !isRetired(before) && isRetired(after);
}
