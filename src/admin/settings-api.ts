/** /settings (mode, unknown policy, default target, redirect) and /rollout (the flag). */
import { createRoute } from "@hono/zod-openapi";
import type { Env } from "../env";
import { writerOf, type VersionedSettings, type Writer } from "../writer";
import type { AdminApp } from "./context";
import { requireScope, type Principal } from "./auth";
import {
  FieldErrorSchema,
  IfMatchHeader,
  jsonOf,
  problemResponses,
  RolloutBody,
  RolloutSchema,
  SettingsBody,
  SettingsSchema,
} from "./schemas";
import { etag, ifMatchVersion, unwrap } from "./writer-http";
import * as z from "zod";
import { askRouter, routerOf } from "./router-client";
import { RETIREMENT_QUIET_DAYS, trafficBlockers } from "../writer/retirement";
import { recentAuth0Traffic } from "./retirement";
import { changedFields, DryRunQuery, previewTable, TablePreviewSchema } from "./preview";
import { loginsOfLast24h } from "./stats-api";

type SettingsChange = Parameters<Writer["updateSettings"]>[0];
type SettingsAction = "settings.update" | "rollout.update";

/**
 * Both PUTs' writer options: scope, If-Match, and for a patch that sets `auth0: retired` the
 * counters' recent Auth0 traffic, so the writer can check the retirement
 * (src/writer/retirement.ts); `force` overrides its blockers.
 */
async function settingsOptions(
  env: Env,
  principal: Principal,
  ifMatch: string | undefined,
  patch: SettingsChange,
  action: SettingsAction,
  force: boolean,
) {
  requireScope(principal, "routes:write");
  const retirement = patch.auth0 === "retired" ? { traffic: await recentAuth0Traffic(env), force } : undefined;
  return { actor: principal.actor, ifMatch: ifMatchVersion(ifMatch), action, retirement };
}

/** Both PUTs: one atomic merge in the writer, conditional on If-Match when sent. */
async function updateSettings(
  env: Env,
  principal: Principal,
  ifMatch: string | undefined,
  patch: SettingsChange,
  action: SettingsAction,
  force = false,
): Promise<VersionedSettings> {
  const options = await settingsOptions(env, principal, ifMatch, patch, action, force);
  return unwrap(await writerOf(env).updateSettings(patch, options)).value;
}

/**
 * Both PUTs' dry run: the writer rehearses the change with the same checks and rolls it back
 * (a change it would refuse is refused here too), then the router decides the table's
 * connections before and after (admin/preview.ts previewTable). Nothing is written.
 */
async function previewSettings(
  env: Env,
  principal: Principal,
  ifMatch: string | undefined,
  patch: SettingsChange,
  action: SettingsAction,
  force = false,
): Promise<SettingsPreview> {
  const options = await settingsOptions(env, principal, ifMatch, patch, action, force);
  const writer = writerOf(env);
  const { before, value, kv } = unwrap(await writer.previewSettings(patch, options)).value;
  const table = await previewTable(env, kv, await loginsOfLast24h(env), writer);
  return { dryRun: true, settings: value.settings, changes: changedFields(before, value.settings), ...table };
}

const SettingsPreviewSchema = TablePreviewSchema.extend({
  dryRun: z.literal(true),
  settings: SettingsSchema.meta({ description: "The settings as the change would store them (nothing is written)" }),
  changes: z
    .array(z.string())
    .meta({ description: "The fields the change would change (killSwitch.on, rollout.percentage…)" }),
}).meta({
  id: "SettingsPreview",
  description: "What a settings or rollout change would do, connection by connection; nothing is written or audited",
});

type SettingsPreview = z.infer<typeof SettingsPreviewSchema>;

const ForceQuery = z.object({
  force: z.enum(["true", "false"]).optional().meta({
    description:
      "true: retire Auth0 (auth0: retired) even though GET /retirement lists blockers; the audit records each one",
  }),
});

const RetirementSchema = z
  .object({
    auth0: z.enum(["active", "retired"]).meta({ description: "The settings' auth0 field" }),
    deployRetired: z.boolean().meta({ description: "AUTH0_RETIRED=true: retired whatever the settings say" }),
    ready: z.boolean().meta({ description: "No blockers: PUT /settings {auth0: retired} would be accepted" }),
    quietDays: z.number().int(),
    blockers: z.array(FieldErrorSchema).meta({
      description: "Every reason Auth0 cannot be retired yet: routes legacy or rollout, mode, recent Auth0 logins",
    }),
  })
  .meta({ id: "Retirement" });

