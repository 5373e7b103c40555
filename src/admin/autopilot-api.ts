/**
 * /autopilot: submit a cut-over plan (or dry-run it), see where it is, pause, resume, abort
 * (docs/operations.md, "Autopilot"). The plan runs in the Autopilot Durable Object
 * (src/autopilot/durable-object.ts); this module only translates HTTP into its calls.
 */
import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import type { Env } from "../env";
import { AUTOPILOT_EVENT_KINDS } from "../autopilot/events";
import { PlanInput } from "../autopilot/plan";
import type { AdminApp } from "./context";
import { requireScope } from "./auth";
import { ApiProblem } from "./problem";
import { rehearse } from "./rehearse";
import { writerOf } from "../writer";
import { jsonOf, problemResponses } from "./schemas";

/** env.AUTOPILOT's one instance; a 503 problem naming the binding without it. */
function autopilotOf(env: Env) {
  if (env.AUTOPILOT === undefined) {
    throw new ApiProblem(
      503,
      "Autopilot not bound",
      "The admin Worker has no AUTOPILOT Durable Object binding (wrangler.admin.toml [[durable_objects.bindings]]); deploy with npm run deploy.",
    );
  }
  return env.AUTOPILOT.get(env.AUTOPILOT.idFromName("autopilot"));
}

type Answer<T> =
  | { ok: true; value: T }
  | { ok: false; status: number; title: string; detail: string; errors?: Array<{ field: string; reason: string }> };

function valueOf<T>(answer: Answer<T>): T {
  if (!answer.ok) throw new ApiProblem(answer.status, answer.title, answer.detail, answer.errors ?? []);
  return answer.value;
}

const Outcome = z.union([
  z.object({ succeeded: z.number().int(), failed: z.number().int(), source: z.string() }),
  z.object({ source: z.literal("no source"), reason: z.string() }),
]);

export const NumbersSchema = z
  .object({
    logins: z.number().int().meta({ description: "Logins sent to the new provider since the change" }),
    fallback: z.number().int().meta({ description: "Verified bounces back to Auth0 (unverified ones not counted)" }),
    fallbackShare: z.number().meta({ description: "fallback / logins (0 with no logins)" }),
    errors: z.number().int().meta({ description: "5xx answers" }),
    errorShare: z.number().meta({ description: "errors / callbacks (logins + bounces)" }),
    alarms: z.array(z.string()).meta({ description: "Flags /stats raises for it since its change" }),
    outcome: Outcome.meta({ description: "The new provider's own outcome, or `no source` and why" }),
  })
  .meta({ id: "AutopilotNumbers" });

const Skipped = z.object({ connection: z.string(), reason: z.string() });
const GatesOut = PlanInput.shape.gates;

const ConnectionView = z
  .object({
    connection: z.string(),
    wave: z.number().int(),
    providerConnectionId: z.string().optional(),
    status: z.enum(["waiting", "soaking", "promoted", "rolled-back", "left", "not-started"]),
    since: z.string().optional().meta({ description: "When it was cut over (the numbers count from here)" }),
    soakUntil: z.string().optional().meta({ description: "When its soak ends (moved on by pauses)" }),
    numbers: NumbersSchema.optional().meta({ description: "The last reading" }),
    readAt: z.string().optional(),
    reason: z.string().optional().meta({ description: "Why it is in its status (the last verdict or the decision)" }),
    decidedAt: z.string().optional(),
  })
  .meta({ id: "AutopilotConnection" });

export const EventSchema = z
  .object({
    kind: z.enum(AUTOPILOT_EVENT_KINDS),
    planId: z.string(),
    wave: z.number().int().nullable(),
    waveName: z.string().optional(),
    connection: z.string().optional(),
    reason: z.string(),
    numbers: NumbersSchema.optional(),
    actor: z.string(),
    at: z.string(),
  })
  .meta({ id: "AutopilotEvent" });

