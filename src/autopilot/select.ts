/**
 * Which connections each wave of a plan moves, decided against the route table as it is when
 * the plan is submitted (pure: the routes are passed in). A connection the operator named that
 * cannot be cut over refuses the plan, naming the field (`waves.1.connections.3`); one that an
 * organization or a filter selected is skipped with the reason, so a broad wave still runs.
 * Cannot be cut over: not in the table, not legacy (already migrated or in a rollout), not
 * routable (src/table/routability.ts: some of its usual callbacks would not be identified, and
 * would follow the `unknown` policy instead of the route), in an earlier wave of this plan, or
 * in another plan that is still running.
 */
import { routabilityOf } from "../table/routability";
import { organizationsOf, type RouteInput } from "../table/schema";
import type { FieldError } from "../table/validate";
import { CANARY_MAX, durationMs, PLAN_MAX_CONNECTIONS, type Gates, type Plan } from "./plan";

export interface Skipped {
  connection: string;
  reason: string;
}

/** A wave as the engine runs it: its connections fixed, durations in ms, gates complete. */
export interface ResolvedWave {
  name: string;
  canary: boolean;
  soakMs: number;
  gates: Gates;
  connections: string[];
  skipped: Skipped[];
}

export type Selection = { ok: true; waves: ResolvedWave[] } | { ok: false; errors: FieldError[] };

/** Why `route` cannot be cut over, or undefined when it can. */
export function cannotCutOver(
  route: RouteInput | undefined,
  connection: string,
  inOtherPlan: ReadonlyMap<string, string>,
): string | undefined {
  if (route === undefined) return "not in the route table";
  if (route.state === "migrated") return "already migrated";
  if (route.state !== "legacy") return `in state ${route.state}: only legacy connections are cut over`;
  const other = inOtherPlan.get(connection);
  if (other !== undefined) return `in plan ${other}, which is still running`;
  const routability = routabilityOf(route);
  if (routability.level !== "routable") {
    return `not routable (${routability.level}): ${routability.reason}`;
  }
  return undefined;
}

/**
 * The plan's waves with their connections. `inOtherPlan`: connection → id of a running plan
 * that holds it.
 */
export function selectWaves(
  plan: Plan,
  routes: readonly RouteInput[],
  inOtherPlan: ReadonlyMap<string, string> = new Map(),
): Selection {
  const byName = new Map(routes.map((r) => [r.connection, r]));
  const sorted = [...routes].sort((a, b) => (a.connection < b.connection ? -1 : 1));
  const taken = new Map<string, number>();
  const errors: FieldError[] = [];
  const waves: ResolvedWave[] = [];
  let total = 0;

  plan.waves.forEach((wave, i) => {
    const at = `waves.${i}`;
    const connections: string[] = [];
    const skipped: Skipped[] = [];
    const chosen = new Set<string>();
    if (wave.connections === undefined && wave.organizations === undefined && wave.filter === undefined) {
      errors.push({ field: at, reason: "selects nothing: give connections, organizations or filter" });
    }
    wave.connections?.forEach((name, j) => {
      const earlier = taken.get(name);
      const why =
        earlier !== undefined
          ? `already in waves.${earlier}`
          : chosen.has(name)
            ? "named twice in this wave"
            : cannotCutOver(byName.get(name), name, inOtherPlan);
      if (why !== undefined) errors.push({ field: `${at}.connections.${j}`, reason: `${name}: ${why}` });
      else chosen.add(name);
    });
    connections.push(...chosen);

    const broad: RouteInput[] = [];
    if (wave.organizations !== undefined) {
      const orgs = new Set(wave.organizations);
      const found = new Set<string>();
      for (const route of sorted) {
        const mine = organizationsOf(route).filter((o) => orgs.has(o));
        if (mine.length === 0) continue;
        mine.forEach((o) => found.add(o));
        broad.push(route);
      }
      wave.organizations.forEach((org, j) => {
        if (!found.has(org)) errors.push({ field: `${at}.organizations.${j}`, reason: `${org}: no route has it` });
      });
    }
    if (wave.filter !== undefined) {
      const f = wave.filter;
      for (const route of sorted) {
        if (route.state !== f.state) continue;
        if (f.protocol !== undefined && (route.protocol === undefined || !f.protocol.includes(route.protocol)))
          continue;
        if (f.organization !== undefined && !organizationsOf(route).some((o) => f.organization?.includes(o))) continue;
        if (f.routable && routabilityOf(route).level !== "routable") {
          skipped.push({ connection: route.connection, reason: "not routable (filter routable: true)" });
          continue;
        }
        broad.push(route);
      }
    }
    let room = wave.limit === undefined ? Infinity : Math.max(0, wave.limit - connections.length);
    for (const route of broad) {
      const name = route.connection;
      if (chosen.has(name)) continue;
      const earlier = taken.get(name);
      const why =
        earlier !== undefined ? `already in waves.${earlier}` : cannotCutOver(byName.get(name), name, inOtherPlan);
      if (why !== undefined) {
        if (!skipped.some((s) => s.connection === name)) skipped.push({ connection: name, reason: why });
        continue;
      }
      if (room <= 0) {
        skipped.push({ connection: name, reason: `over the wave's limit of ${wave.limit}` });
        continue;
      }
      chosen.add(name);
      connections.push(name);
      room--;
    }
    for (const name of connections) taken.set(name, i);
    total += connections.length;

    if (connections.length === 0 && errors.every((e) => !e.field.startsWith(at))) {
      errors.push({
        field: at,
        reason: `selects no connection that can be cut over${skipped.length > 0 ? ` (${skipped.length} skipped: ${skipped[0]?.connection}: ${skipped[0]?.reason}${skipped.length > 1 ? ", …" : ""})` : ""}`,
      });
    }
    if (wave.canary && connections.length > CANARY_MAX) {
      errors.push({
        field: `${at}.canary`,
        reason: `a canary wave holds at most ${CANARY_MAX} connections; this one selects ${connections.length}`,
      });
    }
    const gates: Gates = { ...plan.gates, ...stripUndefined(wave.gates ?? {}) };
    waves.push({
      name: wave.name ?? (wave.canary ? `canary, wave ${i + 1}` : `wave ${i + 1}`),
      canary: wave.canary,
      soakMs: durationMs(wave.soak) ?? 0,
      gates,
      connections,
      skipped,
    });
  });
  if (total > PLAN_MAX_CONNECTIONS) {
    errors.push({ field: "waves", reason: `moves ${total} connections; a plan moves at most ${PLAN_MAX_CONNECTIONS}` });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, waves };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
