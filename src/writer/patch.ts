/** Partial changes (PATCH bodies): null removes a field, undefined leaves it as it was. */
import type { ProviderSettings, RouteInput, Settings } from "../table/schema";

/** Fields a PATCH may change; null removes an optional field. */
export type RoutePatch = Partial<{
  [K in Exclude<keyof RouteInput, "connection">]: RouteInput[K] | null;
}>;

/** Settings fields to change; null removes one. `provider` is merged field by field onto the current one. */
export type SettingsPatch = { [K in Exclude<keyof Settings, "provider">]?: Settings[K] | null } & {
  provider?: Partial<ProviderSettings> | null;
};

/** `base` with `patch` applied: null removes a field, undefined leaves it as it was. */
export function mergePatch(base: object, patch: object): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) delete merged[field];
    else if (value !== undefined) merged[field] = value;
  }
  return merged;
}

/** Settings with `patch` applied; `provider` merges field by field, so changing one of its settings keeps the others. */
export function mergeSettingsPatch(base: Settings, patch: SettingsPatch): Record<string, unknown> {
  const merged = mergePatch(base, patch);
  if (patch.provider !== undefined && patch.provider !== null) {
    merged["provider"] = { ...base.provider, ...patch.provider };
  }
  return merged;
}
