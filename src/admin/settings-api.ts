/** /settings (mode, unknown policy, default target, redirect) and /rollout (the flag). */
import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import type { AdminApp } from "./app";
import { requireScope } from "./auth";
import { problemResponses, RolloutBody, RolloutSchema, SettingsBody, SettingsSchema } from "./schemas";
import { etag, ifMatchVersion, unwrap, writerOf } from "./writer";

const jsonOf = <T extends z.ZodType>(schema: T) => ({ "application/json": { schema } });
const IfMatchHeader = z.object({ "if-match": z.string().optional() });

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
      const principal = c.get("principal");
      requireScope(principal, "routes:write");
      const result = unwrap(
        await writerOf(c.env).updateSettings(c.req.valid("json"), {
          actor: principal.actor,
          ifMatch: ifMatchVersion(c.req.header("if-match")),
          action: "settings.update",
        }),
      );
      c.header("etag", etag(result.value.version));
      return c.json(result.value.settings, 200);
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
      const principal = c.get("principal");
      requireScope(principal, "routes:write");
      const result = unwrap(
        await writerOf(c.env).updateSettings(
          { rollout: c.req.valid("json") },
          { actor: principal.actor, ifMatch: ifMatchVersion(c.req.header("if-match")), action: "rollout.update" },
        ),
      );
      c.header("etag", etag(result.value.version));
      return c.json(result.value.settings.rollout, 200);
    },
  );
}
