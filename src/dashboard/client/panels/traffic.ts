/**
 * Traffic over the chosen range (GET /stats): the new provider's share, the totals,
 * two charts (share of logins served by the new provider; bounces and errors), the
 * flagged connections and the per-connection table. Definitions: docs/operations.md,
 * "Traffic counters" (a login counted once; a bounced login served by Auth0).
 */
import type { ConnectionStats, Flag, SeriesPoint, StatsReport } from "../../../stats/report";
import { IDS } from "../../ids";
import { TimeChart } from "../charts";
import type { Ctx } from "../context";
import { ago, byId, connectionLink, count, h, many, percent, share, showError } from "../dom";
import { rangeQuery, rangeText, type Range } from "../range";

const TOTALS = ["new", "fallback", "auth0", "affinity", "unidentified", "errors"] as const;
export const COLOURS = { new: "#1a7f37", auth0: "#0b5cad", fallback: "#b35900", errors: "#a4161a" } as const;

let shareChart: TimeChart | undefined;
let problemChart: TimeChart | undefined;

export async function loadTraffic(ctx: Ctx): Promise<void> {
  const range = ctx.range();
  const answer = await ctx.api.call<StatsReport>("GET", `/stats?${rangeQuery(range)}`);
  if (!answer.ok) return clearTraffic(`Traffic statistics unavailable: ${answer.detail}`);
  const report = answer.data;
  showError(IDS.statsError, "");
  renderShare(report, range);
  renderCharts(report, range);
  renderFlagged(report.flagged, range);
  renderTable(report.connections, range);
}

function clearTraffic(message: string): void {
  for (const id of [IDS.flaggedList, IDS.trafficBody]) byId(id).replaceChildren();
  for (const id of [IDS.share, IDS.shareText]) byId(id).textContent = "";
  for (const key of TOTALS) byId(`${IDS.totalPrefix}${key}`).textContent = "–";
  for (const id of [IDS.flaggedText, IDS.trafficText]) byId(id).textContent = message;
  showError(IDS.statsError, message);
}

function renderShare({ newShare, totals: t }: StatsReport, range: Range): void {
  byId(IDS.shareRange).textContent = rangeText(range);
  byId(IDS.trafficRange).textContent = rangeText(range);
  byId(IDS.share).textContent = share(newShare);
  byId(IDS.shareText).textContent =
    newShare === null
      ? `No logins in the ${rangeText(range)}.`
      : `of ${many(t.logins, "login")} in the ${rangeText(range)} served by the new provider (a bounced login counts once, as served by Auth0).`;
  for (const key of TOTALS) byId(`${IDS.totalPrefix}${key}`).textContent = count.format(t[key]);
}

/** The newest three points that `has` something, in words (what the canvas shows); "none" without any. */
function newest(series: SeriesPoint[], has: (p: SeriesPoint) => boolean, say: (p: SeriesPoint) => string): string {
  const points = series.filter(has).slice(-3);
  if (points.length === 0) return "none";
  const at = (p: SeriesPoint) => new Date(p.at).toLocaleString("en-GB", { hour: "2-digit", minute: "2-digit" });
  return points.map((p) => `${at(p)}: ${say(p)}`).join("; ");
}

function renderCharts({ series, newShare, totals }: StatsReport, range: Range): void {
  shareChart ??= mount(new TimeChart("Share of logins served by the new provider", "share-chart"));
  problemChart ??= mount(new TimeChart("Bounces and errors", "problem-chart"));
  const x = series.map((p) => Date.parse(p.at));
  shareChart.render({
    x,
    percent: true,
    series: [{ label: "Served by new", color: COLOURS.new, values: series.map((p) => p.newShare) }],
    summary:
      `Share of logins served by the new provider, ${range.per}, ${rangeText(range)}: ${share(newShare)} overall; ` +
      `newest with logins: ${newest(
        series,
        (p) => p.logins > 0,
        (p) => share(p.newShare),
      )}.`,
  });
  problemChart.render({
    x,
    series: [
      { label: "Bounced", color: COLOURS.fallback, values: series.map((p) => p.fallback) },
      { label: "Errors", color: COLOURS.errors, values: series.map((p) => p.errors), dash: [6, 3] },
    ],
    summary:
      `Bounces and errors ${range.per}, ${rangeText(range)}: ${totals.fallback} bounced, ${totals.errors} errors; ` +
      `newest: ${newest(
        series,
        (p) => p.fallback + p.errors > 0,
        (p) => `${p.fallback} bounced, ${p.errors} errors`,
      )}.`,
  });
}

