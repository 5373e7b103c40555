/**
 * A whole-table import, checked all or nothing before anything is written:
 * every row (schema, targets), no connection twice, no two routes claiming one
 * match value, the settings, and the provider guard as the settings will be
 * afterwards. Pure: the writer passes the table as it is and applies the plan.
 */
import type { TargetConfig } from "../config";
import { findMatchConflicts } from "../table/matches";
import type { Route, RouteInput, Settings } from "../table/schema";
import { validateRoute, validateSettings, type FieldError } from "../table/validate";
import { isRetiring } from "./retirement";
import { diffRoutes, inputOf, settingsDiffer, type ImportDiff } from "./diff";
import { inactiveReason, keepSyncedFields } from "./provider-fields";
import { invalid, type Failure } from "./result";

export interface ImportPlan {
  routes: RouteInput[];
  /** Settings fields to change (merged onto the current settings). */
  settings?: Partial<Settings> | undefined;
  /** true: routes absent from the import are deleted. */
  replace: boolean;
}

export interface CheckedImport {
  /** Every imported route, validated, with the stored synced fields kept. */
  routes: RouteInput[];
  /** The settings after the import, when the plan changes them. */
  settings: Settings | undefined;
  diff: ImportDiff;
}

export function checkImport(
  plan: ImportPlan,
  current: Route[],
  currentSettings: Settings,
  config: TargetConfig,
): { ok: true; value: CheckedImport } | Failure {
  const errors: FieldError[] = [];
  const stored = new Map(current.map((r) => [r.connection, r]));
  const valid: Array<{ route: RouteInput; row: number }> = [];
  plan.routes.forEach((raw, row) => {
    const connection = (raw as { connection?: unknown }).connection;
    const storedNote = typeof connection === "string" ? stored.get(connection)?.note : undefined;
    const checked = validateRoute(raw, config, `routes.${row}`, storedNote);
    if (checked.ok) {
      const route = keepSyncedFields(checked.route, stored.get(checked.route.connection) ?? null);
      valid.push({ route, row });
    } else errors.push(...checked.errors);
  });
  // The table as it would be afterwards: routes kept from the table first, so a
  // conflict is reported against the imported row that causes it.
  const incoming = new Set(valid.map((v) => v.route.connection));
  const kept = plan.replace ? [] : current.filter((r) => !incoming.has(r.connection)).map(inputOf);
  const seen = new Map<string, number>();
  for (const { route, row } of valid) {
    const first = seen.get(route.connection);
    if (first !== undefined) errors.push({ field: `routes.${row}.connection`, reason: `duplicate of routes.${first}` });
    else seen.set(route.connection, row);
  }
  for (const conflict of findMatchConflicts([...kept, ...valid.map((v) => v.route)])) {
    const row = valid[conflict.index - kept.length]?.row;
    if (row !== undefined) errors.push({ field: `routes.${row}.${conflict.field}`, reason: conflict.message });
  }
  let settings: Settings | undefined;
  if (plan.settings !== undefined) {
    const checked = validateSettings({ ...currentSettings, ...plan.settings }, config, "settings");
    if (!checked.ok) errors.push(...checked.errors);
    else if (isRetiring(currentSettings, checked.settings)) {
      // Retiring is checked against the counters: only PUT /settings does that.
      errors.push({
        field: "settings.auth0",
        reason:
          "an import cannot retire Auth0: use PUT /settings (npm run routes -- settings --auth0 retired), which checks it",
      });
    } else {
      // The same `on` keeps the stored since/by (a file's own, e.g. an export's, are not news).
      const { killSwitch } = checked.settings;
      settings = {
        ...checked.settings,
        killSwitch:
          killSwitch.on === currentSettings.killSwitch.on ? currentSettings.killSwitch : { on: killSwitch.on },
      };
    }
  }
  // requireActive (as the settings will be after the import) applies to every row the import writes.
  const routes = valid.map((v) => v.route);
  const rowsWritten = diffRoutes(current, routes, false);
  const written = new Set([...rowsWritten.added, ...rowsWritten.changed.map((c) => c.connection)]);
  const after = settings ?? currentSettings;
  for (const { route, row } of valid) {
    const reason = written.has(route.connection) ? inactiveReason(route, after) : null;
    if (reason !== null) errors.push({ field: `routes.${row}.state`, reason });
  }
  if (errors.length > 0) {
    return invalid(errors, "Nothing was imported: fix every listed row and send the whole file again.");
  }
  const diff: ImportDiff = {
    ...diffRoutes(current, routes, plan.replace),
    settingsChanged: settings !== undefined && settingsDiffer(settings, currentSettings),
  };
  return { ok: true, value: { routes, settings, diff } };
}
