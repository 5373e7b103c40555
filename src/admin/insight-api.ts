/** Read-only views: /evaluate (the router's own decision), /audit, /status. */
import { withEvidence } from "./evaluate-evidence";
import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import { KillSwitch, Mode } from "../table/schema";
import type { AdminApp } from "./context";
import { requireScope } from "./auth";
import { ApiProblem, badRequest } from "./problem";
import { askRouter, routerOf } from "./router-client";
import {
  AffinityStateSchema,
  AuditEntrySchema,
  EvaluationSchema,
  jsonOf,
  OrganizationEvaluationSchema,
  problemResponses,
} from "./schemas";
import { writerOf } from "../writer";

export function registerInsightRoutes(app: AdminApp): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/evaluate",
      summary: "Where a login for this organization or connection goes — the callback router's own decision",
      request: {
        query: z.object({
          organization: z.string().min(1).max(128).optional(),
          connection: z.string().min(1).max(128).optional(),
        }),
      },
      responses: {
        200: {
          description: "The decision",
          content: jsonOf(z.union([EvaluationSchema, OrganizationEvaluationSchema])),
        },
        ...problemResponses,
      },
    }),
    async (c) => {
      requireScope(c.get("principal"), "routes:read");
      const { organization, connection } = c.req.valid("query");
      if ((organization === undefined) === (connection === undefined)) {
        throw badRequest("Give exactly one of organization or connection.", [
          { field: "query", reason: "exactly one of organization, connection" },
        ]);
      }
      // The router's own code and variables decide (src/router-rpc.ts): the answer cannot disagree with it.
      const router = routerOf(c.env);
      const answer = await askRouter(() =>
        router.evaluate(connection !== undefined ? { connection } : { organization: organization ?? "" }),
      );
      if (!answer.ok) {
        throw new ApiProblem(503, "Router misconfigured", `Fix: ${answer.problems.map((p) => p.variable).join(", ")}.`);
      }
      // A connection's OIDC worst case, answered from the evidence where it allows (evaluate-evidence.ts).
      const evaluation =
        "organization" in answer.evaluation ? answer.evaluation : await withEvidence(c.env, answer.evaluation);
      return c.json(evaluation, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/audit",
      summary: "Who changed what, newest first",
      request: {
        query: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(50),
          before: z.coerce.number().int().min(1).optional().meta({ description: "cursor: entries with a smaller id" }),
          connection: z.string().min(1).max(128).optional(),
        }),
      },
      responses: {
        200: {
          description: "Audit entries",
          content: jsonOf(z.object({ entries: z.array(AuditEntrySchema), nextCursor: z.number().int().nullable() })),
        },
        ...problemResponses,
      },
    }),
    async (c) => {
      requireScope(c.get("principal"), "routes:read");
      const q = c.req.valid("query");
      const rows = await writerOf(c.env).listAudit(q.limit, q.before, q.connection);
      const entries = rows.map((row) => ({
        ...row,
        before: row.before === null ? null : (JSON.parse(row.before) as unknown),
        after: row.after === null ? null : (JSON.parse(row.after) as unknown),
      }));
      const last = entries[entries.length - 1];
      return c.json({ entries, nextCursor: entries.length === q.limit && last !== undefined ? last.id : null }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/status",
      summary:
        "Route counts by state, settings version, KV writes still pending, transaction affinity's state, whether Auth0 is retired, mode and kill switch",
      responses: {
        200: {
          description: "Status",
          content: jsonOf(
            z.object({
              routes: z.object({ legacy: z.number(), migrated: z.number(), rollout: z.number() }),
              settingsVersion: z.number(),
              kvPending: z.number(),
              affinity: AffinityStateSchema,
              auth0: z.enum(["active", "retired"]).meta({
                description:
                  "retired: nothing is forwarded to Auth0 (the settings' auth0: retired, or AUTH0_RETIRED=true); docs/retirement.md",
              }),
              mode: Mode.describe("route | shadow: what callbacks do when the kill switch is off"),
              killSwitch: KillSwitch,
            }),
          ),
        },
        ...problemResponses,
      },
    }),
    async (c) => {
      requireScope(c.get("principal"), "routes:read");
      const router = routerOf(c.env);
      return c.json(await askRouter(() => router.status()), 200);
    },
  );
}
