/** /stats: callbacks per connection and decision over a window, with flags; /stats/{connection}: hourly. */
import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import type { Env } from "../env";
import type { CountRow } from "../stats/counter-do";
import { shardName } from "../stats/recorder";
import { statsConfigFor } from "../config";
import { hourOf } from "../stats/outcome";
import { addRow, buildReport, emptyCounts, flagsOf, hourlySeries } from "../stats/report";
import { isConnectionName, type RouteState } from "../table/schema";
import type { AdminApp } from "./app";
import { requireScope } from "./auth";
import { badRequest } from "./problem";
import { ConnectionParam, problemResponses } from "./schemas";
import { writerOf } from "../writer";

const MAX_WINDOW_MS = 35 * 86_400_000;
const DEFAULT_WINDOW_MS = 86_400_000;

const SinceQuery = z.object({
  since: z
    .string()
    .datetime({ offset: true })
    .optional()
    .meta({ description: "ISO time; default 24 h ago; at most 35 days ago" }),
});

const CountsSchema = z.object({
  auth0: z.number(),
  new: z.number(),
  fallback: z.number(),
  unidentified: z.number(),
  errors: z.number(),
  total: z.number(),
});
const ConnectionStatsSchema = z
  .object({
    connection: z.string(),
    state: z.enum(["legacy", "migrated", "rollout"]).nullable(),
    counts: CountsSchema,
    fallbackShare: z.number().nullable(),
    flags: z.array(z.enum(["fallback-share-high", "auth0-traffic-while-migrated", "errors", "not-in-table"])),
    hours: z.array(CountsSchema.extend({ hour: z.string() })).optional(),
  })
  .meta({ id: "ConnectionStats" });

const ReportQuery = SinceQuery.extend({
  hourly: z
    .enum(["true", "false"])
    .default("false")
    .meta({ description: "true: each connection also gets its hourly series (one call for every sparkline)" }),
});

function windowOf(since: string | undefined): { since: string; until: string; sinceHour: string; untilHour: string } {
  const now = Date.now();
  const from = since === undefined ? now - DEFAULT_WINDOW_MS : Date.parse(since);
  if (from < now - MAX_WINDOW_MS)
    throw badRequest("since is more than 35 days ago (counters are kept 35 days).", [
      { field: "query.since", reason: "at most 35 days ago" },
    ]);
  if (from > now)
    throw badRequest("since is in the future.", [{ field: "query.since", reason: "must be in the past" }]);
  return {
    since: new Date(from).toISOString(),
    until: new Date(now).toISOString(),
    sinceHour: hourOf(from),
    untilHour: hourOf(now),
  };
}

async function allShards(env: Env, sinceHour: string, connection?: string): Promise<CountRow[]> {
  const { shards } = statsConfigFor(env);
  const parts = await Promise.all(
    Array.from({ length: shards }, (_, i) =>
      env.TRAFFIC_COUNTER.get(env.TRAFFIC_COUNTER.idFromName(shardName(i))).query(sinceHour, connection),
    ),
  );
  return parts.flat();
}

export function registerStatsRoutes(app: AdminApp): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/stats",
      summary:
        "Callbacks per connection by decision (auth0 / new / fallback bounce / unidentified) and errors, with flags",
      request: { query: ReportQuery },
      responses: {
        200: {
          description: "Counts since `since`",
          content: {
            "application/json": {
              schema: z.object({
                since: z.string(),
                until: z.string(),
                routes: z.object({ legacy: z.number(), migrated: z.number(), rollout: z.number() }),
                totals: CountsSchema,
                newShare: z.number().nullable(),
                connections: z.array(ConnectionStatsSchema),
                flagged: z.array(ConnectionStatsSchema),
              }),
            },
          },
        },
        ...problemResponses,
      },
    }),
    async (c) => {
      requireScope(c.get("principal"), "routes:read");
      const query = c.req.valid("query");
      const w = windowOf(query.since);
      const rows = await allShards(c.env, w.sinceHour);
      const writer = writerOf(c.env);
      const connections = [...new Set(rows.map((r) => r.connection))];
      const [states, status] = await Promise.all([writer.statesOf(connections), writer.status()]);
      const report = buildReport(
        rows,
        new Map(Object.entries(states)),
        { since: w.since, until: w.until },
        statsConfigFor(c.env).fallbackAlertShare,
        query.hourly === "true" ? w : undefined,
      );
      return c.json({ ...report, routes: status.routes }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/stats/{connection}",
      summary: "One connection's callbacks per hour",
      request: { params: ConnectionParam, query: SinceQuery },
      responses: {
        200: {
          description: "Hourly counts",
          content: {
            "application/json": {
              schema: ConnectionStatsSchema.extend({
                since: z.string(),
                until: z.string(),
                hours: z.array(CountsSchema.extend({ hour: z.string() })),
              }),
            },
          },
        },
        ...problemResponses,
      },
    }),
    async (c) => {
      requireScope(c.get("principal"), "routes:read");
      const { connection } = c.req.valid("param");
      if (!isConnectionName(connection) && connection !== "(unidentified)") {
        throw badRequest("The path does not name a valid Auth0 connection.", [
          { field: "connection", reason: "not a connection name" },
        ]);
      }
      const w = windowOf(c.req.valid("query").since);
      const rows = await allShards(c.env, w.sinceHour, connection);
      const route = isConnectionName(connection) ? await writerOf(c.env).getRoute(connection) : null;
      const state: RouteState | null = route?.state ?? null;
      const counts = emptyCounts();
      for (const row of rows) addRow(counts, row);
      return c.json(
        {
          connection,
          state,
          counts,
          ...flagsOf(connection, state, counts, statsConfigFor(c.env).fallbackAlertShare),
          since: w.since,
          until: w.until,
          hours: hourlySeries(rows, w.sinceHour, w.untilHour),
        },
        200,
      );
    },
  );
}
