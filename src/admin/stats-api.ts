/**
 * /stats: logins per connection by where they went, bounces and errors over a
 * window, with a series per step and flags; /stats/{connection}: one connection.
 * The definitions are src/stats/outcome.ts's (and docs/operations.md's, "Traffic counters").
 */
import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import type { Env } from "../env";
import type { CountRow, LastSeen, Resolution } from "../stats/rows";
import { AUTH0_WHY, NOT_IN_TABLE } from "../stats/rows";
import { addPacked } from "../stats/columns";
import { shardName } from "../stats/recorder";
import { statsConfigFor } from "../config";
import { NOT_A_CALLBACK, UNIDENTIFIED } from "../stats/outcome";
import {
  buildReport,
  connectionStats,
  emptyCounts,
  flagReads,
  foldUnrouted,
  listedConnections,
  readId,
  seriesOf,
  sumByConnection,
  withLastSeen,
  type Counts,
  type FlagInputs,
  type RouteStateSince,
} from "../stats/report";
import { estimateNames, mergeBits, NAME_BYTES, type DistinctNames } from "../stats/sketch";
import { keyRange, STEP_NAMES, statsWindow, type StatsWindow } from "../stats/window";
import { connectionNameProblem, isConnectionName } from "../table/schema";
import type { AdminApp } from "./context";
import { requireScope } from "./auth";
import { badRequest, notAConnection } from "./problem";
import { askRouter, routerOf } from "./router-client";
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

/** /stats lists at most this many connections per page (and flagged ones). */
const MAX_PAGE = 1_000;
const DEFAULT_PAGE = 100;

const PageQuery = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE)
    .optional()
    .meta({
      description: `Connections per page (1–${MAX_PAGE}, default ${DEFAULT_PAGE}); flagged lists at most this many too`,
    }),
  offset: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .meta({ description: "Connections to skip (the previous page's `next`), default 0" }),
};

const AUTH0_BY_DESCRIPTIONS: Record<(typeof AUTH0_WHY)[number], string> = {
  killSwitch: "the kill switch was on",
  shadow: "shadow mode (the route would have sent it to the new provider)",
  affinity: "Auth0 started the login (transaction affinity)",
  route:
    "the table as read said Auth0: legacy, a rollout that did not select it, or no route (before a state change, or propagation after one)",
  invalid: "a refused record: the route or settings failed validation, or no usable target",
  unavailable: "the table could not be read, or only a stale copy after a KV error",
  other:
    "anything else (an ambiguous connection parameter, a failure before routing; and logins counted before the classes existed)",
};

const Auth0BySchema = z
  .object(
    Object.fromEntries(
      AUTH0_WHY.map((why) => [why, z.number().int().meta({ description: AUTH0_BY_DESCRIPTIONS[why] })]),
    ) as Record<(typeof AUTH0_WHY)[number], z.ZodNumber>,
  )
  .meta({ id: "Auth0By", description: "The auth0 logins by why they went to Auth0; the classes add up to auth0" });

const COUNT_DESCRIPTIONS = {
  logins: "Logins, each counted once on its first callback (auth0 + new); a bounced login is one login",
  auth0: "Logins forwarded to Auth0 on their first callback",
  new: "Logins sent to the new provider (redirected)",
  fallback: "Of those, bounced back with fallback=auth0 and then served by Auth0",
  unidentified: "Logins no connection could be attributed to (also counted in auth0 or new)",
  unserved:
    "Auth0 retired: bounces (fallback=auth0, with the router's mark) nobody could sign in, answered with the router's own page; failed logins (also counted in fallback)",
  affinity:
    "Logins Auth0 started, sent back to Auth0 by transaction affinity (reason auth0-transaction; also counted in auth0): bounces the new provider did not have to make",
  errors:
    "Answers with a 5xx: the Worker's own (Auth0 unreachable or too slow, an unexpected failure) or Auth0's passed on; 5xx on other paths are counted under (not a callback). A client that hung up before its answer got none: not an error (logged client-gone)",
  callbacks: "Requests to /login/callback: logins + bounces",
} as const;