const WaveView = z.object({
  index: z.number().int(),
  name: z.string(),
  canary: z.boolean(),
  soak: z.string(),
  gates: GatesOut,
  skipped: z.array(Skipped),
  startedAt: z.string().optional(),
  rollbacks: z.number().int(),
  status: z.enum(["waiting", "running", "done"]),
  connections: z.array(ConnectionView),
});

export const PlanViewSchema = z
  .object({
    id: z.string(),
    status: z.enum(["running", "paused", "halted", "finished", "aborted"]),
    statusReason: z.string().nullable(),
    statusBy: z.string().nullable(),
    statusAt: z.string().nullable(),
    submittedBy: z.string(),
    submittedAt: z.string(),
    actor: z.string().meta({ description: "The audit's actor for the plan's changes: autopilot:<id>" }),
    checkEvery: z.string(),
    policy: PlanInput.shape.policy.unwrap(),
    currentWave: z.number().int(),
    nextStepAt: z
      .string()
      .nullable()
      .meta({ description: "When the gates are read next; null unless running or halted" }),
    totals: z.record(z.string(), z.number().int()),
    waves: z.array(WaveView),
    timeline: z.array(EventSchema).meta({ description: "The plan's events, oldest first (the last 500)" }),
  })
  .meta({ id: "AutopilotPlanView" });

const StatusSchema = z.object({ plan: PlanViewSchema.nullable() }).meta({ id: "AutopilotStatus" });

const Destinations = z.record(z.string(), z.number().int());

const RehearsalSchema = z
  .union([
    z.object({
      available: z.literal(true),
      window: z.object({ since: z.string(), until: z.string() }),
      totals: z.object({
        logins: z.number().int(),
        changed: z.number().int(),
        stranded: z.number().int(),
        strandedNow: z.number().int(),
        to: Destinations,
      }),
      connections: z.array(
        z.object({
          connection: z.string(),
          logins: z.number().int(),
          changed: z.number().int(),
          to: Destinations,
          stranded: z.number().int(),
          strandedNow: z.number().int(),
          strandedWhy: z.array(z.string()),
        }),
      ),
      basis: z.string(),
    }),
    z.object({ available: z.literal(false), reason: z.string() }),
  ])
  .meta({
    id: "AutopilotFirstWaveRehearsal",
    description:
      "Dry run only: the last 7 days of recorded logins of the first wave's connections replayed as if they were migrated (POST /rehearse): how many would move, where, and how many would be stranded",
  });

/**
 * The first wave's connections rehearsed as migrated (src/admin/rehearse.ts) over the last 7
 * days of recorded logins; a rehearsal that cannot run says why instead of failing the dry run.
 */
async function firstWaveRehearsal(env: Env, connections: string[]): Promise<z.infer<typeof RehearsalSchema>> {
  try {
    const wanted = new Set(connections);
    const table = await writerOf(env).exportTable();
    const routes = table.routes.filter((r) => wanted.has(r.connection)).map((r) => ({ ...r, state: "migrated" }));
    const report = await rehearse(env, { routes });
    return { available: true, ...report } as z.infer<typeof RehearsalSchema>;
  } catch (err) {
    const reason =
      err instanceof ApiProblem ? `${err.title}: ${err.detail}` : err instanceof Error ? err.message : String(err);
    return { available: false, reason: reason.slice(0, 300) };
  }
}

const PreviewSchema = z
  .object({
    id: z.string(),
    dryRun: z.boolean(),
    actor: z.string(),
    checkEvery: z.string(),
    waves: z.array(
      z.object({
        name: z.string(),
        canary: z.boolean(),
        soak: z.string(),
        gates: GatesOut,
        connections: z.array(z.string()),
        skipped: z.array(Skipped),
      }),
    ),
    connections: z.number().int(),
    blockers: z.array(z.string()).meta({
      description: "Why it could not start now although valid (a running plan, the kill switch); empty when it can",
    }),
    firstWaveRehearsal: RehearsalSchema.optional(),
  })
  .meta({ id: "AutopilotPlanPreview" });