function mount(chart: TimeChart): TimeChart {
  byId(IDS.charts).append(chart.figure);
  return chart;
}

/** The reasons of auth0-traffic-while-migrated, as an operator reads them. */
const ACT_ON_TEXT = {
  invalid: "a refused record",
  unavailable: "the table unreadable",
  propagation: "propagation later than expected",
} as const;

export function flagText(flag: Flag, { counts, fallbackShare, flagDetails, distinctNames }: ConnectionStats): string {
  const detail = flagDetails.find((d) => d.flag === flag);
  const since = detail === undefined || detail.startsAt === "window" ? "" : ` since ${SINCE_TEXT[detail.startsAt]}`;
  switch (flag) {
    case "fallback-share-high":
      return `The new provider bounced ${percent.format(fallbackShare ?? 0)} of the logins sent to it back to Auth0 (${count.format(counts.fallback)} of ${count.format(counts.new)}).`;
    case "auth0-traffic-while-migrated": {
      const reasons = Object.entries(detail?.actOn ?? {})
        .filter(([, n]) => n > 0)
        .map(([why, n]) => `${count.format(n)} ${ACT_ON_TEXT[why as keyof typeof ACT_ON_TEXT]}`);
      return `Migrated, yet ${many(detail?.count ?? 0, "login")} went to Auth0${since}: ${reasons.join(", ")}.`;
    }
    case "errors":
      return `${many(counts.errors, "answer")} with a 5xx: Auth0 unreachable, too slow or answering 5xx, or a router failure (a browser that hung up mid-request is not one).`;
    case "not-in-table": {
      const names =
        distinctNames === undefined
          ? ""
          : ` (${distinctNames.saturated ? "at least " : "about "}${many(distinctNames.estimate, "distinct name")})`;
      return `${many(counts.logins, "login")} for connections that are not in the route table${names}.`;
    }
    case "unserved-logins":
      return `${many(counts.unserved, "login")} bounced by the new provider after Auth0 was retired: nobody could sign them in (they got the contact page).`;
  }
}

const SINCE_TEXT = {
  "state-change": "the state change",
  "kill-switch-off": "the kill switch went off",
  "shadow-off": "shadow mode ended",
} as const;

function renderFlagged(flagged: ConnectionStats[], range: Range): void {
  byId(IDS.flaggedText).textContent =
    flagged.length === 0
      ? `Nothing flagged in the ${rangeText(range)}.`
      : `${flagged.length} to look at (${rangeText(range)}):`;
  const items = flagged.map((c) =>
    h(
      "li",
      {},
      linkOrName(c.connection),
      " ",
      h("span", { class: "badge" }, c.state ?? "not in table"),
      h("ul", {}, ...c.flags.map((flag) => h("li", {}, flagText(flag, c)))),
    ),
  );
  byId(IDS.flaggedList).replaceChildren(...items);
}

/** Real connections link to their view; (unidentified) and (not a callback) too. */
function linkOrName(connection: string): HTMLElement {
  return h("strong", {}, connectionLink(connection));
}

function renderTable(connections: ConnectionStats[], range: Range): void {
  const busy = connections.filter((c) => c.counts.callbacks > 0 || c.counts.errors > 0);
  const shown = busy.slice(0, 50);
  byId(IDS.trafficText).textContent =
    busy.length === 0
      ? `No logins in the ${rangeText(range)}.`
      : `Logins in the ${rangeText(range)}, busiest first${busy.length > shown.length ? ` (${shown.length} of ${busy.length} connections)` : ""}.`;
  const rows = shown.map((c) => {
    const { logins, new: sent, auth0, fallback, errors } = c.counts;
    const numbers = [logins, sent, fallback, auth0, errors].map((n) => h("td", { class: "num" }, count.format(n)));
    const last = c.lastSeen === null ? "—" : `${ago(c.lastSeen.at)} (${c.lastSeen.status})`;
    return h(
      "tr",
      {},
      h("th", { scope: "row" }, connectionLink(c.connection)),
      h("td", {}, c.state ?? "not in table"),
      h("td", { class: "num" }, share(c.newShare)),
      ...numbers,
      h("td", {}, last),
    );
  });
  byId(IDS.trafficBody).replaceChildren(...rows);
}
