/**
 * /stats: logins per connection by where they went, bounces and errors over a
 * window, with a series per step and flags; /stats/{connection}: one connection.
 * The definitions are src/stats/outcome.ts's (and the README's).
 */
import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import type { Env } from "../env";
import type { CountRow, LastSeen } from "../stats/rows";
import { shardName } from "../stats/recorder";
import { statsConfigFor } from "../config";
import { NOT_A_CALLBACK, UNIDENTIFIED } from "../stats/outcome";
import { buildReport, connectionStats, seriesOf } from "../stats/report";
import { keyRange, STEP_NAMES, statsWindow, type StatsWindow } from "../stats/window";
import { connectionNameProblem, isConnectionName, type RouteState } from "../table/schema";
import type { AdminApp } from "./context";
import { requireScope } from "./auth";
import { badRequest, notAConnection } from "./problem";
import { ConnectionParam, jsonOf, problemResponses } from "./schemas";
import { writerOf } from "../writer";

const WindowQuery = z.object({
  since: z.iso.datetime({ offset: true }).optional().meta({
    description:
      "Start of the window (ISO time), rounded down to the step; default `until` − 24 h; at most 35 days ago",
  }),
  until: z.iso
    .datetime({ offset: true })
    .optional()
    .meta({ description: "End of the window (ISO time); default now; not in the future" }),
  step: z
    .enum(STEP_NAMES as [string, ...string[]])
    .optional()
    .meta({
      description:
        "Series step. Steps under 1h read the per-minute counts, kept 6 hours. Default: 1m up to 3 h, 5m up to 6 h (while per-minute counts cover the window), 1h up to 8 days, else 1d. At most 1 500 points.",
    }),
});

const COUNT_DESCRIPTIONS = {
  logins: "Logins, each counted once on its first callback (auth0 + new); a bounced login is one login",
  auth0: "Logins forwarded to Auth0 on their first callback",
  new: "Logins sent to the new provider (redirected)",
  fallback: "Of those, bounced back with fallback=auth0 and then served by Auth0",
  unidentified: "Logins no connection could be attributed to (also counted in auth0 or new)",
  affinity:
    "Logins Auth0 started, sent back to Auth0 by transaction affinity (reason auth0-transaction; also counted in auth0): bounces the new provider did not have to make",
  errors:
    "Answers with a 5xx: the Worker's own (Auth0 unreachable or too slow, an unexpected failure) or Auth0's passed on; 5xx on other paths are counted under (not a callback). A client that hung up before its answer got none: not an error (logged client-gone)",
  callbacks: "Requests to /login/callback: logins + bounces",
} as const;

const CountsSchema = z
  .object(
    Object.fromEntries(
      Object.entries(COUNT_DESCRIPTIONS).map(([k, description]) => [k, z.number().int().meta({ description })]),
    ) as Record<keyof typeof COUNT_DESCRIPTIONS, z.ZodNumber>,
  )
  .meta({ id: "Counts" });

const SHARES = {
  newShare: z
    .number()
    .nullable()
    .meta({ description: "Logins the new provider kept (new − fallback) / logins; null with no logins" }),
  fallbackShare: z
    .number()
    .nullable()
    .meta({ description: "Bounced / sent to the new provider (fallback / new); null when nothing was sent there" }),
};

const SeriesSchema = z
  .array(CountsSchema.extend({ at: z.string().meta({ description: "Start of the step (ISO time, UTC)" }), ...SHARES }))
  .meta({ description: "One point per step, oldest first, zeros where nothing was counted" });

const LastSeenSchema = z
  .object({
    at: z.string(),
    kind: z.enum(["login", "bounce", "other"]),
    destination: z.enum(["auth0", "new"]),
    status: z.number().int(),
    reason: z.string().meta({ description: "The decision's reason (e.g. migrated, legacy, fallback-bounce)" }),
  })
  .nullable()
  .meta({
    id: "LastSeen",
    description: "The newest callback seen for the connection (kept 35 days), whatever the window",
  });

const ConnectionStatsSchema = z
  .object({
    connection: z
      .string()
      .meta({ description: `A connection name, ${UNIDENTIFIED} or ${NOT_A_CALLBACK} (5xx on other paths)` }),
    state: z.enum(["legacy", "migrated", "rollout"]).nullable(),
    counts: CountsSchema,
    ...SHARES,
    flags: z.array(z.enum(["fallback-share-high", "auth0-traffic-while-migrated", "errors", "not-in-table"])),
    lastSeen: LastSeenSchema,
  })
  .meta({ id: "ConnectionStats" });

