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
  | "method-not-routed"
  /** Auth0 is retired: a callback that would have gone to Auth0 goes to the new provider. */
  | "auth0-retired";

export type Decision =
  { destination: "auth0"; reason: DecisionReason; shadowOf?: NewDecision } | NewDecision | PageDecision;

export interface NewDecision {
  destination: "new";
  reason: DecisionReason;
  target: URL;
}

/**
 * Auth0 is retired and the new provider cannot take this callback: the router answers it
 * itself (src/callback/retired-pages.ts). `unserved`: the new provider bounced the login
 * (fallback=auth0) and nobody can sign it in; `unavailable`: where the new provider is
 * cannot be known (settings unreadable, no target); `method-not-allowed`: HEAD, OPTIONS, ….
 */
export interface PageDecision {
  destination: "page";
  reason: DecisionReason;
  page: "unserved" | "unavailable" | "method-not-allowed";
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
  /**
   * Auth0 is known to be retired without the settings: AUTH0_RETIRED, or the last settings
   * this isolate read said so (src/table/store.ts). The settings' own `auth0` counts too.
   */
  auth0Retired?: boolean;
}

/** What the short-cuts read: nothing that needs the body or the table's routes. */
export type ShortCutInput = Pick<
  DecisionInput,
  "method" | "fallback" | "settings" | "auth0Transaction" | "auth0Retired"
>;

type ShortCut = (input: ShortCutInput, settings: LoadedSettings, retired: boolean) => Decision | undefined;

/** Auth0 is retired: by AUTH0_RETIRED or the isolate's memory (input), or by the settings read. */
export function isRetiredInput(input: Pick<ShortCutInput, "settings" | "auth0Retired">): boolean {
  if (input.auth0Retired === true) return true;
  return input.settings.status === "found" && input.settings.value.auth0 === "retired";
}

/**
 * Steps 1, 2 and 2a of the decision order (docs/design.md), in order: each
 * answers or passes. A new step is one more entry, at its place. Once Auth0 is
 * retired none of them answers Auth0: there is nothing behind it.
 */
const SHORT_CUTS: readonly ShortCut[] = [
  // 1. Kill switch: an override of the mode (route or shadow), which it leaves as it is
  // (refused while retired by the writer; a stored one is ignored then).
  function killSwitch(_input, s, retired) {
    return s.killSwitch.on && !retired ? { destination: "auth0", reason: "kill-switch" } : undefined;
  },
  // 2. Loop guard: what the new provider sent back is never redirected again. Retired: it
  // could not sign this user in and Auth0 is gone, so the router says so itself.
  function fallbackBounce(input, _s, retired) {
    if (!input.fallback) return undefined;
    return retired
      ? { destination: "page", reason: "fallback-bounce", page: "unserved" }
      : { destination: "auth0", reason: "fallback-bounce" };
  },
  // A preflight or HEAD cannot follow a redirect meaningfully; Auth0 answers it (retired: a 405).
  function methodNotRouted(input, _s, retired) {
    if (ROUTED_METHODS.has(input.method)) return undefined;
    return retired
      ? { destination: "page", reason: "method-not-routed", page: "method-not-allowed" }
      : { destination: "auth0", reason: "method-not-routed" };
  },
  // 2a. A login finishes where it started: only Auth0 can check its own state / InResponseTo.
  // (The router knows this only after reading the cookie, and maybe the body: until then it is undefined.)
  // Retired: Auth0 started nothing that could still finish.
  function auth0Transaction(input, _s, retired) {
    return input.auth0Transaction === true && !retired
      ? { destination: "auth0", reason: "auth0-transaction" }
      : undefined;
  },
];

/**
 * The decision when it needs no identification (settings unreadable, or a
 * short-cut applies), else undefined. The router asks this before it reads a
 * body or a route, so a short-cut request costs one settings read.
 */
export function shortCut(input: ShortCutInput): Decision | undefined {
  const { settings } = input;
  const retired = isRetiredInput(input);
  if (settings.status !== "found") {
    const reason = settings.status === "invalid" ? "settings-invalid" : "settings-unavailable";
    // Retired without settings: no Auth0 to fall back to, and no known new provider either.
    if (retired) return { destination: "page", reason, page: "unavailable" };
    // Without settings we cannot know whether the kill switch is on: Auth0 is the safe side.
    return { destination: "auth0", reason };
  }
  for (const step of SHORT_CUTS) {
    const decision = step(input, settings.value, retired);
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
  const retired = isRetiredInput(input);

  // 3.–4. Identification and the route; retired, what would have gone to Auth0 goes to the new provider.
  const routed = retired ? retiredDecision(input, s) : routeDecision(input, s);
  // 5. Shadow: decide and log, but everything goes to Auth0 (never once it is retired).
  if (!retired && s.mode === "shadow" && routed.destination === "new") {
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

/**
 * Steps 3–4 once Auth0 is retired: the route's own answer when it is the new provider;
 * whatever would have gone to Auth0 (legacy, rollout kept on Auth0, unknown or unidentified
 * connections, an unreadable or refused record) goes to the route's target, else
 * defaultTarget; with neither, the router's own "unavailable" page.
 */
function retiredDecision(input: DecisionInput, s: LoadedSettings): Decision {
  const active = routeDecision(input, s);
  if (active.destination !== "auth0") return active;
  const route = input.route;
  const routeTarget = route?.status === "found" ? route.value.targetUrl : undefined;
  const target = routeTarget ?? s.defaultTargetUrl;
  if (target === undefined) return { destination: "page", reason: "no-target", page: "unavailable" };
  return { destination: "new", reason: "auth0-retired", target };
}

function toNew(reason: DecisionReason, routeTarget: URL | undefined, s: LoadedSettings): Decision {
  const target = routeTarget ?? s.defaultTargetUrl;
  if (target === undefined) return { destination: "auth0", reason: "no-target" };
  return { destination: "new", reason, target };
}