const DryRunQuery = z.object({
  dryRun: z
    .enum(["true", "false"])
    .default("false")
    .meta({ description: "true: check and show the waves, start nothing" }),
});

const AbortBody = z
  .object({
    rollback: z.boolean().meta({
      description: "true: put every connection the plan cut over back to legacy; false: leave the table as it is",
    }),
  })
  .strict()
  .meta({ id: "AutopilotAbort" });

export function registerAutopilotRoutes(app: AdminApp): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/autopilot",
      summary: "The autopilot's plan: state, current wave, each connection's status with its numbers, next step time",
      responses: {
        200: { description: "The newest plan (null before any)", content: jsonOf(StatusSchema) },
        ...problemResponses,
      },
    }),
    async (c) => {
      requireScope(c.get("principal"), "routes:read");
      return c.json({ plan: await autopilotOf(c.env).status() } as z.infer<typeof StatusSchema>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/autopilot/plans",
      summary:
        "Submit a cut-over plan (waves, soak, gates, policy); dryRun=true shows the waves, rehearses the first wave on the recorded logins and starts nothing",
      description:
        "Refused (422) naming the field when a named connection is not in the table, not legacy, not routable, in an earlier wave or in a running plan; connections an organization or filter selects are skipped with the reason. 409 while another plan is running or paused, or with the kill switch on.",
      request: {
        query: DryRunQuery,
        body: { content: { "application/json": { schema: PlanInput } }, required: true },
      },
      responses: {
        200: { description: "The plan as it runs (or would run)", content: jsonOf(PreviewSchema) },
        ...problemResponses,
      },
    }),
    async (c) => {
      requireScope(c.get("principal"), "routes:write");
      const dryRun = c.req.valid("query").dryRun === "true";
      const preview = valueOf(
        await autopilotOf(c.env).submit(c.req.valid("json"), { actor: c.get("principal").actor, dryRun }),
      );
      if (!dryRun) return c.json(preview as z.infer<typeof PreviewSchema>, 200);
      const firstWave = preview.waves[0]?.connections ?? [];
      return c.json(
        { ...preview, firstWaveRehearsal: await firstWaveRehearsal(c.env, firstWave) } as z.infer<typeof PreviewSchema>,
        200,
      );
    },
  );

  const control = (
    path: string,
    summary: string,
    call: (env: Env, actor: string, body: unknown) => Promise<Answer<unknown>>,
    body?: z.ZodType,
  ) => {
    app.openapi(
      createRoute({
        method: "post",
        path,
        summary,
        ...(body === undefined
          ? {}
          : { request: { body: { content: { "application/json": { schema: body } }, required: true } } }),
        responses: {
          200: { description: "The plan after the change", content: jsonOf(PlanViewSchema) },
          ...problemResponses,
        },
      }),
      async (c) => {
        requireScope(c.get("principal"), "routes:write");
        const input: unknown = body === undefined ? undefined : await c.req.json();
        const view = valueOf(await call(c.env, c.get("principal").actor, input));
        return c.json(view as z.infer<typeof PlanViewSchema>, 200);
      },
    );
  };
  control(
    "/autopilot/pause",
    "Pause the running plan: nothing is cut over, promoted or rolled back until resumed",
    (env, actor) => autopilotOf(env).pause(actor),
  );
  control("/autopilot/resume", "Resume a paused or halted plan (refused while the kill switch is on)", (env, actor) =>
    autopilotOf(env).resume(actor),
  );
  control(
    "/autopilot/abort",
    "End the plan: rollback=true puts what it cut over back to legacy, false leaves the table as it is",
    (env, actor, body) => autopilotOf(env).abort(actor, AbortBody.parse(body).rollback),
    AbortBody,
  );
}
