/** Migration progress: connections migrated of all routes, and transaction affinity's state (GET /status). */
import type { RouteState } from "../../../table/schema";
import { IDS } from "../../ids";
import type { Ctx } from "../context";
import { byId, count, percent, showError } from "../dom";

export async function loadProgress(ctx: Ctx): Promise<void> {
  const answer = await ctx.api.call<{ routes: Record<RouteState, number>; affinity?: string }>("GET", "/status");
  if (!answer.ok) return showError(IDS.progressError, `Route counts unavailable: ${answer.detail}`);
  showError(IDS.progressError, "");
  const affinity = answer.data.affinity;
  byId(IDS.affinityText).textContent =
    affinity === "on"
      ? "Transaction affinity is on: logins Auth0 started finish at Auth0."
      : affinity === "off"
        ? 'Transaction affinity is off (settings.affinity = "off").'
        : "Transaction affinity is not configured (no AFFINITY_SECRET).";
  const { legacy, migrated, rollout } = answer.data.routes;
  const total = legacy + migrated + rollout;
  const bar = byId<HTMLProgressElement>(IDS.progress);
  bar.max = Math.max(total, 1);
  bar.value = migrated;
  byId(IDS.progressText).textContent = `${count.format(migrated)} of ${count.format(total)}`;
  byId(IDS.progressDetail).textContent =
    total === 0
      ? "The route table is empty."
      : `connections migrated (${percent.format(migrated / total)}); ${rollout} in rollout, ${legacy} legacy.`;
}
