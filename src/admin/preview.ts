/**
 * The dry run's answer (PATCH /routes/{c}?dryRun=true): the
 * writer rehearses the change and rolls it back (src/writer/durable-object.ts), and the
 * router (over its ROUTER binding, src/router-rpc.ts) decides with its own code and KV, the
 * change's values laid over it (src/callback/preview.ts). Nothing is written: not the table, KV or the audit log.
 */
import * as z from "zod";
import type { ConnectionPreview, LoginCounts } from "../callback/preview";
import type { Env } from "../env";
import type { KvOverlay } from "../table/overlay-kv";
import { ApiProblem } from "./problem";
import { askRouter, routerOf } from "./router-client";
import { RoutabilitySchema } from "./schemas";

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
  const wanted: Record<string, LoginCounts> = {};
  for (const connection of connections) {
    const c = counts.get(connection);
    if (c !== undefined) wanted[connection] = { logins: c.logins, auth0: c.auth0, new: c.new, affinity: c.affinity };
  }
  const answer = await askRouter(() => router.preview({ connections: [...connections], kv, counts: wanted }));
  if (!answer.ok) {
    throw new ApiProblem(503, "Router misconfigured", `Fix: ${answer.problems.map((p) => p.variable).join(", ")}.`);
  }
  return answer.connections;
}

/** The fields whose values differ between two records (`killSwitch.on`, `rollout.percentage`, `state`). */
export function changedFields(before: unknown, after: unknown, path = ""): string[] {
  const isRecord = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isRecord(before) || !isRecord(after)) return JSON.stringify(before) === JSON.stringify(after) ? [] : [path];
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => k !== "version" && k !== "updatedAt" && k !== "since" && k !== "by")
    .flatMap((k) => changedFields(before[k], after[k], path === "" ? k : `${path}.${k}`));
}
