/**
 * The dry run's answer (PATCH /routes/{c}, PUT /settings and PUT /rollout with ?dryRun=true): the
 * writer rehearses the change and rolls it back (src/writer/durable-object.ts), and the
 * router (over its ROUTER binding, src/router-rpc.ts) decides with its own code and KV, the
 * change's values laid over it (src/callback/preview.ts). Nothing is written: not the table, KV or the audit log.
 */
import * as z from "zod";
import type { ConnectionPreview, LoginCounts } from "../callback/preview";
import type { Env } from "../env";
import type { Writer } from "../writer";
import type { KvOverlay } from "../table/overlay-kv";
import { ApiProblem } from "./problem";
import { askRouter, routerOf } from "./router-client";
import { RoutabilitySchema } from "./schemas";
import { isConnectionName } from "../table/schema";
import { NOT_IN_TABLE } from "../stats/rows";
import { UNIDENTIFIED } from "../stats/outcome";

/** `?dryRun=true` on a change: answer what it would change, write nothing. */
export const DryRunQuery = z.object({
  dryRun: z.enum(["true", "false"]).default("false").meta({
    description:
      "true: answer what the change would do (the router's own decision per callback shape before and after, the routability, logins of the last 24 h that would have gone elsewhere); nothing is written or audited",
  }),
});

const SideSchema = z.object({ destination: z.enum(["new", "auth0", "page"]), reason: z.string() });

export const ConnectionPreviewSchema = z
  .object({
    connection: z.string(),
    before: SideSchema.meta({ description: "The connection's answer now (as GET /evaluate gives it)" }),
    after: SideSchema.meta({ description: "Its answer once the change has reached KV" }),
    callbacks: z.array(
      z.object({
        shape: z.string(),
        usual: z.boolean(),
        before: SideSchema.optional(),
        after: SideSchema.optional(),
        changes: z.boolean(),
      }),
    ),
    routability: z.object({ before: RoutabilitySchema.nullable(), after: RoutabilitySchema.nullable() }),
    last24h: z.object({
      logins: z.number().int(),
      auth0: z.number().int(),
      new: z.number().int(),
      affinity: z.number().int(),
      wouldMove: z.number().int().meta({ description: "Logins of the last 24 h the change would have sent elsewhere" }),
      basis: z.string(),
    }),
  })
  .meta({
    id: "ConnectionPreview",
    description:
      "What a change would do to one connection's callbacks: the router's own decision per callback shape before and after",
  });

/** Each previewed connection, decided by the router before and after the rehearsed change's KV values. */
export async function previewConnections(
  env: Env,
  connections: readonly string[],
  kv: KvOverlay,
  counts: ReadonlyMap<string, LoginCounts>,
): Promise<ConnectionPreview[]> {
  const router = routerOf(env);
  const out: ConnectionPreview[] = [];
  // One call per PREVIEW_CHUNK connections: each call is one invocation of the router, and
  // deciding a connection reads a few KV keys twice (before, after), so a chunk stays far
  // below a Worker invocation's KV operation limit.
  for (let i = 0; i < connections.length; i += PREVIEW_CHUNK) {
    const chunk = connections.slice(i, i + PREVIEW_CHUNK);
    const wanted: Record<string, LoginCounts> = {};
    for (const connection of chunk) {
      const c = counts.get(connection);
      if (c !== undefined) wanted[connection] = { logins: c.logins, auth0: c.auth0, new: c.new, affinity: c.affinity };
    }
    const answer = await askRouter(() => router.preview({ connections: chunk, kv, counts: wanted }));
    if (!answer.ok) {
      throw new ApiProblem(503, "Router misconfigured", `Fix: ${answer.problems.map((p) => p.variable).join(", ")}.`);
    }
    out.push(...answer.connections);
  }
  return out;
}

/** Connections decided per call to the router (previewConnections). */
const PREVIEW_CHUNK = 25;

/** The fields whose values differ between two records (`killSwitch.on`, `rollout.percentage`, `state`). */
export function changedFields(before: unknown, after: unknown, path = ""): string[] {
  const isRecord = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isRecord(before) || !isRecord(after)) return JSON.stringify(before) === JSON.stringify(after) ? [] : [path];
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => k !== "version" && k !== "updatedAt" && k !== "since" && k !== "by")
    .flatMap((k) => changedFields(before[k], after[k], path === "" ? k : `${path}.${k}`));
}

/** At most this many connections are decided and listed by a settings or rollout dry run. */
export const PREVIEW_MAX_CONNECTIONS = 200;

