/**
 * The API's request/response shapes, registered by name in the OpenAPI
 * document. Route and settings shapes are the table's own schemas, so the API,
 * routes.json and what the router reads from KV are checked the same way.
 */
import { AFFINITY_STATE_DESCRIPTION } from "../affinity/state";
import * as z from "zod";
import {
  CONNECTION_NAME_MAX,
  connectionNameTooLong,
  KillSwitch,
  Rollout,
  Route,
  RouteInput,
  Settings,
} from "../table/schema";
import { CALLBACK_SHAPES, LEVEL_MEANING } from "../table/routability";

export const RouteSchema = Route.meta({ id: "Route", description: "A route as stored, with its version." });
export const RouteInputSchema = RouteInput.meta({
  id: "RouteInput",
  description: "A route as written by an operator.",
});
export const SettingsSchema = Settings.meta({ id: "Settings" });
export const RolloutSchema = Rollout.meta({ id: "Rollout" });

/**
 * PUT /routes/{connection}: the connection comes from the path; the provider
 * fields come only from the provider sync (the stored values are kept).
 */
export const RouteBody = RouteInput.omit({
  connection: true,
  providerState: true,
  providerOrganizationId: true,
  providerSyncedAt: true,
}).meta({ id: "RouteBody" });

/** PATCH: any subset; null removes an optional field. */
export const RoutePatchBody = z
  .object({
    state: RouteInput.shape.state.optional(),
    organization: RouteInput.shape.organization.unwrap().nullable().optional(),
    protocol: RouteInput.shape.protocol.unwrap().nullable().optional(),
    target: RouteInput.shape.target.unwrap().nullable().optional(),
    match: RouteInput.shape.match.unwrap().nullable().optional(),
    metadataUrl: RouteInput.shape.metadataUrl.unwrap().nullable().optional(),
    providerConnectionId: RouteInput.shape.providerConnectionId.unwrap().nullable().optional(),
    note: RouteInput.shape.note.unwrap().nullable().optional(),
  })
  .strict()
  .meta({ id: "RoutePatch" });

/** Provider settings to change; the fields not sent keep their current values. */
const ProviderSettingsBody = z
  .object({
    requireActive: z.boolean().optional(),
    autoMigrate: z.boolean().optional(),
    flagSlug: z.string().min(1).max(128).optional(),
    mirrorFlag: z.boolean().optional(),
  })
  .strict();

export const SettingsBody = Settings.omit({ rollout: true })
  .partial()
  .extend({
    defaultTarget: z.string().url().max(2048).nullable().optional(),
    bounceMessage: Settings.shape.bounceMessage.unwrap().nullable().optional(),
    paths: Settings.shape.paths.unwrap().nullable().optional(),
    provider: ProviderSettingsBody.nullable().optional(),
    killSwitch: z
      .object({ on: KillSwitch.shape.on })
      .strict()
      .optional()
      .describe(
        "The kill switch, beside the mode: turning it off leaves the mode as it was (since/by are the writer's)",
      ),
  })
  .strict()
  .meta({
    id: "SettingsUpdate",
    description:
      "Fields to change; defaultTarget, bounceMessage and paths null remove them. provider fields not sent keep their values; provider null restores the defaults. killSwitch { on } overrides mode without changing it.",
  });

export const RolloutBody = z
  .object({
    percentage: z.number().min(0).max(100),
    include: z.array(z.string().min(1).max(128)).max(10_000).default([]),
    exclude: z.array(z.string().min(1).max(128)).max(10_000).default([]),
  })
  .strict()
  .meta({ id: "RolloutUpdate" });

export const FieldErrorSchema = z.object({ field: z.string(), reason: z.string() });

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z
      .array(FieldErrorSchema)
      .optional()
      .describe("The first 100 field errors (each field and reason at most 300 characters)"),
    errorCount: z.number().int().optional().describe("How many field errors there were, when more than the 100 listed"),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details" });

