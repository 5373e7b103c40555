/**
 * Why a login went to Auth0, as a class of its decision reason (src/callback/decide.ts's
 * DecisionReason; the classes are src/stats/rows.ts's AUTH0_WHY). Pure. The traffic
 * counters keep one count per class, so a flag can tell the logins an operator must act
 * on (a refused record, an unreadable table, propagation that took too long) from those
 * the router sent to Auth0 on purpose (kill switch, shadow mode, affinity, a legacy route).
 */
import type { CallbackLog } from "../log";
import type { Auth0Why } from "./rows";

const BY_REASON: Readonly<Record<string, Auth0Why>> = {
  "kill-switch": "killSwitch",
  "auth0-transaction": "affinity",
  legacy: "route",
  "rollout-include": "route",
  "rollout-exclude": "route",
  "rollout-bucket": "route",
  "unknown-connection": "route",
  unidentified: "route",
  "route-invalid": "invalid",
  "settings-invalid": "invalid",
  "no-target": "invalid",
  "route-table-unavailable": "unavailable",
  "settings-unavailable": "unavailable",
};

/**
 * The class of a login sent to Auth0. Shadow mode keeps the route's reason
 * (`migrated`, a rollout's) with `shadowDecision: "new"`: that makes it `shadow`. A
 * decision made from a stale copy of the table because KV failed (`staleTable`) is
 * `unavailable`, whatever the copy said.
 */
export function auth0WhyOf(entry: Pick<CallbackLog, "reason" | "shadowDecision" | "staleTable">): Auth0Why {
  if (entry.shadowDecision === "new") return "shadow";
  const why = BY_REASON[entry.reason] ?? "other";
  if (entry.staleTable === true && (why === "route" || why === "other")) return "unavailable";
  return why;
}