const WindowFields = {
  since: z.string().meta({ description: "The first step's start" }),
  until: z.string(),
  step: z.enum(STEP_NAMES as [string, ...string[]]),
};

function windowOf(query: z.infer<typeof WindowQuery>): StatsWindow {
  const result = statsWindow(query as Parameters<typeof statsWindow>[0], Date.now());
  if (!result.ok) throw badRequest(result.detail, result.errors);
  return result.window;
}

function shards(env: Env): Array<DurableObjectStub<import("../stats/counter-do").TrafficCounter>> {
  const { shards: n } = statsConfigFor(env);
  return Array.from({ length: n }, (_, i) => env.TRAFFIC_COUNTER.get(env.TRAFFIC_COUNTER.idFromName(shardName(i))));
}

async function readShards(
  env: Env,
  w: StatsWindow,
  connection?: string,
): Promise<{ rows: CountRow[]; last: LastSeen[] }> {
  const { first, last } = keyRange(w);
  const parts = await Promise.all(
    shards(env).map(async (s) => ({
      rows: await s.query(w.resolution, first, last, connection),
      last: await s.lastSeen(connection),
    })),
  );
  return { rows: parts.flatMap((p) => p.rows), last: parts.flatMap((p) => p.last) };
}

export function registerStatsRoutes(app: AdminApp): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/stats",
      summary: "Logins per connection by where they went, bounces and errors over a window, with a series per step",
      description:
        "A login is counted once: a login the new provider bounced back (fallback=auth0) is one login, served by Auth0. " +
        "newShare = logins the new provider kept / logins; fallbackShare = bounced / sent to the new provider; " +
        "errors = every 5xx the Worker answered or passed on (a client that hung up before its answer is not one). Counts are sent from each isolate within STATS_FLUSH_MS (default 2 s).",
      request: { query: WindowQuery },
      responses: {
        200: {
          description: "Counts over the window",
          content: jsonOf(
            z.object({
              ...WindowFields,
              routes: z.object({ legacy: z.number(), migrated: z.number(), rollout: z.number() }),
              totals: CountsSchema,
              ...SHARES,
              series: SeriesSchema,
              connections: z.array(ConnectionStatsSchema),
              flagged: z.array(ConnectionStatsSchema),
            }),
          ),
        },
        ...problemResponses,
      },
    }),
    async (c) => {
      requireScope(c.get("principal"), "routes:read");
      const w = windowOf(c.req.valid("query"));
      const { rows, last } = await readShards(c.env, w);
      const writer = writerOf(c.env);
      const connections = [...new Set(rows.map((r) => r.connection))];
      const [states, status] = await Promise.all([writer.statesOf(connections), writer.status()]);
      const report = buildReport(
        rows,
        last,
        new Map(Object.entries(states)),
        w,
        statsConfigFor(c.env).fallbackAlertShare,
      );
      return c.json({ ...report, routes: status.routes }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/stats/{connection}",
      summary:
        "One connection's logins, bounces and errors over a window, with a series per step and the last callback seen",
      request: { params: ConnectionParam, query: WindowQuery },
      responses: {
        200: {
          description: "The connection's counts",
          content: jsonOf(ConnectionStatsSchema.extend({ ...WindowFields, series: SeriesSchema })),
        },
        ...problemResponses,
      },
    }),
    async (c) => {
      requireScope(c.get("principal"), "routes:read");
      const { connection } = c.req.valid("param");
      const problem = connectionNameProblem(connection);
      if (problem !== undefined && connection !== UNIDENTIFIED && connection !== NOT_A_CALLBACK) {
        throw notAConnection(`${problem}, or ${UNIDENTIFIED} or ${NOT_A_CALLBACK}`);
      }
      const w = windowOf(c.req.valid("query"));
      const { rows, last } = await readShards(c.env, w, connection);
      const route = isConnectionName(connection) ? await writerOf(c.env).getRoute(connection) : null;
      const state: RouteState | null = route?.state ?? null;
      return c.json(
        {
          ...connectionStats(connection, state, rows, last, statsConfigFor(c.env).fallbackAlertShare),
          since: new Date(w.from).toISOString(),
          until: new Date(w.until).toISOString(),
          step: w.step,
          series: seriesOf(rows, w),
        },
        200,
      );
    },
  );
}
