/** A route's state change, from the routes table or a connection's view: confirmed, sent with If-Match. */
import type { Route, RouteState } from "../../table/schema";
import type { Ctx } from "./context";
import { h } from "./dom";

export const STATES: readonly RouteState[] = ["legacy", "migrated", "rollout"];
const EFFECT: Record<RouteState, string> = {
  legacy: "go to Auth0",
  migrated: "go to the new provider",
  rollout: "follow the rollout flag",
};

export function stateSelect(connection: string): HTMLSelectElement {
  const select = h("select", { "aria-label": `State of ${connection}` });
  select.append(...STATES.map((state) => h("option", { value: state }, state)));
  return select;
}

export function showState(select: HTMLSelectElement, state: RouteState): void {
  select.value = state;
  select.setAttribute("class", `state state-${state}`);
}

/**
 * Asks, then PATCHes `{ state }` with If-Match on the version shown. Returns the route
 * as it now is (null: it was deleted meanwhile) and whether this change was applied.
 */
export async function changeState(
  ctx: Ctx,
  route: Route,
  to: RouteState,
): Promise<{ applied: boolean; current: Route | null }> {
  const { connection, state: from, version } = route;
  if (to === from) {
    ctx.say(`${connection} is already ${from}; choose another state first.`);
    return { applied: false, current: route };
  }
  const question = `Change ${connection} from ${from} to ${to}?\n\nIts callbacks will ${EFFECT[to]} (all locations within about 60 s).`;
  if (!confirm(question)) {
    ctx.say(`${connection} unchanged: still ${from}.`);
    return { applied: false, current: route };
  }
  const path = `/routes/${encodeURIComponent(connection)}`;
  const answer = await ctx.api.call<Route>("PATCH", path, { state: to }, `"${version}"`);
  if (answer.ok) {
    ctx.say(`${connection} is now ${to} (version ${answer.data.version}).`);
    ctx.changed();
    return { applied: true, current: answer.data };
  }
  if (answer.status !== 412 && answer.status !== 404) {
    ctx.say(`${connection} was not changed: ${answer.detail}`, true);
    return { applied: false, current: route };
  }
  // Someone else changed or removed it: show what is there now.
  const current = await ctx.api.call<Route>("GET", path);
  ctx.say(`${connection} was not changed: ${answer.detail} The row now shows the current route; try again.`, true);
  return { applied: false, current: current.ok ? current.data : null };
}