export function registerSettingsRoutes(app: AdminApp): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/settings",
      summary: "Global settings (ETag = settings version)",
      responses: { 200: { description: "Settings", content: jsonOf(SettingsSchema) }, ...problemResponses },
    }),
    async (c) => {
      requireScope(c.get("principal"), "routes:read");
      const current = await writerOf(c.env).getSettings();
      c.header("etag", etag(current.version));
      return c.json(current.settings, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/settings",
      summary:
        "Change settings: mode (route / shadow), killSwitch { on } (overrides the mode, never changes it; refused while Auth0 is retired), unknown, defaultTarget, redirect, auth0 (active / retired: checked, 409 listing blockers unless force=true), bounceMessage, paths. dryRun=true: what would change for each connection, nothing written",
      request: {
        headers: IfMatchHeader,
        query: ForceQuery.extend(DryRunQuery.shape),
        body: { content: jsonOf(SettingsBody), required: true },
      },
      responses: {
        200: {
          description: "Settings now; with dryRun=true, the preview (SettingsPreview) and nothing written",
          content: jsonOf(z.union([SettingsSchema, SettingsPreviewSchema])),
        },
        412: problemResponses[400],
        ...problemResponses,
      },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const args = [
        c.env,
        c.get("principal"),
        c.req.header("if-match"),
        c.req.valid("json"),
        "settings.update",
        query.force === "true",
      ] as const;
      if (query.dryRun === "true") return c.json(await previewSettings(...args), 200);
      const now = await updateSettings(...args);
      c.header("etag", etag(now.version));
      return c.json(now.settings, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/retirement",
      summary:
        "Whether Auth0 can be retired now: every blocker (routes legacy or rollout, mode, logins that reached Auth0 in the last 7 days other than through a bounce). Writes nothing",
      responses: { 200: { description: "The check", content: jsonOf(RetirementSchema) }, ...problemResponses },
    }),
    async (c) => {
      requireScope(c.get("principal"), "routes:read");
      const writer = writerOf(c.env);
      const [current, table, traffic] = await Promise.all([
        writer.getSettings(),
        writer.retirementBlockers(),
        recentAuth0Traffic(c.env),
      ]);
      const blockers = [...table, ...trafficBlockers(traffic)];
      const router = routerOf(c.env);
      const configuration = await askRouter(() => router.configuration());
      return c.json(
        {
          auth0: current.settings.auth0 ?? "active",
          deployRetired: configuration.auth0Retired,
          ready: blockers.length === 0,
          quietDays: RETIREMENT_QUIET_DAYS,
          blockers,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/rollout",
      summary: "The rollout flag",
      responses: { 200: { description: "Rollout", content: jsonOf(RolloutSchema) }, ...problemResponses },
    }),
    async (c) => {
      requireScope(c.get("principal"), "routes:read");
      const current = await writerOf(c.env).getSettings();
      c.header("etag", etag(current.version));
      return c.json(current.settings.rollout, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "put",
      path: "/rollout",
      summary:
        "Set the rollout flag: percentage (0–100), include[], exclude[] (organization ids or connection names). dryRun=true: what would change, nothing written",
      request: { headers: IfMatchHeader, query: DryRunQuery, body: { content: jsonOf(RolloutBody), required: true } },
      responses: {
        200: {
          description: "Rollout now; with dryRun=true, the preview (SettingsPreview) and nothing written",
          content: jsonOf(z.union([RolloutSchema, SettingsPreviewSchema])),
        },
        412: problemResponses[400],
        ...problemResponses,
      },
    }),
    async (c) => {
      const rollout = { rollout: c.req.valid("json") };
      const args = [c.env, c.get("principal"), c.req.header("if-match"), rollout, "rollout.update"] as const;
      if (c.req.valid("query").dryRun === "true") return c.json(await previewSettings(...args), 200);
      const now = await updateSettings(...args);
      c.header("etag", etag(now.version));
      return c.json(now.settings.rollout, 200);
    },
  );
}
