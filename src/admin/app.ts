/**
 * The management API: a hono sub-app under ADMIN_PREFIX (default /__router/v1),
 * JSON in and out, RFC 9457 problems, OpenAPI 3.1 generated from the schemas.
 * Every answer is `Cache-Control: no-store` (with an ETag: `no-store, no-transform`). Only /health answers without a
 * credential, and it says nothing about the configuration.
 */
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import * as z from "zod";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { log } from "../log";
import { authenticate } from "./auth";
import { adminConfigFor } from "../config";
import { ApiProblem, notAConnection, problemResponse } from "./problem";
import { jsonLimitProblem, MAX_JSON_DEPTH } from "./json-limits";
import { refuseUnknownQuery } from "./query-guard";
import { jsonOf } from "./schemas";
import { registerInsightRoutes } from "./insight-api";
import { registerRouteRoutes } from "./routes-api";
import { registerSettingsRoutes } from "./settings-api";
import { registerSyncRoutes } from "./sync-api";
import { registerStatsRoutes } from "./stats-api";
import { registerTableRoutes } from "./table-api";
import { registerMetadataRoutes } from "./metadata-api";
import { registerAutopilotRoutes } from "./autopilot-api";
import { registerRehearseRoutes } from "./rehearse";
import { registerDashboard } from "../dashboard/route";
import { zodErrors } from "../table/validate";
import type { AdminApp, AdminEnv } from "./context";

/** Where the route modules get these types from (kept here too for older imports). */
export type { AdminApp, AdminEnv } from "./context";

export const IMPORT_LIMIT_BYTES = 5 * 1024 * 1024;
export const BODY_LIMIT_BYTES = 64 * 1024;

function tooLarge(limit: number): never {
  throw new ApiProblem(413, "Body too large", `The request body must be at most ${limit} bytes.`);
}

