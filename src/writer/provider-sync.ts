/**
 * The provider syncs, Worker side: read WorkOS (src/sync), then have the
 * writer apply (or, dryRun, just report) the change against its own current
 * table. The management API and the cron trigger both call these. A WorkOS
 * failure is a Failure like any other: nothing is applied, and the last
 * synced state stays in force.
 */
import type { Env } from "../env";
import { WorkosError, workosClientFor, type ClientOptions, type ClientSetup } from "../sync/workos-client";
import type { FlagSnapshot, ProviderConnection } from "../sync/workos-client";
import { providerSettingsOf } from "../table/schema";
import { writerOf } from "./handle";
import type { Failure, Result, DryRunOptions } from "./result";
import type { ConnectionsSyncReport, FlagSyncReport } from "./sync-reports";

/** Fetches the provider's connections and has the writer apply (or, dryRun, just report) the sync. */
export async function syncConnections(
  env: Env,
  options: DryRunOptions,
  clientOptions: Partial<ClientOptions> = {},
): Promise<Result<ConnectionsSyncReport>> {
  const setup = workosClientFor(env, clientOptions);
  if (!setup.ok) return failureOf(setup);
  let connections: ProviderConnection[];
  try {
    connections = await setup.client.listConnections();
  } catch (err) {
    return failureOf(err);
  }
  return writerOf(env).applyConnectionsSync(connections, options);
}

/** Reads settings.provider.flagSlug from WorkOS and has the writer mirror it (or, dryRun, just report). */
export async function syncFlags(
  env: Env,
  options: DryRunOptions,
  clientOptions: Partial<ClientOptions> = {},
): Promise<Result<FlagSyncReport>> {
  const setup = workosClientFor(env, clientOptions);
  if (!setup.ok) return failureOf(setup);
  const writer = writerOf(env);
  const { flagSlug } = providerSettingsOf((await writer.getSettings()).settings);
  let flag: FlagSnapshot;
  try {
    flag = await setup.client.getFeatureFlag(flagSlug);
  } catch (err) {
    return failureOf(err);
  }
  return writer.applyFlagSync(flag, options);
}

/** `cause`: a ClientSetup that failed, or what a WorkosClient call threw. */
export function failureOf(cause: unknown): Failure {
  if (isSetupProblem(cause)) {
    return {
      ok: false,
      status: 503,
      title: "Provider sync not configured",
      detail: `${cause.variable} ${cause.reason}; nothing was synced.`,
    };
  }
  if (cause instanceof WorkosError) {
    return {
      ok: false,
      status: 502,
      title: "WorkOS unavailable or malformed",
      detail: `${cause.message}. Nothing was applied; the last synced state stays in force.`,
      ...(cause.field === undefined ? {} : { errors: [{ field: cause.field, reason: cause.message }] }),
    };
  }
  // Not WorkOS' fault: a bug here must surface, not pass for an outage.
  throw cause;
}

function isSetupProblem(value: unknown): value is Extract<ClientSetup, { ok: false }> {
  return typeof value === "object" && value !== null && "ok" in value && value.ok === false && "variable" in value;
}