export const ImportDiffSchema = z
  .object({
    added: z.array(z.string()),
    changed: z.array(z.object({ connection: z.string(), fields: z.array(z.string()) })),
    removed: z.array(z.string()),
    unchanged: z.array(z.string()),
    settingsChanged: z.boolean(),
  })
  .meta({ id: "ImportDiff" });

export const ImportResultSchema = z
  .object({
    dryRun: z.boolean(),
    mode: z.enum(["merge", "replace"]),
    format: z.enum(["routes.json", "proxy_routes.csv", "workos-package"]),
    diff: ImportDiffSchema,
    warnings: z.array(z.string()),
    derived: z
      .array(z.object({ connection: z.string(), field: z.string(), value: z.unknown(), from: z.string() }))
      .optional()
      .meta({ description: "Every value the import derived rather than copied (WorkOS package), and from what" }),
    kvPending: z.number().int(),
  })
  .meta({ id: "ImportResult" });

/** Transaction affinity's state (src/affinity/state.ts). */
export const AffinityStateSchema = z
  .enum(["on", "off", "not-configured"])
  .meta({ description: AFFINITY_STATE_DESCRIPTION });

const CallbackShapeSchema = z.enum(CALLBACK_SHAPES);

export const RoutabilitySchema = z
  .object({
    level: z.enum(["routable", "partial", "unroutable"]).meta({
      description: Object.entries(LEVEL_MEANING)
        .map(([level, meaning]) => `${level}: ${meaning}`)
        .join("; "),
    }),
    protocol: z.string(),
    reason: z.string(),
    fix: z.string().optional(),
    shapes: z.array(
      z.object({
        shape: CallbackShapeSchema,
        identified: z.boolean(),
        by: z.string().optional(),
        usual: z.boolean().meta({ description: "false: only some IdPs of this protocol send it" }),
      }),
    ),
  })
  .meta({
    id: "Routability",
    description: "Whether the router can identify this route's callbacks with what the table holds, per callback shape",
  });

const CountsByWord = z.record(z.string(), z.number().int());

export const ReadinessSchema = z
  .object({
    verdict: z.enum(["ready", "not ready", "no evidence"]),
    days: z.number().int().meta({ description: "The window of evidence, in days" }),
    logins: z.number().int(),
    identifiable: z.number().int(),
    unidentifiable: z.number().int(),
    setAside: z.number().int().meta({
      description:
        "Logins of shapes this route's protocol never sends (e.g. a GET naming connection= for an OIDC route): anyone can send those, so they are not evidence",
    }),
    summary: z.string().meta({
      description: 'One sentence with the numbers, e.g. "412 logins in 7 days; all identifiable by connection="',
    }),
    fix: z.string().optional(),
    shapes: z.array(
      z.object({
        shape: z.string(),
        logins: z.number().int(),
        identifiable: z.boolean(),
        identifiedBy: CountsByWord,
        started: CountsByWord,
      }),
    ),
    prediction: z.enum(["routable", "partial", "unroutable"]).meta({ description: "Routability from configuration" }),
    agrees: z.boolean(),
    difference: z
      .string()
      .optional()
      .meta({ description: "When evidence and prediction disagree: the evidence wins, and how" }),
  })
  .meta({
    id: "Readiness",
    description:
      "Whether the router can identify this connection's callbacks after a cut-over, judged on the callbacks it recorded (docs/storage.md, Evidence); no evidence: the prediction stands",
  });

export const RouteWithRoutabilitySchema = Route.extend({
  routability: RoutabilitySchema,
  readiness: ReadinessSchema,
}).meta({
  id: "RouteWithRoutability",
  description: "A route as stored, with its version, its routability (prediction) and its readiness (evidence).",
});

