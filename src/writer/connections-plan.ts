/**
 * Keeps routes in step with the provider's connections.
 *
 * `planConnectionsSync` is pure: given the table and the provider's list, it
 * says which routes to rewrite and what to report. The writer Durable Object
 * runs it (through `checkConnectionsSync`) against its own current table and
 * applies the result in one transaction, so nothing can change in between;
 * provider-sync.ts does the I/O around it. A failed fetch applies nothing, and
 * routes keep the provider state last synced.
 */
import type { ProviderConnection } from "../sync/workos-client";
import { providerSettingsOf, RouteInput, type Route, type Settings } from "../table/schema";
import { zodErrors } from "../table/validate";
import { inputOf } from "./diff";
import { unusable, type Failure } from "./result";
import type { ConnectionsSyncReport } from "./sync-reports";

export interface ConnectionsPlan {
  /** Routes to write (each with providerSyncedAt = the run's time). */
  writes: RouteInput[];
  report: Omit<ConnectionsSyncReport, "dryRun">;
}

/** Fields whose change makes a route "updated" (providerSyncedAt alone never does). */
const COMPARED = ["state", "providerConnectionId", "providerState", "providerOrganizationId"] as const;

export function planConnectionsSync(
  routes: Array<Route | RouteInput>,
  connections: ProviderConnection[],
  options: { autoMigrate: boolean; at: string },
): ConnectionsPlan {
  const report: ConnectionsPlan["report"] = {
    providerConnections: connections.length,
    updated: [],
    unchanged: [],
    migrated: [],
    unmatchedProviderConnections: [],
    routesWithoutProviderConnection: [],
    flagged: [],
  };
  const writes: RouteInput[] = [];
  const byId = new Map(connections.map((c) => [c.id, c]));
  const byName = new Map<string, ProviderConnection[]>();
  for (const c of connections) byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
  const ordered = [...routes].sort((a, b) => (a.connection < b.connection ? -1 : a.connection > b.connection ? 1 : 0));
  // A connection some route already names by id is taken: no other route gets it by name.
  const claimedById = new Set(
    ordered.flatMap((r) => (r.providerConnectionId === undefined ? [] : [r.providerConnectionId])),
  );
  const linked = new Set<string>();
  const notLinkedWhy = new Map<string, string>();

  for (const route of ordered) {
    const current = inputOf(route);
    let match: ProviderConnection | undefined;
    let missing = "";
    if (current.providerConnectionId !== undefined) {
      match = byId.get(current.providerConnectionId);
      missing = `providerConnectionId ${current.providerConnectionId} is not among the provider's connections`;
    } else {
      const named = (byName.get(current.connection) ?? []).filter((c) => !claimedById.has(c.id));
      if (named.length === 1) match = named[0];
      else if (named.length > 1) {
        missing = `${named.length} provider connections are named "${current.connection}"; set providerConnectionId to pick one`;
        for (const c of named) notLinkedWhy.set(c.id, `its name is shared by ${named.length} provider connections`);
      } else missing = `no provider connection has this id or name`;
    }

    const next: RouteInput = { ...current };
    if (match === undefined) {
      // The stored state described a connection the provider no longer lists: it is not known to be active.
      delete next.providerState;
      delete next.providerOrganizationId;
      report.routesWithoutProviderConnection.push({
        connection: current.connection,
        state: current.state,
        reason: missing,
      });
      if (current.state !== "legacy") {
        report.flagged.push({
          connection: current.connection,
          state: current.state,
          providerConnectionId: current.providerConnectionId ?? null,
          providerState: null,
          severity: "critical",
          reason: `${current.state}, but ${missing}`,
        });
      }
    } else {
      linked.add(match.id);
      next.providerConnectionId = match.id;
      next.providerState = match.state;
      if (match.organizationId === null) delete next.providerOrganizationId;
      else next.providerOrganizationId = match.organizationId;
      if (options.autoMigrate && current.state === "legacy" && match.state === "active") {
        next.state = "migrated";
        report.migrated.push(current.connection);
      }
      if (match.state !== "active") {
        const critical = next.state !== "legacy";
        report.flagged.push({
          connection: current.connection,
          state: next.state,
          providerConnectionId: match.id,
          providerState: match.state,
          severity: critical ? "critical" : "warning",
          reason: critical
            ? `${next.state}, but its provider connection is ${match.state}: callbacks sent there may fail`
            : `its provider connection is ${match.state}`,
        });
      }
    }

    const fields = COMPARED.filter((f) => current[f] !== next[f]);
    if (fields.length === 0) {
      report.unchanged.push(current.connection);
    } else {
      next.providerSyncedAt = options.at;
      writes.push(next);
      report.updated.push({ connection: current.connection, fields: [...fields] });
    }
  }

  const routeNames = new Set(ordered.map((r) => r.connection));
  for (const c of connections) {
    if (linked.has(c.id)) continue;
    const reason =
      notLinkedWhy.get(c.id) ??
      (routeNames.has(c.name)
        ? `route "${c.name}" is linked to another provider connection`
        : "no route has this providerConnectionId or connection name");
    report.unmatchedProviderConnections.push({
      id: c.id,
      name: c.name,
      state: c.state,
      organizationId: c.organizationId,
      reason,
    });
  }
  return { writes, report };
}

/**
 * The plan for the table as it is, with settings.provider.autoMigrate; a
 * Failure (502, nothing applied) when the provider's data would make a route
 * the table refuses.
 */
export function checkConnectionsSync(
  routes: Route[],
  settings: Settings,
  connections: ProviderConnection[],
  at: string,
): { ok: true; value: ConnectionsPlan } | Failure {
  const { autoMigrate } = providerSettingsOf(settings);
  const plan = planConnectionsSync(routes, connections, { autoMigrate, at });
  const errors = plan.writes.flatMap((route) => {
    const parsed = RouteInput.safeParse(route);
    return parsed.success ? [] : zodErrors(parsed.error, `routes.${route.connection}`);
  });
  return errors.length > 0 ? unusable(errors) : { ok: true, value: plan };
}
