/** /routes: list, read, create/replace, change, delete one connection's route. */
import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import type { RouteState } from "../table/schema";
import type { AdminApp } from "./context";
import { requireScope, type Principal } from "./auth";
import { writerOf, type WriteOptions } from "../writer";
import { ApiProblem, notAConnection } from "./problem";
import { askRouter, routerOf } from "./router-client";
import {
  ConnectionParam,
  IfMatchHeader,
  jsonOf,
  problemResponses,
  RouteBody,
  RoutePatchBody,
  CoverageSchema,
  RouteSchema,
  RouteWithRoutabilitySchema,
} from "./schemas";
import { etag, ifMatchVersion, unwrap } from "./writer-http";
import { connectionNameProblem } from "../table/schema";
import { inputOf } from "../writer/diff";
import { changedFields, ConnectionPreviewSchema, DryRunQuery, previewConnections } from "./preview";
import { loginsOfLast24h } from "./stats-api";
import { READINESS_DAYS, readinessOfRoutes } from "./evidence-read";
import { readinessOf } from "../stats/readiness";

/** A route nobody recorded evidence for: the prediction stands. */
const noReadiness = (route: Parameters<typeof readinessOf>[0]) => readinessOf(route, [], READINESS_DAYS);

const RoutePreviewSchema = z
  .object({
    dryRun: z.literal(true),
    route: RouteSchema.meta({ description: "The route as the change would store it (nothing is written)" }),
    changes: z.array(z.string()).meta({ description: "The fields the change would change" }),
    preview: ConnectionPreviewSchema.nullable(),
  })
  .meta({ id: "RoutePreview", description: "What a PATCH would change; nothing is written, nothing audited" });

