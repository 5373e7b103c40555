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

/**
 * Both PUTs: scope, then one atomic merge in the writer, conditional on If-Match when sent.
 * A patch that sets `auth0: retired` carries the counters' recent Auth0 traffic, so the
 * writer can check the retirement (src/writer/retirement.ts); `force` overrides its blockers.
 */
async function updateSettings(
  env: Env,
  principal: Principal,
  ifMatch: string | undefined,
  patch: Parameters<Writer["updateSettings"]>[0],
  action: "settings.update" | "rollout.update",
  force = false,
): Promise<VersionedSettings> {
  requireScope(principal, "routes:write");
  const retirement = patch.auth0 === "retired" ? { traffic: await recentAuth0Traffic(env), force } : undefined;
  const options = { actor: principal.actor, ifMatch: ifMatchVersion(ifMatch), action, retirement };
  return unwrap(await writerOf(env).updateSettings(patch, options)).value;
}

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
        "Change settings: mode (route / shadow), killSwitch { on } (overrides the mode, never changes it; refused while Auth0 is retired), unknown, defaultTarget, redirect, auth0 (active / retired: checked, 409 listing blockers unless force=true), bounceMessage, paths",
      request: { headers: IfMatchHeader, query: ForceQuery, body: { content: jsonOf(SettingsBody), required: true } },
      responses: {
        200: { description: "Settings now", content: jsonOf(SettingsSchema) },
        412: problemResponses[400],
        ...problemResponses,
      },
    }),
    async (c) => {
      const now = await updateSettings(
        c.env,
        c.get("principal"),
        c.req.header("if-match"),
        c.req.valid("json"),
        "settings.update",
        c.req.valid("query").force === "true",
      );
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
      summary: "Set the rollout flag: percentage (0–100), include[], exclude[] (organization ids or connection names)",
      request: { headers: IfMatchHeader, body: { content: jsonOf(RolloutBody), required: true } },
      responses: {
        200: { description: "Rollout now", content: jsonOf(RolloutSchema) },
        412: problemResponses[400],
        ...problemResponses,
      },
    }),
    async (c) => {
      const rollout = { rollout: c.req.valid("json") };
      const now = await updateSettings(c.env, c.get("principal"), c.req.header("if-match"), rollout, "rollout.update");
      c.header("etag", etag(now.version));
      return c.json(now.settings.rollout, 200);
    },
  );
}