const CountsSchema = z
  .object({
    ...(Object.fromEntries(
      Object.entries(COUNT_DESCRIPTIONS).map(([k, description]) => [k, z.number().int().meta({ description })]),
    ) as Record<keyof typeof COUNT_DESCRIPTIONS, z.ZodNumber>),
    auth0By: Auth0BySchema,
  })
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
    kind: z.enum(["login", "bounce", "fallback-unverified", "other"]),
    destination: z.enum(["auth0", "new"]),
    status: z.number().int(),
    reason: z.string().meta({ description: "The decision's reason (e.g. migrated, legacy, fallback-bounce)" }),
  })
  .nullable()
  .meta({
    id: "LastSeen",
    description: "The newest callback seen for the connection (kept 35 days), whatever the window",
  });

const FLAGS = [
  "fallback-share-high",
  "auth0-traffic-while-migrated",
  "errors",
  "not-in-table",
  "unserved-logins",
] as const;

const FlagDetailSchema = z
  .object({
    flag: z.enum(FLAGS),
    since: z
      .string()
      .meta({ description: "Start of the window this flag was computed over (a minute or hour boundary)" }),
    until: z.string(),
    startsAt: z.enum(["window", "state-change", "kill-switch-off", "shadow-off"]).meta({
      description:
        "What the window starts at: the report's own start, or the route's last state change, or the end of the kill switch or shadow mode, whichever is latest",
    }),
    count: z.number().int().meta({
      description:
        "What raised it: logins (auth0-traffic-while-migrated, not-in-table), bounces (fallback-share-high), 5xx answers (errors)",
    }),
    actOn: z
      .object({
        invalid: z.number().int().meta({ description: "Logins sent to Auth0 by a refused route or settings record" }),
        unavailable: z.number().int().meta({ description: "Logins sent to Auth0 because the table could not be read" }),
        propagation: z.number().int().meta({
          description:
            "Logins the table still sent to Auth0 later than ROUTE_CACHE_SECONDS + 60 s (KV propagation) after the state change",
        }),
      })
      .optional(),
    propagationSince: z
      .string()
      .optional()
      .meta({ description: "From when late propagation was counted: the state change + ROUTE_CACHE_SECONDS + 60 s" }),
  })
  .meta({ id: "FlagDetail" });

