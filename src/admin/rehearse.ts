/**
 * POST {prefix}/rehearse: a proposed change tried against the logins the router recorded
 * (src/stats/evidence.ts) before it is applied. The writer checks the proposal as an import
 * (merge: its routes replace those of the same connection, its settings — rollout included —
 * replace the current ones) and rehearses it in a transaction it rolls back
 * (RouteTableWriter.rehearseImport), giving the KV values it would write; the router replays
 * the window's evidence through its own decision code over the KV replica as it is and with
 * those values laid over it (src/callback/rehearse.ts, over RPC: this Worker has no KV).
 * Nothing is written: not the table, KV, the audit log or the counters.
 *
 * `rehearse(env, proposal, windowMs)` is also what the autopilot's plan validation calls.
 */
import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import type { ConnectionRehearsal, Destination } from "../callback/rehearse";
import type { Env } from "../env";
import { SettingsInput, settingsOfInput, type RouteInput } from "../table/schema";
import { zodErrors, type FieldError } from "../table/validate";
import { writerOf } from "../writer";
import { requireScope } from "./auth";
import type { AdminApp } from "./context";
import { evidenceRows } from "./evidence-read";
import { ApiProblem, badRequest } from "./problem";
import { askRouter, routerOf } from "./router-client";
import { jsonOf, problemResponses } from "./schemas";

const HOUR_MS = 3_600_000;
/** The evidence is kept 35 days (docs/storage.md): no window may be longer. */
const MAX_WINDOW_MS = 35 * 24 * HOUR_MS;
export const DEFAULT_WINDOW_MS = 7 * 24 * HOUR_MS;

/** The proposal: routes.json as POST /import takes it (both parts optional). */
const Proposal = z
  .object({
    $schema: z.string().optional(),
    settings: SettingsInput.optional(),
    routes: z.array(z.record(z.string(), z.unknown())).max(200_000).optional(),
  })
  .strict();

const Window = z
  .string()
  .regex(/^[1-9]\d{0,3}[hd]$/, 'a whole number of hours or days, e.g. "7d" or "36h"')
  .refine((w) => windowMsOf(w) <= MAX_WINDOW_MS, "at most 35 days (the evidence is kept that long)");

export const RehearseBody = z
  .object({
    table: Proposal.meta({
      description:
        "The proposed change in routes.json form (POST /import's): its routes replace those of the same connection, its settings (rollout included) replace the current ones",
    }),
    window: Window.default("7d").meta({
      description: 'How far back to replay recorded logins: "7d" (default), "36h", at most 35 days',
    }),
  })
  .strict();

function windowMsOf(window: string): number {
  const n = Number(window.slice(0, -1));
  return n * (window.endsWith("d") ? 24 * HOUR_MS : HOUR_MS);
}

export interface Totals {
  logins: number;
  changed: number;
  stranded: number;
  strandedNow: number;
  to: Partial<Record<Destination, number>>;
}

export interface RehearsalReport {
  window: { since: string; until: string };
  connections: ConnectionRehearsal[];
  totals: Totals;
  /** What the replay cannot know, in sentences. */
  basis: string;
}

const BASIS =
  "Each recorded login is replayed as a callback of its shape with the values its IdP sends (the route's match as it is now), " +
  "Auth0-started ones with their affinity handle. Stranded: an OIDC login started at the new provider sent to Auth0, " +
  "an Auth0-started login sent to the new provider, or a page once Auth0 is retired. Logins recorded with affinity off " +
  "are replayed as not started by Auth0; names without a route (not in table) as a name no table has.";

/** Field errors of the proposal, named as the body names them (`table.routes.0.state`). */
function underTable(errors: readonly FieldError[]): FieldError[] {
  return errors.map((e) => ({ ...e, field: e.field === "(body)" ? "table" : `table.${e.field}` }));
}

/**
 * The rehearsal of `proposal` (routes.json form: `{ settings?, routes? }`) over the logins of
 * the last `windowMs` (at most 35 days). Per connection: logins replayed, how many the change
 * sends elsewhere and where, how many it strands; totals over all. Throws ApiProblem 400 naming
 * each field of a malformed proposal (`table.…`), 503 when the router cannot answer.
 */
