/** What an import would change, computed before anything is written. */
import type { Route, RouteInput } from "../table/schema";

export interface ImportDiff {
  added: string[];
  changed: Array<{ connection: string; fields: string[] }>;
  removed: string[];
  unchanged: string[];
  settingsChanged: boolean;
}

const FIELDS = [
  "organization",
  "organizations",
  "protocol",
  "state",
  "target",
  "match",
  "providerConnectionId",
  "providerState",
  "providerOrganizationId",
  "providerSyncedAt",
  "note",
] as const;

/** The operator-owned part of a route, for comparison (no version or timestamps). */
export function inputOf(route: Route | RouteInput): RouteInput {
  const out: RouteInput = { connection: route.connection, state: route.state };
  if (route.organization !== undefined) out.organization = route.organization;
  if (route.organizations !== undefined) out.organizations = route.organizations;
  if (route.protocol !== undefined) out.protocol = route.protocol;
  if (route.target !== undefined) out.target = route.target;
  if (route.match !== undefined && Object.keys(route.match).length > 0) out.match = route.match;
  if (route.providerConnectionId !== undefined) out.providerConnectionId = route.providerConnectionId;
  if (route.providerState !== undefined) out.providerState = route.providerState;
  if (route.providerOrganizationId !== undefined) out.providerOrganizationId = route.providerOrganizationId;
  if (route.providerSyncedAt !== undefined) out.providerSyncedAt = route.providerSyncedAt;
  if (route.note !== undefined) out.note = route.note;
  return out;
}

function same(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
}

export function diffRoutes(
  current: Route[],
  incoming: RouteInput[],
  replace: boolean,
): Omit<ImportDiff, "settingsChanged"> {
  const byName = new Map(current.map((r) => [r.connection, inputOf(r)]));
  const diff: Omit<ImportDiff, "settingsChanged"> = { added: [], changed: [], removed: [], unchanged: [] };
  const seen = new Set<string>();
  for (const next of incoming.map(inputOf)) {
    seen.add(next.connection);
    const prior = byName.get(next.connection);
    if (prior === undefined) {
      diff.added.push(next.connection);
      continue;
    }
    const fields = FIELDS.filter((f) => !same(prior[f], next[f]));
    if (fields.length === 0) diff.unchanged.push(next.connection);
    else diff.changed.push({ connection: next.connection, fields: [...fields] });
  }
  if (replace) for (const name of byName.keys()) if (!seen.has(name)) diff.removed.push(name);
  return diff;
}

export function settingsDiffer(a: unknown, b: unknown): boolean {
  return !same(a, b);
}
