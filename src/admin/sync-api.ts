/**
 * /sync: bring the table in step with WorkOS on demand (the cron trigger runs
 * the same syncs). dryRun=true reports what would change and writes nothing.
 * WorkOS failing or answering nonsense is a 502 and applies nothing.
 */
import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import { ConnectionsSyncReport, FlagSyncReport, syncConnections, syncFlags } from "../writer";
import type { AdminApp } from "./context";
import { requireScope, type Principal } from "./auth";
import { problemResponses, ProblemSchema } from "./schemas";
import { unwrap } from "./writer-http";

const SyncQuery = z.object({
  dryRun: z.enum(["true", "false"]).default("false").meta({ description: "true: return the report, write nothing" }),
});

const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ProblemSchema } },
});

const providerProblems = {
  409: problem("Settings changed while the sync ran; run it again"),
  502: problem(
    "WorkOS failed, refused the key, or answered something malformed (errors name the field); nothing applied",
  ),
  503: problem("WORKOS_API_KEY (or WORKOS_API_URL) is not configured"),
} as const;

const withKvPending = <T extends z.ZodObject>(schema: T) =>
  schema.extend({ kvPending: z.number().int().meta({ description: "KV writes still queued" }) });

/** The shared part of both sync endpoints: scope, dry-run flag, the writer's answer as a problem or a report. */
async function runSync<T extends object>(
  principal: Principal,
  dryRun: "true" | "false",
  sync: (options: { actor: string; dryRun: boolean }) => Promise<Parameters<typeof unwrap<T>>[0]>,
): Promise<T & { kvPending: number }> {
  requireScope(principal, "routes:write");
  const { value, kvPending } = unwrap(await sync({ actor: principal.actor, dryRun: dryRun === "true" }));
  return { ...value, kvPending };
}

export function registerSyncRoutes(app: AdminApp): void {
  app.openapi(
    createRoute({
      method: "post",
      path: "/sync/workos",
      summary:
        "Sync routes with WorkOS connections: link by providerConnectionId or name, record state and organization, flag inactive ones",
      request: { query: SyncQuery },
      responses: {
        200: {
          description: "What changed (or would change)",
          content: { "application/json": { schema: withKvPending(ConnectionsSyncReport) } },
        },
        ...providerProblems,
        ...problemResponses,
      },
    }),
    async (c) =>
      c.json(
        await runSync(c.get("principal"), c.req.valid("query").dryRun, (options) => syncConnections(c.env, options)),
        200,
      ),
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/sync/flags",
      summary:
        "Mirror the WorkOS feature flag settings.provider.flagSlug into the rollout lists (enabled → include, disabled → exclude)",
      request: { query: SyncQuery },
      responses: {
        200: {
          description: "What changed (or would change)",
          content: { "application/json": { schema: withKvPending(FlagSyncReport) } },
        },
        ...providerProblems,
        ...problemResponses,
      },
    }),
    async (c) =>
      c.json(
        await runSync(c.get("principal"), c.req.valid("query").dryRun, (options) => syncFlags(c.env, options)),
        200,
      ),
  );
}
