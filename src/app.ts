/**
 * The HTTP surface: /login/callback (in every spelling Auth0 could take for it)
 * is routed; the rest of /__ is the router's own and answers 404; everything
 * else is Auth0's and passes through untouched. Config is checked before anything else, and a
 * Worker whose Auth0 origin is itself answers with an error instead of looping.
 */
import { Hono } from "hono";
import { isAdminCredential } from "./admin/auth";
import { ApiProblem, problemResponse } from "./admin/problem";
import { withAffinityRecorded } from "./affinity/pass-through";
import { forwardToAuth0 } from "./auth0/forward";
import { handleCallback } from "./callback/handler";
import { adminConfigFor, configFor, statsConfigFor, type Config } from "./config";
import type { Env } from "./env";
import { log } from "./log";
import { errorPage } from "./pages";
import { failedCallbackOutcome, outcomeOf, passThroughOutcome, type Outcome } from "./stats/outcome";
import { recordOutcome } from "./stats/recorder";
import { isCallbackPath, isReservedPath } from "./request-path";

type AppEnv = { Bindings: Env; Variables: { config: Config } };

/**
 * Counts an answer the callback handler did not count itself, so that /stats' errors
 * are every 5xx the Worker answered or passed on: a callback answered before or outside
 * the handler (bad configuration, an unexpected failure), or another path's 5xx.
 */
function countAnswer(
  env: Env,
  ctx: Pick<ExecutionContext, "waitUntil">,
  path: string,
  status: number,
  reason: string,
): void {
  const outcome: Outcome | null = isCallbackPath(path)
    ? failedCallbackOutcome(status, reason)
    : passThroughOutcome(status);
  if (outcome !== null) recordOutcome(env, ctx, outcome, statsConfigFor(env));
}

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // The management API is matched first: it must stay reachable when the router's
  // own configuration is wrong (that is when an operator needs it most).
  app.use("*", async function managementApi(c, next) {
    const admin = adminConfigFor(c.env);
    const prefix = admin.ok ? admin.config.prefix : admin.prefix;
    const url = new URL(c.req.url);
    if (url.pathname === prefix || url.pathname.startsWith(`${prefix}/`)) {
      const hostname = admin.ok ? admin.config.hostname : admin.hostname;
      if (hostname === undefined || url.hostname === hostname) {
        // Loaded on the first API request only: an isolate that serves callbacks and
        // pass-through never evaluates the API, its OpenAPI document or the dashboard.
        const { adminAppFor } = await import("./admin/app");
        return adminAppFor(prefix).fetch(c.req.raw, c.env, c.executionCtx);
      }
    }
    // The rest of /__ (any spelling, any host) is the Worker's namespace: Auth0 has no such
    // paths, and a near-miss API call must not carry its credential to Auth0.
    if (isReservedPath(url.pathname)) {
      return problemResponse(
        new ApiProblem(404, "Not found", "Nothing is served at this path (paths under /__ are the router's own)."),
      );
    }
    // An admin credential never leaves the Worker for Auth0, whatever the path says.
    const authorization = c.req.header("authorization");
    if (authorization !== undefined && (await isAdminCredential(authorization, c.env))) {
      const headers = new Headers(c.req.raw.headers);
      headers.delete("authorization");
      c.req.raw = new Request(c.req.raw, { headers });
    }
    await next();
  });

  app.use("*", async function requireConfig(c, next) {
    const result = configFor(c.env);
    const here = new URL(c.req.url);
    const origin = result.ok ? result.config.auth0Origin : result.forward?.auth0Origin;
    if (origin !== undefined && origin.host === here.host) {
      log({
        event: "loop",
        message: `AUTH0_ORIGIN (${origin.host}) is this Worker's own host; refusing to forward to itself`,
        variable: "AUTH0_ORIGIN",
      });
      countAnswer(c.env, c.executionCtx, here.pathname, 508, "loop");
      return errorPage(
        c.req.raw,
        508,
        "Sign-in router misconfigured",
        "The router's Auth0 origin points back at the router itself (AUTH0_ORIGIN). Operators: set it to the Auth0 tenant or custom-domain origin.",
      );
    }
    if (!result.ok) {
      for (const p of result.problems)
        log({ event: "config-error", variable: p.variable, message: `${p.variable} ${p.message}` });
      if (result.forward === undefined) {
        countAnswer(c.env, c.executionCtx, here.pathname, 502, "config-error");
        return errorPage(
          c.req.raw,
          502,
          "Sign-in router misconfigured",
          "The router has no usable Auth0 origin (AUTH0_ORIGIN). Operators: see the logs.",
        );
      }
      // The rest of the configuration is wrong but Auth0 is known: send everything there (fail safe).
      const forwarded = await forwardToAuth0(c.req.raw, result.forward, {
        pathAndQuery: here.pathname + here.search,
        body: c.req.raw.body,
      });
      countAnswer(c.env, c.executionCtx, here.pathname, forwarded.status, "config-error");
      return forwarded;
    }
    c.set("config", result.config);
    await next();
  });

  app.all("*", async (c) => {
    const url = new URL(c.req.url);
    const config = c.get("config");
    // Every spelling that could reach Auth0's callback handler is routed like it (docs/design.md).
    if (isCallbackPath(url.pathname)) {
      return handleCallback(c.req.raw, c.env.ROUTES, config, (entry) =>
        recordOutcome(c.env, c.executionCtx, outcomeOf(entry), statsConfigFor(c.env)),
      );
    }
    const response = await forwardToAuth0(c.req.raw, config, {
      pathAndQuery: url.pathname + url.search,
      body: c.req.raw.body,
    });
    // A login Auth0 starts here is recorded, so its callback can come back to Auth0 (src/affinity).
    const answer = await withAffinityRecorded(c.req.raw, response, config, c.env.ROUTES);
    countAnswer(c.env, c.executionCtx, url.pathname, answer.status, "pass-through");
    return answer;
  });

  app.onError((err, c) => {
    const path = new URL(c.req.url).pathname;
    log({ event: "unexpected", message: err.message.slice(0, 200), path });
    try {
      countAnswer(c.env, c.executionCtx, path, 502, "unexpected");
    } catch {
      // Counting never changes the answer.
    }
    return errorPage(
      c.req.raw,
      502,
      "Sign-in router error",
      "The router could not handle this request. Please start signing in again from your application.",
    );
  });

  return app;
}
