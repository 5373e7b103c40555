/**
 * A cut-over plan as an operator writes it (POST {prefix}/autopilot/plans, `npm run routes --
 * autopilot plan <file>`; docs/operations.md, "Autopilot"): ordered waves of connections, each
 * with a soak time and health gates, and what to do after a rollback. The JSON Schema in the
 * OpenAPI document is generated from this zod schema, so the API, the CLI and the document check
 * one shape. Durations are the operator's: "90s", "15m", "6h", "3d" (seconds to 30 days); tests
 * and the simulation use seconds with the same code.
 */
import * as z from "zod";
import { ConnectionName, Protocol } from "../table/schema";

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const MAX_DURATION_MS = 30 * UNIT_MS.d;

/** "90s" / "15m" / "6h" / "3d" → milliseconds; undefined when it is not one. */
export function durationMs(text: string): number | undefined {
  const m = /^(\d{1,7})(s|m|h|d)$/.exec(text);
  if (m === null) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return ms >= 1_000 && ms <= MAX_DURATION_MS ? ms : undefined;
}

export const Duration = z
  .string()
  .refine((s) => durationMs(s) !== undefined, {
    message: 'must be a duration: a whole number and s, m, h or d ("90s", "15m", "6h", "3d"), from 1s to 30d',
  })
  .meta({ description: 'A duration: a whole number and s, m, h or d ("90s", "15m", "6h", "3d"), 1s–30d' });

const Share = z.number().min(0).max(1);

/** A wave of at most this many connections may call itself a canary. */
export const CANARY_MAX = 5;
/** A plan moves at most this many connections (one plan's state stays small enough to read whole). */
export const PLAN_MAX_CONNECTIONS = 2_000;

export const Gates = z
  .object({
    minLogins: z.number().int().min(1).max(1_000_000).meta({
      description:
        "Logins sent to the new provider since the change before the connection is judged at all: no evidence, no promotion (and no rollback on shares)",
    }),
    maxFallbackShare: Share.meta({
      description:
        "Most verified bounces back to Auth0 (fallback=auth0 with the router's mark) per login sent to the new provider; unverified bounces are not counted",
    }),
    maxErrorShare: Share.meta({ description: "Most 5xx answers per callback (callbacks = logins + bounces)" }),
    noAlarm: z.boolean().default(true).meta({
      description:
        "Roll back on any flag /stats raises for the connection since its change (fallback-share-high, auth0-traffic-while-migrated, unserved-logins); 5xx are judged by maxErrorShare",
    }),
    maxProviderFailureShare: Share.optional().meta({
      description:
        "Most failed / (succeeded + failed) sign-ins the new provider itself reports for the connection (WorkOS Events). Without an outcome source the reading says `no source`",
    }),
    minProviderSucceeded: z.number().int().min(1).max(1_000_000).optional().meta({
      description:
        "Fewest sign-ins the new provider itself reports as succeeded for the connection since its change before it may be promoted (WorkOS Events). The router's own counts can be filled by anyone who sends callbacks; these cannot. Without an outcome source the connection waits",
    }),
    requireProviderOutcome: z.boolean().default(false).meta({
      description:
        "true: never promote without the new provider's outcome (a connection waits while there is no source); false: promote on the router's numbers and record `outcome: no source`",
    }),
  })
  .strict()
  .meta({ id: "AutopilotGates", description: "Health gates, judged every checkEvery from the connection's change on" });
export type Gates = z.infer<typeof Gates>;

export const WaveFilter = z
  .object({
    state: z.literal("legacy").default("legacy").meta({ description: "Only legacy connections can be cut over" }),
    routable: z.boolean().default(true).meta({
      description: "true: only routes whose usual callbacks the table identifies (GET /coverage's `routable`)",
    }),
    protocol: z.array(Protocol).min(1).optional(),
    organization: z.array(z.string().min(1).max(128)).min(1).max(1_000).optional(),
  })
  .strict()
  .meta({ id: "AutopilotWaveFilter" });

export const Wave = z
  .object({
    name: z.string().min(1).max(80).optional(),
    canary: z
      .boolean()
      .default(false)
      .meta({ description: `A canary wave holds 1 to ${CANARY_MAX} connections` }),
    connections: z.array(ConnectionName).min(1).max(PLAN_MAX_CONNECTIONS).optional().meta({
      description: "By name: each must be in the table, legacy and routable, or the plan is refused naming it",
    }),
    organizations: z.array(z.string().min(1).max(128)).min(1).max(1_000).optional().meta({
      description:
        "Every connection of these Auth0 organizations (those that cannot be cut over are skipped, with why)",
    }),
    filter: WaveFilter.optional().meta({
      description: "Every route matching the filter (those already in an earlier wave are skipped, with why)",
    }),
    limit: z.number().int().min(1).max(PLAN_MAX_CONNECTIONS).optional().meta({
      description: "At most this many of what organizations/filter select, by connection name",
    }),
    soak: Duration.meta({ description: "How long a cut-over connection is watched before it may be promoted" }),
    gates: Gates.partial().optional().meta({ description: "Overrides of the plan's gates for this wave" }),
  })
  .strict()
  .meta({ id: "AutopilotWave" });
export type Wave = z.infer<typeof Wave>;

export const Policy = z
  .object({
    onRollback: z.enum(["halt", "continue"]).default("halt").meta({
      description: "halt: stop starting waves once a wave has haltAfter rollbacks; continue: go on regardless",
    }),
    haltAfter: z.number().int().min(1).max(PLAN_MAX_CONNECTIONS).default(1),
  })
  .strict()
  .meta({ id: "AutopilotPolicy" });

export const PlanInput = z
  .object({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be 1–63 lower-case letters, digits and dashes")
      .optional()
      .meta({ description: "The plan's id (the audit's actor is autopilot:<id>); generated when absent" }),
    gates: Gates,
    policy: Policy.default({ onRollback: "halt", haltAfter: 1 }),
    checkEvery: Duration.default("1m").meta({
      description:
        "The gate window: how often every watched connection is read and judged (a breach is rolled back within one)",
    }),
    waves: z.array(Wave).min(1).max(100),
  })
  .strict()
  .meta({ id: "AutopilotPlan", description: "A cut-over plan: waves of connections, soak times, gates, policy" });
export type PlanInput = z.input<typeof PlanInput>;
export type Plan = z.output<typeof PlanInput>;
