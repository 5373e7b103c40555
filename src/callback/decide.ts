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
  | "auth0-transaction"
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
  /** This browser's affinity cookie says Auth0 started the login (src/affinity); unknown yet = undefined. */
  auth0Transaction?: boolean;
}

/** What the short-cuts read: nothing that needs the body or the table's routes. */
export type ShortCutInput = Pick<DecisionInput, "method" | "fallback" | "settings" | "auth0Transaction">;

type ShortCut = (input: ShortCutInput, settings: LoadedSettings) => Decision | undefined;

/**
 * Steps 1, 2 and 2a of the decision order (docs/design.md), in order: each
 * answers Auth0 or passes. A new step is one more entry, at its place.
 */
const SHORT_CUTS: readonly ShortCut[] = [
  // 1. Kill switch.
  function killSwitch(_input, s) {
    return s.mode === "passthrough" ? { destination: "auth0", reason: "kill-switch" } : undefined;
  },
  // 2. Loop guard: what the new provider sent back is never redirected again.
  function fallbackBounce(input) {
    return input.fallback ? { destination: "auth0", reason: "fallback-bounce" } : undefined;
  },
  // A preflight or HEAD cannot follow a redirect meaningfully; Auth0 answers it.
  function methodNotRouted(input) {
    return ROUTED_METHODS.has(input.method) ? undefined : { destination: "auth0", reason: "method-not-routed" };
  },
  // 2a. A login finishes where it started: only Auth0 can check its own state / InResponseTo.
  // (The router knows this only after reading the cookie, and maybe the body: until then it is undefined.)
  function auth0Transaction(input) {
    return input.auth0Transaction === true ? { destination: "auth0", reason: "auth0-transaction" } : undefined;
  },
];

/**
 * The decision when it needs no identification (settings unreadable, or a
 * short-cut applies), else undefined. The router asks this before it reads a
 * body or a route, so a short-cut request costs one settings read.
 */
export function shortCut(input: ShortCutInput): Decision | undefined {
  const { settings } = input;
  // Without settings we cannot know whether the kill switch is on: Auth0 is the safe side.
  if (settings.status === "unavailable") return { destination: "auth0", reason: "settings-unavailable" };
  if (settings.status === "invalid") return { destination: "auth0", reason: "settings-invalid" };
  if (settings.status !== "found") return { destination: "auth0", reason: "settings-unavailable" };
  for (const step of SHORT_CUTS) {
    const decision = step(input, settings.value);
    if (decision !== undefined) return decision;
  }
  return undefined;
}

export function decide(input: DecisionInput): Decision {
  return shortCut(input) ?? decideRoute(input);
}

/**
 * decide() for an input whose shortCut() was undefined (asked already, e.g. by the router
 * before it read the route): identification, the route and shadow mode (steps 3–5).
 */
export function decideRoute(input: DecisionInput): Decision {
  // shortCut answered every settings status but "found"; this narrows the type.
  if (input.settings.status !== "found") return { destination: "auth0", reason: "settings-unavailable" };
  const s = input.settings.value;

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
