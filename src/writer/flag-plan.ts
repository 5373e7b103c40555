/**
 * Mirrors a WorkOS feature flag's organization targets into the rollout lists:
 * enabled → include, disabled → exclude; the percentage is left alone.
 *
 * WorkOS targets its own organization ids; the lists hold route organizations
 * (or connection names). Routes carry the link (providerOrganizationId, from
 * the connections sync), so a target becomes the `organization` of every route
 * with that providerOrganizationId, or its connection name when it has none.
 *
 * The mirror owns the list entries of linked organizations only: such an entry
 * is added, moved or removed as the flag says. Entries no route links to a
 * WorkOS organization (added by hand) are kept. A failed fetch changes nothing,
 * so the last mirrored lists stay in force.
 */
import type { FlagSnapshot } from "../sync/workos-client";
import { providerSettingsOf, Settings, type Rollout, type Route, type RouteInput } from "../table/schema";
import { zodErrors } from "../table/validate";
import { unusable, type Failure } from "./result";
import type { FlagSyncReport } from "./sync-reports";

export interface FlagPlan {
  rollout: Rollout;
  report: Omit<FlagSyncReport, "dryRun">;
}

export function planFlagMirror(routes: Array<Route | RouteInput>, rollout: Rollout, flag: FlagSnapshot): FlagPlan {
  const valuesByOrg = new Map<string, Set<string>>();
  for (const route of routes) {
    if (route.providerOrganizationId === undefined) continue;
    const values = valuesByOrg.get(route.providerOrganizationId) ?? new Set<string>();
    values.add(route.organization ?? route.connection);
    valuesByOrg.set(route.providerOrganizationId, values);
  }
  const owned = new Set([...valuesByOrg.values()].flatMap((values) => [...values]));

  const enabled = new Set<string>();
  const disabled = new Set<string>();
  const unknown = new Set<string>();
  for (const target of flag.organizations) {
    const values = valuesByOrg.get(target.id);
    if (values === undefined) unknown.add(target.id);
    else for (const value of values) (target.enabled ? enabled : disabled).add(value);
  }
  // The router checks exclude before include; say so rather than pick silently.
  const conflicts = [...enabled].filter((v) => disabled.has(v)).sort();
  for (const value of conflicts) enabled.delete(value);

  const include = mirrorList(rollout.include, owned, enabled);
  const exclude = mirrorList(rollout.exclude, owned, disabled);
  const warnings: string[] = [];
  if (!flag.enabled) {
    warnings.push(
      `the flag "${flag.slug}" is switched off at WorkOS (there it is false for every organization); its targets were mirrored as listed`,
    );
  }
  if (conflicts.length > 0) {
    warnings.push(
      `${conflicts.length} value(s) are enabled by one WorkOS organization and disabled by another: excluded`,
    );
  }
  const next: Rollout = { percentage: rollout.percentage, include, exclude };
  return {
    rollout: next,
    report: {
      flag: flag.slug,
      flagEnabled: flag.enabled,
      defaultValue: flag.defaultValue,
      changed: !sameList(include, rollout.include) || !sameList(exclude, rollout.exclude),
      rollout: next,
      include: changes(rollout.include, include),
      exclude: changes(rollout.exclude, exclude),
      unknownOrganizations: [...unknown].sort(),
      conflicts,
      warnings,
    },
  };
}

/** Keeps the current order (no churn when nothing changed); unlinked entries stay, linked ones follow `wanted`. */
function mirrorList(current: string[], owned: Set<string>, wanted: Set<string>): string[] {
  const kept = [...new Set(current.filter((v) => !owned.has(v) || wanted.has(v)))];
  const present = new Set(kept);
  return [...kept, ...[...wanted].filter((v) => !present.has(v)).sort()];
}

function changes(before: string[], after: string[]): { added: string[]; removed: string[] } {
  const was = new Set(before);
  const now = new Set(after);
  return { added: after.filter((v) => !was.has(v)), removed: before.filter((v) => !now.has(v)) };
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * The mirror for the table and settings as they are: the settings to write
 * and the report. 409 when settings.provider.flagSlug changed since the flag
 * was read; 502 when the result would be settings the table refuses.
 */
export function checkFlagSync(
  routes: Route[],
  settings: Settings,
  flag: FlagSnapshot,
): { ok: true; value: FlagPlan & { settings: Settings } } | Failure {
  const { flagSlug } = providerSettingsOf(settings);
  if (flag.slug !== flagSlug) {
    return {
      ok: false,
      status: 409,
      title: "Settings changed",
      detail: `settings.provider.flagSlug changed to "${flagSlug}" during the sync; run it again`,
    };
  }
  const plan = planFlagMirror(routes, settings.rollout, flag);
  const next = Settings.safeParse({ ...settings, rollout: plan.rollout });
  if (!next.success) return unusable(zodErrors(next.error, "settings"));
  return { ok: true, value: { ...plan, settings: next.data } };
}
