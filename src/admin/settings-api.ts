/** /settings (mode, unknown policy, default target, redirect) and /rollout (the flag). */
import { createRoute } from "@hono/zod-openapi";
import type { Env } from "../env";
import { writerOf, type VersionedSettings, type Writer } from "../writer";
import type { AdminApp } from "./context";
import { requireScope, type Principal } from "./auth";
import {
  IfMatchHeader,
  jsonOf,
  problemResponses,
  RolloutBody,
  RolloutSchema,
  SettingsBody,
  SettingsSchema,
} from "./schemas";
import { etag, ifMatchVersion, unwrap } from "./writer-http";

/** Both PUTs: scope, then one atomic merge in the writer, conditional on If-Match when sent. */
async function updateSettings(
  env: Env,
  principal: Principal,
  ifMatch: string | undefined,
  patch: Parameters<Writer["updateSettings"]>[0],
  action: "settings.update" | "rollout.update",
): Promise<VersionedSettings> {
  requireScope(principal, "routes:write");
  const options = { actor: principal.actor, ifMatch: ifMatchVersion(ifMatch), action };
  return unwrap(await writerOf(env).updateSettings(patch, options)).value;
}

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
      summary: "Change settings: mode (route / shadow / passthrough = kill switch), unknown, defaultTarget, redirect",
      request: { headers: IfMatchHeader, body: { content: jsonOf(SettingsBody), required: true } },
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
      );
      c.header("etag", etag(now.version));
      return c.json(now.settings, 200);
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
