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
import { writerOf } from "../admin/writer";
import type { Env } from "../env";
import { providerSettingsOf, type Rollout, type Route, type RouteInput } from "../table/schema";
import type { Result } from "../writer/durable-object";
import { failureOf } from "./outcome";
import type { FlagSyncReport } from "./reports";
import { workosClientFor, type ClientOptions, type FlagSnapshot } from "./workos-client";

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

/** Reads settings.provider.flagSlug from WorkOS and has the writer mirror it (or, dryRun, just report). */
export async function syncFlags(
  env: Env,
  options: { actor: string; dryRun: boolean },
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
