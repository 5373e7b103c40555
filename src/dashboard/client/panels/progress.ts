/** Migration progress: connections migrated of all routes (GET /status). */
import type { RouteState } from "../../../table/schema";
import { IDS } from "../../ids";
import type { Ctx } from "../context";
import { byId, count, percent, showError } from "../dom";

export async function loadProgress(ctx: Ctx): Promise<void> {
  const answer = await ctx.api.call<{ routes: Record<RouteState, number> }>("GET", "/status");
  if (!answer.ok) return showError(IDS.progressError, `Route counts unavailable: ${answer.detail}`);
  showError(IDS.progressError, "");
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
