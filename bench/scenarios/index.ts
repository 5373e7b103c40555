/** Every fixed-load scenario, in the order of a forward round (pairs side by side). */
import type { Scenario } from "../scenario";
import type { ScenarioContext } from "./common";
import { forwardScenarios } from "./forward";
import { passThroughScenarios } from "./pass-through";
import { redirectScenarios } from "./redirect";
import { samlScenarios } from "./saml";
import { tableSizeScenarios } from "./table-size";

export function allScenarios(ctx: ScenarioContext, bigRoutes: number): Scenario[] {
  return [
    ...passThroughScenarios(),
    ...redirectScenarios(ctx),
    ...forwardScenarios(ctx),
    ...samlScenarios(ctx),
    ...tableSizeScenarios(ctx, bigRoutes),
  ];
}

/** `only` holds id prefixes ("a" keeps a, a-min, a-100k, …) or, with "=", one id ("=a" keeps a); empty keeps all. */
export function selectScenarios(scenarios: Scenario[], only: readonly string[]): Scenario[] {
  if (only.length === 0) return scenarios;
  return scenarios.filter((s) =>
    only.some((prefix) =>
      prefix.startsWith("=") ? s.id === prefix.slice(1) : s.id === prefix || s.id.startsWith(`${prefix}-`),
    ),
  );
}