export function createAdminApp(prefix: string): AdminApp {
  const app: AdminApp = new OpenAPIHono<AdminEnv>({
    defaultHook: (result) => {
      if (!result.success && result.target === "param") {
        // Path parameters are named as the OpenAPI document names them ({connection}), as the
        // handlers' own checks name them; `param.connection` is nothing an operator wrote.
        const errors = zodErrors(result.error);
        if (errors.every((e) => e.field === "connection")) throw notAConnection(errors[0]?.reason ?? "");
        throw new ApiProblem(400, "Bad request", "The request's path has invalid parameters.", errors);
      }
      if (!result.success) {
        const inBody = result.target === "json";
        throw new ApiProblem(
          inBody ? 422 : 400,
          inBody ? "Invalid fields" : "Bad request",
          `The request's ${inBody ? "body" : result.target} has invalid fields.`,
          zodErrors(result.error, inBody ? "" : result.target),
        );
      }
      return undefined;
    },
  }).basePath(prefix);

  // An answer with an ETag is also no-transform (RFC 9111 §5.2.2.6): a proxy that compresses it
  // (Cloudflare's edge does, by default) turns the strong ETag into a weak one, which would
  // never match in If-Match (RFC 9110 §13.1.1) when the dashboard or the CLI sends it back.
  app.use("*", async function noStore(c, next) {
    await next();
    c.res.headers.set("cache-control", c.res.headers.has("etag") ? "no-store, no-transform" : "no-store");
  });

  app.openapi(
    createRoute({
      method: "get",
      path: "/health",
      summary: "Liveness: the Worker answers. No credential; says nothing about the configuration",
      security: [],
      responses: {
        200: {
          description: "The Worker is running",
          content: jsonOf(z.object({ status: z.literal("ok") })),
        },
      },
    }),
    (c) => c.json({ status: "ok" as const }, 200),
  );
  registerDashboard(app);

  app.use("*", async function requireCredential(c, next) {
    const result = adminConfigFor(c.env);
    if (!result.ok) {
      for (const p of result.problems)
        log({ event: "config-error", variable: p.variable, message: `${p.variable} ${p.message}` });
      throw new ApiProblem(
        503,
        "Management API misconfigured",
        `Fix these variables: ${result.problems.map((p) => p.variable).join(", ")} (details in the Worker logs).`,
      );
    }
    c.set("adminConfig", result.config);
    c.set("principal", await authenticate(c.req.raw, result.config));
    await next();
  });

  // A query parameter the matched route does not declare is refused before anything runs:
  // a misspelt or unsupported flag (?dryrun=true) never lets a change through as if previewed.
  app.use("*", refuseUnknownQuery(app, prefix));

  // By route, not by path suffix: only POST {prefix}/import and POST {prefix}/rehearse take a
  // whole table (PUT /routes/import names a connection and gets the ordinary limit).
  const tablePaths = new Set([`${prefix}/import`, `${prefix}/rehearse`]);
  const importLimit = bodyLimit({ maxSize: IMPORT_LIMIT_BYTES, onError: () => tooLarge(IMPORT_LIMIT_BYTES) });
  const bodyLimitFor = bodyLimit({ maxSize: BODY_LIMIT_BYTES, onError: () => tooLarge(BODY_LIMIT_BYTES) });
  app.use("*", async function limitBody(c, next) {
    const isImport = c.req.method === "POST" && tablePaths.has(new URL(c.req.url).pathname);
    return (isImport ? importLimit : bodyLimitFor)(c, next);
  });
  // A JSON body's depth is checked on its text before it is parsed further or copied
  // to the writer (hono keeps the text, so the handlers read the same bytes).
  app.use("*", async function limitJsonDepth(c, next) {
    const type = c.req.header("content-type") ?? "";
    if (c.req.method !== "GET" && c.req.method !== "HEAD" && /json/i.test(type)) {
      const problem = jsonLimitProblem(await c.req.text());
      if (problem !== undefined) {
        throw new ApiProblem(400, "JSON nested too deeply", problem, [
          { field: "body", reason: `nested deeper than ${MAX_JSON_DEPTH} levels` },
        ]);
      }
    }
    await next();
  });

  registerRouteRoutes(app);
  registerTableRoutes(app);
  registerSettingsRoutes(app);
  registerInsightRoutes(app);
  registerSyncRoutes(app);
  registerStatsRoutes(app);
  registerMetadataRoutes(app);
  registerAutopilotRoutes(app);
  registerRehearseRoutes(app);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "ADMIN_TOKEN, or a JWT from ADMIN_JWKS_URL's issuer with routes:read / routes:write",
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "callback-router management API",
      version: "1.0.0",
      description:
        "Steer the Auth0 → new SSO provider migration: route table, settings, rollout, evaluation, audit. Every route refuses a query parameter it does not list (400 problem naming it), so a misspelt flag never changes anything.",
    },
    security: [{ bearer: [] }],
  });

  app.notFound((c) =>
    problemResponse(
      new ApiProblem(404, "Not found", `No API endpoint ${c.req.method} ${new URL(c.req.url).pathname}.`),
    ),
  );

  app.onError((err, c) => {
    if (err instanceof ApiProblem) return problemResponse(err);
    if (err instanceof HTTPException) {
      return problemResponse(
        new ApiProblem(err.status, err.status === 400 ? "Bad request" : "Error", err.message || "Request refused."),
      );
    }
    log({ event: "unexpected", message: err.message.slice(0, 200), path: new URL(c.req.url).pathname });
    return problemResponse(
      new ApiProblem(
        503,
        "Unavailable",
        "The management API could not complete the request; nothing was changed unless the audit log says so.",
      ),
    );
  });

  return app;
}

const apps = new Map<string, AdminApp>();

/** One app per prefix per isolate (routes are fixed when the app is built). */
export function adminAppFor(prefix: string): AdminApp {
  let app = apps.get(prefix);
  if (app === undefined) {
    app = createAdminApp(prefix);
    apps.set(prefix, app);
  }
  return app;
}
