/** The route table: search, a link to each connection's view, a state control per row. */
import { LEVEL_MEANING, routabilityOf } from "../../../table/routability";
import type { Route, RouteState } from "../../../table/schema";
import { IDS } from "../../ids";
import type { Ctx } from "../context";
import { byId, connectionLink, control, count, h, showError, time } from "../dom";
import { changeState, showState, stateSelect } from "../state-change";

/** A rendered route: its row and the cells that change. */
interface Row {
  route: Route;
  tr: HTMLTableRowElement;
  select: HTMLSelectElement;
  version: HTMLTableCellElement;
  updated: HTMLTableCellElement;
}

const rows = new Map<string, Row>();

export async function loadRoutes(ctx: Ctx): Promise<void> {
  const routes: Route[] = [];
  let cursor: string | null = null;
  do {
    const after: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
    const page = await ctx.api.call<{ routes: Route[]; nextCursor: string | null }>(
      "GET",
      `/routes?limit=1000${after}`,
    );
    if (!page.ok) return showError(IDS.routesError, `The route table could not be read: ${page.detail}`);
    routes.push(...page.data.routes);
    cursor = page.data.nextCursor;
  } while (cursor !== null && ctx.api.token !== null);
  showError(IDS.routesError, "");
  rows.clear();
  byId(IDS.routesBody).replaceChildren(...routes.map((route) => routeRow(ctx, route)));
  filterRoutes();
}

function routeRow(ctx: Ctx, route: Route): HTMLTableRowElement {
  const name = route.connection;
  const select = stateSelect(name);
  const apply = h("button", { type: "button", "aria-label": `Apply the chosen state to ${name}` }, "Apply");
  const [version, updated] = [
    h("td", { class: "num", "data-label": "Version" }),
    h("td", { class: "when", "data-label": "Updated" }),
  ];
  const routability = routabilityOf(route);
  const cells = [
    h("td", { "data-label": "Organization" }, organizationText(route)),
    h("td", { "data-label": "Protocol" }, route.protocol ?? "—"),
    h(
      "td",
      {
        class: `routability routability-${routability.level}`,
        "data-label": "Routability",
        title: `${LEVEL_MEANING[routability.level]}: ${routability.reason}`,
      },
      routability.level,
    ),
  ];
  const stateCell = h(
    "td",
    { class: "state", "data-label": "State" },
    h("div", { class: "state-control" }, select, apply),
  );
  const tr = h("tr", {}, h("th", { scope: "row" }, connectionLink(name)), ...cells, stateCell, version, updated);
  const row: Row = { route, tr, select, version, updated };
  select.addEventListener("change", () => tr.classList.toggle("pending", select.value !== row.route.state));
  apply.addEventListener("click", () => void applyState(ctx, row));
  showRoute(row, route);
  rows.set(name, row);
  return tr;
}

/** The organization, and how many more when the connection is enabled for several. */
function organizationText(route: Route): string {
  const more = (route.organizations?.length ?? 1) - 1;
  return `${route.organization ?? "—"}${more > 0 ? ` (+${more})` : ""}`;
}

function showRoute(row: Row, route: Route): void {
  row.route = route;
  showState(row.select, route.state);
  row.tr.classList.toggle("pending", false);
  row.version.textContent = String(route.version);
  row.updated.replaceChildren(time(route.updatedAt));
}

async function applyState(ctx: Ctx, row: Row): Promise<void> {
  const { current } = await changeState(ctx, row.route, row.select.value as RouteState);
  if (current === null) row.tr.hidden = true;
  else showRoute(row, current);
}

/** A change made elsewhere (the connection's view): the row shows it too. */
export function updateRouteRow(route: Route): void {
  const row = rows.get(route.connection);
  if (row !== undefined) showRoute(row, route);
}

export function filterRoutes(): void {
  const query = control(IDS.search).value.trim().toLowerCase();
  let shown = 0;
  for (const { route, tr } of rows.values()) {
    tr.hidden = !`${route.connection} ${route.organization ?? ""}`.toLowerCase().includes(query);
    if (!tr.hidden) shown++;
  }
  const all = count.format(rows.size);
  byId(IDS.searchCount).textContent = query === "" ? `${all} routes` : `${shown} of ${all} routes match`;
}

export function forgetRoutes(): void {
  rows.clear();
}
