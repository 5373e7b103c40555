/** The audit log: the latest 50 changes, newest first. */
import { IDS } from "../../ids";
import { auditRows, type AuditEntry } from "../audit";
import type { Ctx } from "../context";
import { byId, showError } from "../dom";

export async function loadAudit(ctx: Ctx): Promise<void> {
  const answer = await ctx.api.call<{ entries: AuditEntry[] }>("GET", "/audit?limit=50");
  if (!answer.ok) return showError(IDS.auditError, `The audit log could not be read: ${answer.detail}`);
  showError(IDS.auditError, "");
  byId(IDS.auditBody).replaceChildren(...auditRows(answer.data.entries, 5));
}