export const TablePreviewSchema = z
  .object({
    connections: z.array(ConnectionPreviewSchema).meta({
      description: `The connections decided before and after (at most ${PREVIEW_MAX_CONNECTIONS}): those with the most logins in the last 24 h first, then the table's routes by name`,
    }),
    changed: z
      .number()
      .int()
      .meta({ description: "Of those listed, how many have a callback shape whose decision changes" }),
    wouldMove: z.number().int().meta({
      description:
        "Logins of the last 24 h that would have gone elsewhere, summed over the listed connections, notInTable and unidentified",
    }),
    notInTable: ConnectionPreviewSchema.meta({
      description: `Every connection without a route, as one: its callbacks (decided by the unknown policy) before and after, and the counters' ${NOT_IN_TABLE} logins of the last 24 h`,
    }),
    unidentified: ConnectionPreviewSchema.meta({
      description: `The logins no connection could be identified for (an OIDC GET without iss, a SAML post the table cannot match), as one: those callbacks (decided by the unknown policy) before and after, and the counters' ${UNIDENTIFIED} logins of the last 24 h`,
    }),
    notListed: z.object({
      connections: z.number().int().meta({
        description: "Connections with logins in the last 24 h or a route, beyond the listed ones: not decided",
      }),
      logins: z.number().int().meta({ description: "Their logins of the last 24 h" }),
    }),
  })
  .meta({ id: "TablePreview", description: "A settings or rollout change, connection by connection" });

export type TablePreview = z.infer<typeof TablePreviewSchema>;

/**
 * A settings or rollout change's preview across the table (PUT /settings and /rollout ?dryRun=true):
 * every connection with logins in the last 24 h (most logins first), then every route of the
 * table by name; the first PREVIEW_MAX_CONNECTIONS of them are decided by the router before and
 * after `kv`, the rest counted with their logins, not decided. Connections without a route are
 * counted as one (NOT_IN_TABLE, as the counters keep them) and decided under a name no route
 * can have (the unknown policy decides them all alike); the counters' UNIDENTIFIED logins (no
 * connection identified) likewise, as `unidentified`, by the callbacks that identify none. `counts` are every connection's
 * logins of the last 24 h (admin/stats-api.ts loginsOfLast24h). Reads the table's route names
 * a page at a time, only as many as there are places left.
 */
export async function previewTable(
  env: Env,
  kv: KvOverlay,
  counts: ReadonlyMap<string, LoginCounts>,
  writer: Writer,
): Promise<TablePreview> {
  const withLogins = [...counts.entries()]
    .filter(([connection, c]) => isConnectionName(connection) && c.logins > 0)
    .sort(([a, x], [b, y]) => y.logins - x.logins || (a < b ? -1 : 1))
    .map(([connection]) => connection);
  const seen = new Set(withLogins);
  const routeNames: string[] = [];
  for (let after: string | undefined; withLogins.length + routeNames.length < PREVIEW_MAX_CONNECTIONS;) {
    const page = await writer.listRoutes({ after, limit: PREVIEW_MAX_CONNECTIONS });
    routeNames.push(...page.routes.map((r) => r.connection).filter((c) => !seen.has(c)));
    if (page.next === null) break;
    after = page.next;
  }
  const decided = [...withLogins, ...routeNames].slice(0, PREVIEW_MAX_CONNECTIONS);
  const [status, routed] = await Promise.all([writer.status(), writer.statesOf(withLogins)]);
  const routes = Object.values(status.routes).reduce((n, k) => n + k, 0);
  const candidates = withLogins.length + routes - Object.keys(routed).length;
  const notDecided = withLogins.slice(PREVIEW_MAX_CONNECTIONS);
  // A valid name without a route stands for them all; the counters' NOT_IN_TABLE row are its logins.
  let probe = "not-in-table";
  for (let i = 2; (await writer.getRoute(probe)) !== null; i++) probe = `not-in-table-${i}`;
  const withProbe = new Map(counts);
  const unrouted = counts.get(NOT_IN_TABLE);
  if (unrouted !== undefined) withProbe.set(probe, unrouted);
  // UNIDENTIFIED: the router decides the callbacks it identifies no connection for (callback/preview.ts).
  const [unknown, unidentified, ...connections] = await previewConnections(
    env,
    [probe, UNIDENTIFIED, ...decided],
    kv,
    withProbe,
  );
  if (unknown === undefined || unidentified === undefined) {
    throw new Error("the router answered no preview for connections not in the table or unidentified");
  }
  return {
    connections,
    notInTable: { ...unknown, connection: NOT_IN_TABLE },
    unidentified,
    changed: connections.filter((p) => p.callbacks.some((s) => s.changes)).length,
    wouldMove: [unknown, unidentified, ...connections].reduce((n, p) => n + p.last24h.wouldMove, 0),
    notListed: {
      connections: Math.max(0, candidates - decided.length),
      logins: notDecided.reduce((n, c) => n + (counts.get(c)?.logins ?? 0), 0),
    },
  };
}
