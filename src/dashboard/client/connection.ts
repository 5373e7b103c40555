/**
 * One connection's view (#connection/{name}), linked from every table: its route and
 * state control, routability (when the router reports it), the last callback seen,
 * where its logins went over the chosen range, and its audit entries.
 */
import type { ConnectionStats, LastSeenView, SeriesPoint } from "../../stats/report";
import type { Routability } from "../../table/routability";
import type { Readiness } from "../../stats/readiness";
import type { Route } from "../../table/schema";
import { IDS } from "../ids";
import { auditRows, type AuditEntry } from "./audit";
import { TimeChart } from "./charts";
import type { Ctx } from "./context";
import { ago, byId, count, h, share, showError, time } from "./dom";
import { COLOURS, flagText } from "./panels/traffic";
import { updateRouteRow } from "./panels/routes";
import { rangeQuery, rangeText } from "./range";
import { changeState, showState, stateSelect } from "./state-change";

type ConnectionReport = ConnectionStats & { since: string; until: string; step: string; series: SeriesPoint[] };
/** A route as GET /routes/{connection} answers, perhaps with the router's routability verdict. */
type RouteAnswer = Route & { routability?: Routability; readiness?: Readiness };

let chart: TimeChart | undefined;
/** The connection on show and the route it was last rendered from. */
/** How "Last callback seen" names each kind of callback (src/stats/outcome.ts). */
const LAST_KIND: Record<LastSeenView["kind"], string> = {
  login: "a login",
  bounce: "a bounce",
  "fallback-unverified": "an unverified bounce (no mark of the router's hand-off)",
  other: "a request",
};

const shown = { connection: null as string | null, route: null as Route | null };

export function shownConnection(): string | null {
  return shown.connection;
}

/** Leaves the view: its content goes too (no second set of controls hidden in the page). */
export function closeConnection(): void {
  shown.connection = null;
  shown.route = null;
  clearView();
}

function clearView(): void {
  for (const id of [IDS.connectionFacts, IDS.connectionCounts, IDS.connectionAudit, IDS.connectionFlags]) {
    byId(id).replaceChildren();
  }
}

/** Opens (or re-reads) the view; focus moves to its heading when `focus` is set. */
export async function openConnection(ctx: Ctx, connection: string, focus: boolean): Promise<void> {
  const switched = shown.connection !== connection;
  shown.connection = connection;
  byId(IDS.connectionName).textContent = connection;
  if (switched) clearView();
  if (focus) byId(IDS.connectionHeading).focus();
  const range = ctx.range();
  const path = encodeURIComponent(connection);
  const isName = !connection.startsWith("(");
  const [route, stats, audit] = await Promise.all([
    isName ? ctx.api.call<RouteAnswer>("GET", `/routes/${path}`) : Promise.resolve(null),
    ctx.api.call<ConnectionReport>("GET", `/stats/${path}?${rangeQuery(range)}`),
    isName ? ctx.api.call<{ entries: AuditEntry[] }>("GET", `/audit?limit=50&connection=${path}`) : null,
  ]);
  if (shown.connection !== connection) return; // another connection was opened meanwhile
  const problems: string[] = [];
  if (route !== null && !route.ok && route.status !== 404)
    problems.push(`The route could not be read: ${route.detail}`);
  if (!stats.ok) problems.push(`Traffic statistics unavailable: ${stats.detail}`);
  if (audit !== null && !audit.ok) problems.push(`The audit log could not be read: ${audit.detail}`);
  showError(IDS.connectionError, problems.join(" "));
  renderFacts(ctx, route?.ok === true ? route.data : null, stats.ok ? stats.data : null, route !== null);
  if (stats.ok) renderTraffic(stats.data, range.per, rangeText(range));
  if (audit?.ok === true) byId(IDS.connectionAudit).replaceChildren(...auditRows(audit.data.entries, 5, connection));
  else if (audit === null) byId(IDS.connectionAudit).replaceChildren(...auditRows([], 5));
}

function fact(term: string, ...value: Array<Node | string>): HTMLElement[] {
  return [h("dt", {}, term), h("dd", {}, ...value)];
}

function renderFacts(ctx: Ctx, route: RouteAnswer | null, stats: ConnectionReport | null, isName: boolean): void {
  shown.route = route;
  const facts: HTMLElement[] = [];
  if (route === null) {
    facts.push(
      ...fact("Route", isName ? "not in the route table" : "none: callbacks nobody could attribute to a connection"),
    );
  } else {
    facts.push(...fact("State", stateControl(ctx, route)));
    const organizations = route.organizations ?? (route.organization === undefined ? [] : [route.organization]);
    facts.push(...fact(organizations.length > 1 ? "Organizations" : "Organization", organizations.join(", ") || "—"));
    facts.push(...fact("Protocol", route.protocol ?? "—"));
    facts.push(...fact("Routability", ...routabilityNodes(route.routability)));
    facts.push(...fact("Readiness", ...readinessNodes(route.readiness)));
    facts.push(...fact("Version", String(route.version), " · updated ", time(route.updatedAt)));
  }
  const last = stats?.lastSeen ?? null;
  facts.push(
    ...fact(
      "Last callback seen",
      ...(last === null
        ? ["none in the last 35 days"]
        : [
            time(last.at),
            ` (${ago(last.at)}): ${LAST_KIND[last.kind]}` +
              ` to ${last.destination === "new" ? "the new provider" : "Auth0"}, ${last.status}, ${last.reason}`,
          ]),
    ),
  );
  byId(IDS.connectionFacts).replaceChildren(...facts);
}

