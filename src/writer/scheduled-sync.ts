/**
 * What the cron trigger runs: the connections sync, then the flag mirror when
 * settings.provider.mirrorFlag is on. One JSON log line per run; it never
 * throws, since a failed run must only leave the last synced state in force
 * (and there is nobody to answer an exception to).
 */
import type { Env } from "../env";
import { log, type SyncStepLog } from "../log";
import type { ClientOptions } from "../sync/workos-client";
import { providerSettingsOf } from "../table/schema";
import { writerOf } from "./handle";
import { syncConnections, syncFlags } from "./provider-sync";
import type { Result } from "./result";
import type { ConnectionsSyncReport, FlagSyncReport } from "./sync-reports";

/** The audit log's actor for scheduled runs. */
export const SCHEDULED_ACTOR = "sync:workos";

export async function runScheduledSync(env: Env, clientOptions: Partial<ClientOptions> = {}): Promise<void> {
  const started = Date.now();
  let connections: SyncStepLog = { outcome: "skipped" };
  let flags: SyncStepLog = { outcome: "skipped" };
  try {
    if (env.WORKOS_API_KEY === undefined || env.WORKOS_API_KEY.trim() === "") {
      const problem = "WORKOS_API_KEY is not set";
      connections = { outcome: "skipped", problem };
      flags = { outcome: "skipped", problem };
    } else {
      const options = { actor: SCHEDULED_ACTOR, dryRun: false };
      connections = await step(() => syncConnections(env, options, clientOptions), connectionCounts);
      const { mirrorFlag } = providerSettingsOf((await writerOf(env).getSettings()).settings);
      flags = mirrorFlag
        ? await step(() => syncFlags(env, options, clientOptions), flagCounts)
        : { outcome: "skipped", problem: "settings.provider.mirrorFlag is off" };
    }
  } catch (err) {
    const problem = `unexpected: ${err instanceof Error ? err.message.slice(0, 200) : "error"}`;
    if (connections.outcome === "skipped") connections = { outcome: "failed", problem };
    else flags = { outcome: "failed", problem };
  }
  log({ event: "sync", trigger: "scheduled", connections, flags, durationMs: Date.now() - started });
}

async function step<T extends { dryRun: boolean }>(
  run: () => Promise<Result<T>>,
  counts: (report: T) => { changed: boolean; counts: Record<string, number> },
): Promise<SyncStepLog> {
  try {
    const result = await run();
    if (!result.ok) return { outcome: "failed", problem: `${result.status} ${result.title}: ${result.detail}` };
    const summary = counts(result.value);
    return { outcome: summary.changed ? "applied" : "unchanged", counts: summary.counts };
  } catch (err) {
    return { outcome: "failed", problem: `unexpected: ${err instanceof Error ? err.message.slice(0, 200) : "error"}` };
  }
}

function connectionCounts(report: ConnectionsSyncReport): { changed: boolean; counts: Record<string, number> } {
  return {
    changed: report.updated.length > 0,
    counts: {
      providerConnections: report.providerConnections,
      updated: report.updated.length,
      unchanged: report.unchanged.length,
      migrated: report.migrated.length,
      flagged: report.flagged.length,
      critical: report.flagged.filter((f) => f.severity === "critical").length,
      unmatchedProviderConnections: report.unmatchedProviderConnections.length,
      routesWithoutProviderConnection: report.routesWithoutProviderConnection.length,
    },
  };
}

function flagCounts(report: FlagSyncReport): { changed: boolean; counts: Record<string, number> } {
  return {
    changed: report.changed,
    counts: {
      include: report.rollout.include.length,
      exclude: report.rollout.exclude.length,
      added: report.include.added.length + report.exclude.added.length,
      removed: report.include.removed.length + report.exclude.removed.length,
      unknownOrganizations: report.unknownOrganizations.length,
    },
  };
}
