/**
 * The callback decision: a pure function of what the request said, the route
 * found for it and the settings. No I/O, no clock — testable without a runtime.
 * The order is docs/design.md's "Decision order for /login/callback".
 */
import { evaluateRollout } from "../rollout";
import type { LoadedRoute, LoadedSettings, Lookup } from "../table/store";
import type { ConnectionParam } from "./facts";

export type DecisionReason =
  | "kill-switch"
  | "fallback-bounce"
  | "settings-unavailable"
  | "settings-invalid"
  | "route-table-unavailable"
  | "route-invalid"
  | "ambiguous-connection"
  | "invalid-connection-name"
  | "legacy"
  | "migrated"
  | "rollout-include"
  | "rollout-exclude"
  | "rollout-bucket"
  | "unknown-connection"
  | "unidentified"
  | "no-target"
  | "method-not-routed";

export type Decision = { destination: "auth0"; reason: DecisionReason; shadowOf?: NewDecision } | NewDecision;

export interface NewDecision {
  destination: "new";
  reason: DecisionReason;
  target: URL;
}

/** Only these methods carry a sign-in; anything else (HEAD, OPTIONS, …) goes to Auth0 as is. */
export const ROUTED_METHODS: ReadonlySet<string> = new Set(["GET", "POST"]);

export interface DecisionInput {
  method: string;
  fallback: boolean;
  connectionParam: ConnectionParam;
  settings: Lookup<LoadedSettings>;
  /** The identified connection and its route lookup; undefined route = nothing identified. */
  connection: string | undefined;
  route: Lookup<LoadedRoute> | undefined;
}

export function decide(input: DecisionInput): Decision {
  const { settings } = input;
  // Without settings we cannot know whether the kill switch is on: Auth0 is the safe side.
  if (settings.status === "unavailable") return { destination: "auth0", reason: "settings-unavailable" };
  if (settings.status === "invalid") return { destination: "auth0", reason: "settings-invalid" };
  const s = settings.status === "found" ? settings.value : undefined;
  if (s === undefined) return { destination: "auth0", reason: "settings-unavailable" };

  // 1. Kill switch.
  if (s.mode === "passthrough") return { destination: "auth0", reason: "kill-switch" };
  // 2. Loop guard: what the new provider sent back is never redirected again.
  if (input.fallback) return { destination: "auth0", reason: "fallback-bounce" };
  // A preflight or HEAD cannot follow a redirect meaningfully; Auth0 answers it.
  if (!ROUTED_METHODS.has(input.method)) return { destination: "auth0", reason: "method-not-routed" };

  // 3.–4. Identification and the route.
  const routed = routeDecision(input, s);
  // 5. Shadow: decide and log, but everything goes to Auth0.
  if (s.mode === "shadow" && routed.destination === "new") {
    return { destination: "auth0", reason: routed.reason, shadowOf: routed };
  }
  return routed;
}

function routeDecision(input: DecisionInput, s: LoadedSettings): Decision {
  if (input.connectionParam.kind === "many") return { destination: "auth0", reason: "ambiguous-connection" };
  if (input.connectionParam.kind === "invalid") return { destination: "auth0", reason: "invalid-connection-name" };

  const route = input.route;
  if (route?.status === "unavailable") return { destination: "auth0", reason: "route-table-unavailable" };
  if (route?.status === "invalid") return { destination: "auth0", reason: "route-invalid" };

  if (route === undefined || route.status === "absent") {
    const reason = input.connection === undefined ? "unidentified" : "unknown-connection";
    // "probe": let the new provider try; it bounces with fallback=auth0 when it cannot.
    if (s.unknown === "probe") return toNew(reason, undefined, s);
    return { destination: "auth0", reason };
  }

  const r = route.value;
  switch (r.state) {
    case "legacy":
      return { destination: "auth0", reason: "legacy" };
    case "migrated":
      return toNew("migrated", r.targetUrl, s);
    case "rollout": {
      const answer = evaluateRollout(s.rollout, { organization: r.organization, connection: r.connection });
      if (answer.destination === "auth0") return { destination: "auth0", reason: answer.reason };
      return toNew(answer.reason, r.targetUrl, s);
    }
  }
}

function toNew(reason: DecisionReason, routeTarget: URL | undefined, s: LoadedSettings): Decision {
  const target = routeTarget ?? s.defaultTargetUrl;
  if (target === undefined) return { destination: "auth0", reason: "no-target" };
  return { destination: "new", reason, target };
}