/** What GET /routes/{connection} says about whether this connection's callbacks can be identified. */
function routabilityNodes(value: Routability | undefined): Array<Node | string> {
  if (value === undefined) return ["not reported by this router"];
  const shapes = value.shapes.map(
    (s) =>
      `${s.shape}${s.usual ? "" : " (some IdPs)"}: ${s.identified ? `identified by ${s.by ?? "?"}` : "not identified (affinity, then the unknown policy)"}`,
  );
  return [
    h("strong", { class: `routability routability-${value.level}` }, value.level),
    ` — ${value.reason}.`,
    ...(value.fix === undefined ? [] : [h("br"), `Fix: ${value.fix}.`]),
    h("ul", {}, ...shapes.map((s) => h("li", {}, s))),
  ];
}

/** What the recorded callbacks say (GET /routes/{connection}'s readiness): the verdict, its numbers, the fix. */
function readinessNodes(value: Readiness | undefined): Array<Node | string> {
  if (value === undefined) return ["not reported by this API"];
  const word = value.verdict.replace(" ", "-");
  return [
    h("strong", { class: `readiness readiness-${word}` }, value.verdict),
    ` — ${value.summary}.`,
    ...(value.fix === undefined || value.verdict === "ready" ? [] : [h("br"), `Fix: ${value.fix}.`]),
    ...(value.difference === undefined ? [] : [h("br"), `Evidence over prediction: ${value.difference}.`]),
  ];
}

function stateControl(ctx: Ctx, route: Route): HTMLElement {
  const select = stateSelect(route.connection);
  showState(select, route.state);
  const apply = h("button", { type: "button", "aria-label": `Apply the chosen state to ${route.connection}` }, "Apply");
  apply.addEventListener("click", async () => {
    const current = shown.route ?? route;
    const result = await changeState(ctx, current, select.value as Route["state"]);
    if (result.current !== null) updateRouteRow(result.current);
    // The view re-reads itself through ctx.changed() after an applied change.
    if (!result.applied && result.current !== null) {
      shown.route = result.current;
      showState(select, result.current.state);
    }
  });
  return h("span", { class: "state-control" }, select, apply);
}

function renderTraffic(stats: ConnectionReport, per: string, range: string): void {
  const { logins, new: sent, fallback, auth0, affinity, unidentified, errors } = stats.counts;
  const kept = Math.max(0, sent - fallback);
  const rows: Array<[string, string]> = [
    ["Logins", count.format(logins)],
    ["Served by the new provider", `${count.format(kept)} (${share(stats.newShare)})`],
    ["Sent to the new provider", count.format(sent)],
    ["of which bounced back", `${count.format(fallback)} (${share(stats.fallbackShare)})`],
    ["Straight to Auth0", count.format(auth0)],
    ["of which started by Auth0 (affinity)", count.format(affinity)],
    ["Unidentified", count.format(unidentified)],
    ["Errors (5xx)", count.format(errors)],
  ];
  byId(IDS.connectionRange).textContent = range;
  byId(IDS.connectionCounts).replaceChildren(
    ...rows.map(([label, value]) => h("tr", {}, h("th", { scope: "row" }, label), h("td", { class: "num" }, value))),
  );
  byId(IDS.connectionFlags).replaceChildren(...stats.flags.map((flag) => h("li", {}, flagText(flag, stats))));
  chart ??= new TimeChart(`Where ${stats.connection}'s logins went`, "connection-chart");
  if (!chart.figure.isConnected) byId(IDS.connectionChart).append(chart.figure);
  const s = stats.series;
  chart.render({
    x: s.map((p) => Date.parse(p.at)),
    series: [
      { label: "New provider (kept)", color: COLOURS.new, values: s.map((p) => Math.max(0, p.new - p.fallback)) },
      { label: "Auth0", color: COLOURS.auth0, values: s.map((p) => p.auth0) },
      { label: "Bounced", color: COLOURS.fallback, values: s.map((p) => p.fallback) },
      { label: "Errors", color: COLOURS.errors, values: s.map((p) => p.errors), dash: [6, 3] },
    ],
    summary: `${stats.connection}, logins ${per} over the ${range}: ${count.format(kept)} served by the new provider, ${count.format(auth0)} straight to Auth0, ${count.format(fallback)} bounced, ${count.format(errors)} errors.`,
  });
}