const ListQuery = z.object({
  state: z.enum(["legacy", "migrated", "rollout"]).optional(),
  organization: z.string().min(1).max(128).optional(),
  cursor: z.string().max(128).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** The common start of every write: scope, a valid connection name, the actor and If-Match. */
function writeRequest(
  principal: Principal,
  connection: string,
  ifMatch: string | undefined,
): { connection: string; options: WriteOptions } {
  requireScope(principal, "routes:write");
  checkName(connection);
  return { connection, options: { actor: principal.actor, ifMatch: ifMatchVersion(ifMatch) } };
}

function checkName(connection: string): void {
  const reason = connectionNameProblem(connection);
  if (reason !== undefined) throw notAConnection(reason);
}

export function registerRouteRoutes(app: AdminApp): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/routes",
      summary: "List routes, by connection name, with cursor pagination",
      request: { query: ListQuery },
      responses: {
        200: {
          description: "A page of routes",
          content: jsonOf(z.object({ routes: z.array(RouteSchema), nextCursor: z.string().nullable() })),
        },
        ...problemResponses,
      },
    }),
    async (c) => {
      requireScope(c.get("principal"), "routes:read");
      const q = c.req.valid("query");
      const page = await writerOf(c.env).listRoutes({
        state: q.state as RouteState | undefined,
        organization: q.organization,
        after: q.cursor,
        limit: q.limit,
      });
      return c.json({ routes: page.routes, nextCursor: page.next }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/routes/{connection}",
      summary: "Read one route (ETag = its version), with whether its callbacks can be identified",
      request: { params: ConnectionParam },
      responses: {
        200: { description: "The route and its routability", content: jsonOf(RouteWithRoutabilitySchema) },
        404: problemResponses[400],
        ...problemResponses,
      },
    }),
    async (c) => {
      requireScope(c.get("principal"), "routes:read");
      const { connection } = c.req.valid("param");
      checkName(connection);
      const route = await writerOf(c.env).getRoute(connection);
      if (route === null)
        throw new ApiProblem(404, "No such route", `connection "${connection}" is not in the route table`);
      const router = routerOf(c.env);
      const [[routability], readiness] = await Promise.all([
        askRouter(() => router.routability([route])),
        readinessOfRoutes(c.env, [route]),
      ]);
      if (routability === undefined) throw new ApiProblem(503, "Router unreachable", "The router gave no routability.");
      c.header("etag", etag(route.version));
      return c.json({ ...route, routability, readiness: readiness.get(connection) ?? noReadiness(route) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/coverage",
      summary: "Routability across the table: which routes' callbacks the router can identify, by protocol",
      responses: {
        200: { description: "The coverage report", content: jsonOf(CoverageSchema) },
        ...problemResponses,
      },
    }),
    async (c) => {
      requireScope(c.get("principal"), "routes:read");
      const router = routerOf(c.env);
      const [coverage, table] = await Promise.all([askRouter(() => router.coverage()), writerOf(c.env).exportTable()]);
      const readiness = await readinessOfRoutes(c.env, table.routes);
      const byVerdict = { ready: 0, "not ready": 0, "no evidence": 0 };
      const listed = [];
      for (const route of table.routes) {
        const r = readiness.get(route.connection) ?? noReadiness(route);
        byVerdict[r.verdict] += 1;
        if (r.verdict === "not ready" || !r.agrees) {
          const { shapes: _shapes, ...rest } = r;
          listed.push({ connection: route.connection, state: route.state, ...rest });
        }
      }
      return c.json({ ...coverage, readiness: { days: READINESS_DAYS, byVerdict, connections: listed } }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/routes/{connection}",
      summary: "Create or replace a route; If-Match makes it conditional",
      request: {
        params: ConnectionParam,
        headers: IfMatchHeader,
        body: { content: jsonOf(RouteBody), required: true },
      },
      responses: {
        200: { description: "Replaced", content: jsonOf(RouteSchema) },
        201: { description: "Created", content: jsonOf(RouteSchema) },
        409: problemResponses[400],
        412: problemResponses[400],
        ...problemResponses,
      },
    }),
    async (c) => {
      const w = writeRequest(c.get("principal"), c.req.valid("param").connection, c.req.header("if-match"));
      const result = unwrap(
        await writerOf(c.env).putRoute({ ...c.req.valid("json"), connection: w.connection }, w.options),
      );
      c.header("etag", etag(result.value.route.version));
      c.header("x-kv-pending", String(result.kvPending));
      return c.json(result.value.route, result.value.created ? 201 : 200);
    },
  );

  app.openapi(
    createRoute({
      method: "patch",
      path: "/routes/{connection}",
      summary:
        "Change some fields of a route (e.g. just state); null removes a field. dryRun=true: what would change, nothing written",
      request: {
        params: ConnectionParam,
        query: DryRunQuery,
        headers: IfMatchHeader,
        body: { content: jsonOf(RoutePatchBody), required: true },
      },
      responses: {
        200: {
          description: "Changed; with dryRun=true, the preview (RoutePreview) and nothing written",
          content: jsonOf(z.union([RouteSchema, RoutePreviewSchema])),
        },
        404: problemResponses[400],
        412: problemResponses[400],
        ...problemResponses,
      },
    }),
    async (c) => {
      const w = writeRequest(c.get("principal"), c.req.valid("param").connection, c.req.header("if-match"));
      if (c.req.valid("query").dryRun === "true") {
        const rehearsal = unwrap(await writerOf(c.env).previewPatchRoute(w.connection, c.req.valid("json"), w.options));
        const { before, value: route, kv } = rehearsal.value;
        const counts = await loginsOfLast24h(c.env, [w.connection]);
        const [preview] = await previewConnections(c.env, [w.connection], kv, counts);
        const changes = changedFields(inputOf(before), inputOf(route));
        return c.json({ dryRun: true as const, route, changes, preview: preview ?? null }, 200);
      }
      const result = unwrap(await writerOf(c.env).patchRoute(w.connection, c.req.valid("json"), w.options));
      c.header("etag", etag(result.value.version));
      c.header("x-kv-pending", String(result.kvPending));
      return c.json(result.value, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/routes/{connection}",
      summary: "Delete a route (its callbacks then follow the unknown policy)",
      request: { params: ConnectionParam, headers: IfMatchHeader },
      responses: {
        200: { description: "The deleted route", content: jsonOf(RouteSchema) },
        404: problemResponses[400],
        412: problemResponses[400],
        ...problemResponses,
      },
    }),
    async (c) => {
      const w = writeRequest(c.get("principal"), c.req.valid("param").connection, c.req.header("if-match"));
      const result = unwrap(await writerOf(c.env).deleteRoute(w.connection, w.options));
      return c.json(result.value, 200);
    },
  );
}