export const CoverageSchema = z
  .object({
    routes: z.number().int(),
    organizations: z.number().int(),
    byLevel: z.object({ routable: z.number(), partial: z.number(), unroutable: z.number() }),
    byProtocol: z.record(z.string(), z.object({ routable: z.number(), partial: z.number(), unroutable: z.number() })),
    atRisk: z.array(
      z.object({
        connection: z.string(),
        state: z.string(),
        level: z.string(),
        reason: z.string(),
        fix: z.string().optional(),
      }),
    ),
    readiness: z.object({
      days: z.number().int(),
      byVerdict: z.object({ ready: z.number().int(), "not ready": z.number().int(), "no evidence": z.number().int() }),
      connections: z
        .array(ReadinessSchema.extend({ connection: z.string(), state: z.string() }).omit({ shapes: true }))
        .meta({ description: "Routes not ready, or whose evidence disagrees with their prediction" }),
    }),
  })
  .meta({
    id: "Coverage",
    description: "Routability across the table; atRisk: migrated/rollout routes not always identified",
  });

export const EvaluationSchema = z
  .object({
    connection: z.string().nullable(),
    summary: z.string().optional().meta({
      description:
        'Each callback shape of the route and where it goes, "; "-separated (e.g. "SAML post with connection= → new (migrated); OIDC GET without iss → auth0 (unidentified, unknown: auth0)"); "(some IdPs)" marks shapes only some IdPs send',
    }),
    destination: z
      .enum(["new", "auth0", "page"])
      .meta({ description: "page: Auth0 is retired and the router answers the callback itself" }),
    reason: z.string(),
    target: z.string().optional(),
    shadow: z.object({ destination: z.literal("new"), target: z.string() }).optional(),
    affinity: AffinityStateSchema,

    routability: RoutabilitySchema.optional(),
    callbacks: z
      .array(
        z.object({
          shape: CallbackShapeSchema,
          usual: z.boolean(),
          destination: z.enum(["new", "auth0", "page"]),
          reason: z.string(),
          identifiedBy: z.string(),
        }),
      )
      .optional(),
    explanation: z.string().optional(),
  })
  .meta({ id: "Evaluation" });

export const OrganizationEvaluationSchema = z
  .object({
    organization: z.string(),
    destination: z.enum(["new", "auth0"]),
    reason: z.string(),
    connections: z.array(EvaluationSchema),
    affinity: AffinityStateSchema,
  })
  .meta({ id: "OrganizationEvaluation" });

export const AuditEntrySchema = z
  .object({
    id: z.number().int(),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    subject: z.string().nullable(),
    before: z.unknown(),
    after: z.unknown(),
  })
  .meta({ id: "AuditEntry" });

/** The `{connection}` path parameter (its characters are checked by the handlers: /stats takes two more names). */
export const ConnectionParam = z.object({
  connection: z
    .string()
    .max(CONNECTION_NAME_MAX, { error: (issue) => connectionNameTooLong(String(issue.input).length) })
    .meta({ param: { name: "connection", in: "path" }, example: "acme-saml" }),
});

/** A JSON body or response of `schema`, for createRoute. */
export const jsonOf = <T extends z.ZodType>(schema: T) => ({ "application/json": { schema } });

export const IfMatchHeader = z.object({
  "if-match": z.string().optional().meta({
    description:
      'The ETag last read, exactly as given (the version, e.g. "3"), or * (the route must exist); 412 when it does not hold. Strong comparison (RFC 9110 §13.1.1): a weak ETag (W/"3") never matches',
  }),
});

export const problemResponses = {
  400: { description: "Malformed request", content: { "application/problem+json": { schema: ProblemSchema } } },
  401: {
    description: "Missing or invalid credential",
    content: { "application/problem+json": { schema: ProblemSchema } },
  },
  403: {
    description: "Credential lacks the scope",
    content: { "application/problem+json": { schema: ProblemSchema } },
  },
  422: { description: "Invalid fields", content: { "application/problem+json": { schema: ProblemSchema } } },
} as const;