const ConnectionStatsSchema = z
  .object({
    connection: z.string().meta({
      description: `A connection name, ${UNIDENTIFIED}, ${NOT_IN_TABLE} (every name that has no route) or ${NOT_A_CALLBACK} (5xx on other paths)`,
    }),
    state: z.enum(["legacy", "migrated", "rollout"]).nullable(),
    stateSince: z
      .string()
      .nullable()
      .meta({ description: "When the route's state last changed; null without a route" }),
    flagWindow: z
      .object({
        since: z.string(),
        until: z.string(),
        startsAt: z.enum(["window", "state-change", "kill-switch-off", "shadow-off"]),
        propagationSince: z.string(),
      })
      .nullable()
      .meta({
        description:
          "Migrated connections: the window fallback-share-high and auth0-traffic-while-migrated are computed over, raised or not (null otherwise)",
      }),
    counts: CountsSchema,
    ...SHARES,
    flags: z.array(z.enum(FLAGS)),
    flagDetails: z
      .array(FlagDetailSchema)
      .meta({ description: "Each flag with the window it used and what raised it" }),
    lastSeen: LastSeenSchema,
    distinctNames: z
      .object({ estimate: z.number().int(), saturated: z.boolean() })
      .optional()
      .meta({
        description: `${NOT_IN_TABLE} only: how many distinct names it holds over the window, estimated from a fixed 1 KiB bitmap per hour (the names are not kept); saturated = at least estimate`,
      }),
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

type Shard = DurableObjectStub<import("../stats/counter-do").TrafficCounter>;

/** Every shard the router writes: its STATS_SHARDS, asked of the router (src/router-rpc.ts). */
export async function shards(env: Env): Promise<Shard[]> {
  const router = routerOf(env);
  const n = (await askRouter(() => router.configuration())).statsShards;
  return Array.from({ length: n }, (_, i) => env.TRAFFIC_COUNTER.get(env.TRAFFIC_COUNTER.idFromName(shardName(i))));
}

/** The last key of a resolution up to `until`. */
export function lastKey(resolution: Resolution, until: number): string {
  return new Date(until).toISOString().slice(0, resolution === "minute" ? 16 : 13);
}

/** Sums per connection over every shard (the named connections, or all). */
export async function sums(
  all: Shard[],
  resolution: Resolution,
  from: string,
  to: string,
  connections?: string[],
): Promise<{ sums: Map<string, Counts>; truncated: boolean }> {
  const parts = await Promise.all(all.map((s) => s.byConnection(resolution, from, to, connections)));
  return { sums: sumByConnection(addPacked(parts)), truncated: parts.some((p) => p.truncated) };
}

/** The distinct-names estimate of NOT_IN_TABLE over the window's hours (every shard's bitmaps OR-ed). */
async function distinctNames(all: Shard[], w: StatsWindow): Promise<DistinctNames | undefined> {
  const from = new Date(w.from).toISOString().slice(0, 13);
  const parts = await Promise.all(all.map((s) => s.unknownNames(from, lastKey("hour", w.until))));
  const bits = new Uint8Array(NAME_BYTES);
  let any = false;
  for (const p of parts) {
    if (p === null) continue;
    any = true;
    mergeBits(bits, new Uint8Array(p));
  }
  return any ? estimateNames(bits) : undefined;
}

/** What the flags need besides the window's sums: route states and times, levers, the extra reads (also the autopilot's alarm gate). */
export async function flagInputs(env: Env, all: Shard[], names: string[], w: StatsWindow): Promise<FlagInputs> {
  const { routes: states, levers } = await writerOf(env).statesSince(names);
  const routes = new Map<string, RouteStateSince>(
    Object.entries(states).map(([c, s]) => [c, { state: s.state, since: Date.parse(s.since) }]),
  );
  const config = statsConfigFor(env);
  // The grace follows the router's ROUTE_CACHE_SECONDS, which only the router has.
  const router = routerOf(env);
  const { statsPropagationGraceMs } = await askRouter(() => router.configuration());
  const f: FlagInputs = {
    routes,
    levers: {
      killSwitchEndedAt: levers.killSwitchEndedAt === null ? null : Date.parse(levers.killSwitchEndedAt),
      shadowEndedAt: levers.shadowEndedAt === null ? null : Date.parse(levers.shadowEndedAt),
    },
    graceMs: statsPropagationGraceMs,
    alertShare: config.fallbackAlertShare,
    now: Date.now(),
  };
  const reads = new Map<string, Map<string, Counts>>();
  await Promise.all(
    flagReads(names, w, f).map(async (r) => {
      const read = await sums(all, r.resolution, r.from, lastKey(r.resolution, w.until), r.connections);
      reads.set(readId(r.resolution, r.from), read.sums);
    }),
  );
  return { ...f, reads };
}

/**
 * Phase durations for a Server-Timing header (W3C Server Timing; `dur` in ms). In a Worker
 * the clock moves only across I/O, so a phase without I/O may read 0.
 */
function phases(): { mark(name: string): void; header(): string } {
  let at = Date.now();
  const parts: string[] = [];
  return {
    mark(name) {
      const now = Date.now();
      parts.push(`${name};dur=${now - at}`);
      at = now;
    },
    header: () => parts.join(", "),
  };
}

async function lastSeenOf(all: Shard[], connections: string[]): Promise<LastSeen[]> {
  const parts = await Promise.all(all.map((s) => s.lastSeen(connections)));
  return parts.flat();
}

/**
 * Each connection's logins of the last 24 h (/stats' definitions), for dry-run previews
 * (admin/preview.ts); only `connections`' when given.
 */
export async function loginsOfLast24h(env: Env, connections?: string[]): Promise<Map<string, Counts>> {
  const w = windowOf({});
  const { first, last } = keyRange(w);
  return (await sums(await shards(env), w.resolution, first, last, connections)).sums;
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
        "errors = every 5xx the Worker answered or passed on (a client that hung up before its answer is not one). " +
        `Every name without a route is counted in one ${NOT_IN_TABLE} row. Connections come a page at a time (limit, offset), busiest first. ` +
        "A migrated connection's flags are computed from its last state change (or the end of the kill switch or shadow mode) on: flagDetails says the window. " +
        "Counts are sent from each isolate within STATS_FLUSH_MS (default 2 s).",
      request: { query: WindowQuery.extend(PageQuery) },
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
              connections: z.array(ConnectionStatsSchema).meta({ description: "A page of connections, busiest first" }),
              connectionsTotal: z
                .number()
                .int()
                .meta({ description: "Connections (and buckets) with counts in the window" }),
              next: z.number().int().nullable().meta({ description: "The offset of the next page, or null" }),
              flagged: z
                .array(ConnectionStatsSchema)
                .meta({ description: "Flagged connections, at most limit, busiest first" }),
              flaggedTotal: z.number().int(),
              truncated: z
                .boolean()
                .meta({ description: "A counter shard held more rows than one read answers: counts are partial" }),
            }),
          ),
        },
        ...problemResponses,
      },
    }),
    async (c) => {
      requireScope(c.get("principal"), "routes:read");
      const query = c.req.valid("query");
      const w = windowOf(query);
      const all = await shards(c.env);
      const { first, last } = keyRange(w);
      const timing = phases();
      const [window, seriesParts, status] = await Promise.all([
        sums(all, w.resolution, first, last),
        Promise.all(all.map((s) => s.byTime(w.resolution, first, last))),
        writerOf(c.env).status(),
      ]);
      timing.mark("sums");
      const names = [...window.sums.keys()];
      const f = await flagInputs(c.env, all, names, w);
      timing.mark("flags");
      const folded = foldUnrouted(window.sums, f.routes);
      const unknown = folded.has(NOT_IN_TABLE) ? await distinctNames(all, w) : undefined;
      const report = buildReport(
        folded,
        seriesParts.flat() as CountRow[],
        w,
        f,
        { offset: query.offset ?? 0, limit: query.limit ?? DEFAULT_PAGE },
        { truncated: window.truncated, ...(unknown === undefined ? {} : { distinctNames: unknown }) },
      );
      timing.mark("report");
      withLastSeen(report, await lastSeenOf(all, listedConnections(report)));
      timing.mark("last-seen");
      c.header("server-timing", timing.header());
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
      const bucket = connection === UNIDENTIFIED || connection === NOT_A_CALLBACK || connection === NOT_IN_TABLE;
      if (problem !== undefined && !bucket) {
        throw notAConnection(`${problem}, or ${UNIDENTIFIED}, ${NOT_IN_TABLE} or ${NOT_A_CALLBACK}`);
      }
      const w = windowOf(c.req.valid("query"));
      const all = await shards(c.env);
      const { first, last } = keyRange(w);
      const parts = await Promise.all(all.map((s) => s.query(w.resolution, first, last, connection)));
      const rows = parts.flat() as CountRow[];
      const counts = sumByConnection(rows).get(connection) ?? emptyCounts();
      const f = await flagInputs(c.env, all, isConnectionName(connection) ? [connection] : [], w);
      const stats = connectionStats(connection, counts, await lastSeenOf(all, [connection]), w, f);
      const unknown = connection === NOT_IN_TABLE ? await distinctNames(all, w) : undefined;
      return c.json(
        {
          ...stats,
          ...(unknown === undefined ? {} : { distinctNames: unknown }),
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
