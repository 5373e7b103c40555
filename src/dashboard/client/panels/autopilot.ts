/**
 * The autopilot's plan (GET /autopilot): its state, each connection's status with the numbers
 * of its last reading or decision, and the timeline of decisions (newest first), each with the
 * numbers it was made on. A gate with no provider outcome says "no source" and why.
 */
import type { AutopilotEvent, AutopilotNumbers } from "../../../autopilot/events";
import { IDS } from "../../ids";
import type { Ctx } from "../context";
import { byId, connectionLink, count, h, percent, showError, time } from "../dom";

type ConnectionStatus = "waiting" | "soaking" | "promoted" | "rolled-back" | "left" | "not-started";

interface PlanConnection {
  connection: string;
  wave: number;
  status: ConnectionStatus;
  soakUntil?: string;
  numbers?: AutopilotNumbers;
  reason?: string;
  decidedAt?: string;
}

/** The fields of GET {prefix}/autopilot's plan this panel shows. */
export interface AutopilotPlan {
  id: string;
  status: "running" | "paused" | "halted" | "finished" | "aborted";
  statusReason?: string | null;
  currentWave: number | null;
  nextStepAt: string | null;
  totals: Partial<Record<ConnectionStatus, number>>;
  waves: Array<{ index: number; name?: string; connections: PlanConnection[] }>;
  timeline: AutopilotEvent[];
}

const COLUMNS = 8;

export async function loadAutopilot(ctx: Ctx): Promise<void> {
  const answer = await ctx.api.call<{ plan: AutopilotPlan | null }>("GET", "/autopilot");
  if (!answer.ok) {
    clear();
    return showError(IDS.autopilotError, `Autopilot state unavailable: ${answer.detail}`);
  }
  showError(IDS.autopilotError, "");
  const plan = answer.data.plan;
  if (plan === null) {
    clear();
    byId(IDS.autopilotText).textContent =
      "No autopilot plan. Submit one with npm run routes -- autopilot plan <file> (POST /autopilot/plans).";
    return;
  }
  renderState(plan);
  renderConnections(plan);
  renderTimeline(plan.timeline);
}

function clear(): void {
  for (const id of [IDS.autopilotBody, IDS.autopilotTimeline]) byId(id).replaceChildren();
  for (const id of [IDS.autopilotText, IDS.autopilotTotals]) byId(id).textContent = "";
}

function renderState(plan: AutopilotPlan): void {
  const wave = plan.currentWave === null ? "" : ` · wave ${plan.currentWave + 1} of ${count.format(plan.waves.length)}`;
  const text = byId(IDS.autopilotText);
  text.replaceChildren(
    "Plan ",
    h("code", {}, plan.id),
    " · ",
    h("span", { class: `status-${plan.status}` }, plan.status),
    wave,
    ...(plan.statusReason ? [` · ${plan.statusReason}`] : []),
    ...(plan.nextStepAt !== null && plan.status === "running" ? [" · next step ", time(plan.nextStepAt)] : []),
  );
  const t = plan.totals;
  const parts: Array<[ConnectionStatus, string]> = [
    ["promoted", "promoted"],
    ["rolled-back", "rolled back"],
    ["soaking", "soaking"],
    ["waiting", "waiting"],
    ["left", "left as they were"],
    ["not-started", "not started"],
  ];
  byId(IDS.autopilotTotals).textContent = parts
    .filter(([key]) => (t[key] ?? 0) > 0)
    .map(([key, label]) => `${count.format(t[key] ?? 0)} ${label}`)
    .join(", ");
}

function renderConnections(plan: AutopilotPlan): void {
  const rows = plan.waves.flatMap((w) =>
    w.connections.map((c) => {
      const n = c.numbers;
      const why = c.reason ?? (c.status === "soaking" && c.soakUntil !== undefined ? "soaking until " : "");
      return h(
        "tr",
        { "data-connection": c.connection, "data-status": c.status },
        h("th", { scope: "row" }, connectionLink(c.connection)),
        h("td", { class: "num" }, String(w.index + 1)),
        h("td", { class: `status-${c.status}` }, c.status.replace("-", " ")),
        h("td", { class: "num" }, n === undefined ? "–" : count.format(n.logins)),
        h("td", { class: "num" }, n === undefined ? "–" : `${count.format(n.fallback)} (${share(n.fallbackShare)})`),
        h("td", { class: "num" }, n === undefined ? "–" : `${count.format(n.errors)} (${share(n.errorShare)})`),
        h("td", {}, n === undefined ? "–" : outcome(n)),
        h(
          "td",
          { class: "why" },
          why,
          ...(c.reason === undefined && c.status === "soaking" && c.soakUntil !== undefined ? [time(c.soakUntil)] : []),
        ),
      );
    }),
  );
  byId(IDS.autopilotBody).replaceChildren(
    ...(rows.length > 0 ? rows : [h("tr", {}, h("td", { colspan: String(COLUMNS) }, "The plan has no connections."))]),
  );
}

function renderTimeline(timeline: AutopilotEvent[]): void {
  const items = [...timeline]
    .reverse()
    .map((e) =>
      h(
        "li",
        { "data-kind": e.kind, ...(e.connection === undefined ? {} : { "data-connection": e.connection }) },
        time(e.at),
        " ",
        h("strong", { class: `status-${e.kind}` }, e.kind.replace("-", " ")),
        ...(e.connection === undefined ? [] : [" ", connectionLink(e.connection)]),
        e.wave === null ? "" : ` (wave ${e.wave + 1})`,
        `: ${e.reason}`,
        ...(e.numbers === undefined ? [] : [h("span", { class: "numbers" }, numbersText(e.numbers))]),
        h("span", { class: "numbers" }, `by ${e.actor}`),
      ),
    );
  byId(IDS.autopilotTimeline).replaceChildren(...(items.length > 0 ? items : [h("li", {}, "No decision yet.")]));
}

/** "12 logins · fallback 1 (8.3 %) · errors 0 (0 %) · provider 3 succeeded / 9 failed · alarms: none". */
export function numbersText(n: AutopilotNumbers): string {
  return [
    `${count.format(n.logins)} logins`,
    `fallback ${count.format(n.fallback)} (${share(n.fallbackShare)})`,
    `errors ${count.format(n.errors)} (${share(n.errorShare)})`,
    `provider ${outcome(n)}`,
    `alarms: ${n.alarms.length === 0 ? "none" : n.alarms.join(", ")}`,
  ].join(" · ");
}

function outcome(n: AutopilotNumbers): string {
  return "reason" in n.outcome
    ? `no source (${n.outcome.reason})`
    : `${count.format(n.outcome.succeeded)} succeeded / ${count.format(n.outcome.failed)} failed`;
}

function share(value: number): string {
  return Number.isFinite(value) ? percent.format(value) : "–";
}