export async function rehearse(env: Env, proposal: unknown, windowMs = DEFAULT_WINDOW_MS): Promise<RehearsalReport> {
  const parsed = Proposal.safeParse(proposal);
  if (!parsed.success)
    throw badRequest("The proposal is not a routes.json table.", underTable(zodErrors(parsed.error)));
  const until = Date.now();
  const window = Math.min(Math.max(windowMs, HOUR_MS), MAX_WINDOW_MS);
  const rehearsal = await writerOf(env).rehearseImport({
    routes: (parsed.data.routes ?? []) as RouteInput[],
    settings: parsed.data.settings === undefined ? undefined : settingsOfInput(parsed.data.settings),
    replace: false,
  });
  if (!rehearsal.ok) {
    throw badRequest(`The proposal would be refused: ${rehearsal.detail}`, underTable(rehearsal.errors ?? []));
  }
  const evidence = await evidenceRows(env, window, undefined, until);
  const router = routerOf(env);
  const answer = await askRouter(() => router.rehearse({ kv: rehearsal.value.kv, evidence }));
  if (!answer.ok) {
    throw new ApiProblem(503, "Router misconfigured", `Fix: ${answer.problems.map((p) => p.variable).join(", ")}.`);
  }
  const totals: Totals = { logins: 0, changed: 0, stranded: 0, strandedNow: 0, to: {} };
  for (const c of answer.connections) {
    totals.logins += c.logins;
    totals.changed += c.changed;
    totals.stranded += c.stranded;
    totals.strandedNow += c.strandedNow;
    for (const [d, n] of Object.entries(c.to) as Array<[Destination, number]>) totals.to[d] = (totals.to[d] ?? 0) + n;
  }
  return {
    window: { since: new Date(until - window).toISOString(), until: new Date(until).toISOString() },
    connections: answer.connections,
    totals,
    basis: BASIS,
  };
}

const Counts = z.record(z.enum(["auth0", "new", "page"]), z.number().int());
const ConnectionRehearsalSchema = z.object({
  connection: z.string(),
  logins: z.number().int().meta({ description: "Recorded logins replayed" }),
  changed: z.number().int().meta({ description: "How many the change sends elsewhere (destination or target)" }),
  to: Counts.meta({ description: "Where the changed ones go" }),
  stranded: z.number().int().meta({ description: "How many could not be served under the change" }),
  strandedNow: z.number().int().meta({ description: "The same under the table as it is" }),
  now: Counts,
  proposed: Counts,
  strandedWhy: z.array(z.string()),
});
export const RehearsalSchema = z
  .object({
    window: z.object({ since: z.string(), until: z.string() }),
    connections: z.array(ConnectionRehearsalSchema),
    totals: z.object({
      logins: z.number().int(),
      changed: z.number().int(),
      stranded: z.number().int(),
      strandedNow: z.number().int(),
      to: Counts,
    }),
    basis: z.string(),
  })
  .meta({ id: "Rehearsal", description: "Recorded logins replayed under the table now and under the proposal" });

export function registerRehearseRoutes(app: AdminApp): void {
  // Documented here, parsed by hand: a malformed proposal is a 400 naming its field.
  app.openAPIRegistry.registerPath(
    createRoute({
      method: "post",
      path: "/rehearse",
      summary:
        "Replay the recorded logins of a window (default 7 days) under a proposed change (routes.json, merged): per connection how many would go elsewhere, where, and how many could not be served. Nothing is written",
      request: { body: { required: true, content: jsonOf(RehearseBody) } },
      responses: { 200: { description: "The rehearsal", content: jsonOf(RehearsalSchema) }, ...problemResponses },
    }),
  );
  app.post("/rehearse", async (c) => {
    requireScope(c.get("principal"), "routes:read");
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch (err) {
      throw badRequest(`The body is not JSON: ${err instanceof Error ? err.message.slice(0, 200) : "parse error"}`);
    }
    const parsed = RehearseBody.safeParse(body);
    if (!parsed.success) throw badRequest("The body is not a rehearsal question.", zodErrors(parsed.error));
    return c.json(await rehearse(c.env, parsed.data.table, windowMsOf(parsed.data.window)), 200);
  });
}
