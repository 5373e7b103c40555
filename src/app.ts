/**
 * The HTTP surface: /login/callback (in every spelling Auth0 could take for it)
 * is routed; the rest of /__ is the router's own and answers 404; everything
 * else is Auth0's and passes through untouched. Config is checked before anything else, and a
 * Worker whose Auth0 origin is its own host answers with an error instead of forwarding.
 *
 * Every request to the sign-in domain comes through here, so this is a plain
 * dispatcher (no router framework): the URL is parsed once and the path folded
 * once. The management API is another Worker (src/admin/worker.ts): requests under its
 * prefix go to `toAdmin` (by default the ADMIN service binding, src/admin-forward.ts).
 */
import { toAdminWorker } from "./admin-forward";
import { isAdminCredential } from "./admin/auth";
import { ApiProblem, problemResponse } from "./admin/problem";
import { withAffinityRecorded } from "./affinity/pass-through";
import { forwardRequestToAuth0 } from "./auth0/forward";
import { ClientGone, clientGoneResponse } from "./client-gone";
import { handleCallback } from "./callback/handler";
import {
  adminConfigFor,
  adminPlaceOf,
  configFor,
  environmentOf,
  isAdminUrl,
  statsConfigFor,
  type Config,
} from "./config";
import type { Env } from "./env";
import { log } from "./log";
import { errorPage } from "./pages";
import { classifyPath } from "./request-path";
import { failedCallbackOutcome, outcomeOf, passThroughOutcome, type Outcome } from "./stats/outcome";
import { recordOutcome } from "./stats/recorder";
import { answerRetired } from "./retired/answer";
import { isRetired } from "./table/schema";
import { RouteStore } from "./table/store";

type Context = Pick<ExecutionContext, "waitUntil" | "passThroughOnException">;

export interface App {
  /** A Response when it is ready at once (a cached callback's 307), else a promise of one. */
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response>;
}

/**
 * Counts an answer the callback handler did not count itself, so that /stats' errors
 * are every 5xx the Worker answered or passed on: a callback answered before or outside
 * the handler (bad configuration, an unexpected failure), or another path's 5xx. A client
 * that hung up mid-body is answered nothing and counted nothing (src/client-gone.ts).
 */
function countAnswer(env: Env, ctx: Context, callback: boolean, status: number, reason: string): void {
  const outcome: Outcome | null = callback ? failedCallbackOutcome(status, reason) : passThroughOutcome(status);
  if (outcome !== null) recordOutcome(env, ctx, outcome, statsConfigFor(env));
}

/** Answers a request under the admin prefix (the router's own default: src/admin-forward.ts). */
export type AdminHandler = (request: Request, env: Env, ctx: ExecutionContext, prefix: string) => Promise<Response>;

/**
 * `toAdmin`: where requests under ADMIN_PREFIX go. The deployed router hands them to the
 * admin Worker (toAdminWorker); the workerd tests wire the admin app in-process
 * (test/support/in-process-worker.ts).
 */
export function createApp(
  toAdmin: AdminHandler = (request, env, _ctx, prefix) => toAdminWorker(request, env, prefix),
): App {
  return {
    fetch(request, env, ctx) {
      const url = new URL(request.url);
      try {
        const answer = dispatch(request, url, env, ctx, toAdmin);
        return answer instanceof Promise ? answer.catch((err: unknown) => failed(err, request, url, env, ctx)) : answer;
      } catch (err) {
        return failed(err, request, url, env, ctx);
      }
    },
  };
}

/**
 * The management API first, then the router's own namespace, then the callback or
 * pass-through. Synchronous as far as it can be: a request that needs no I/O to answer
 * (a cached callback's 307) gets its Response without a promise.
 */
function dispatch(
  request: Request,
  url: URL,
  env: Env,
  ctx: ExecutionContext,
  toAdmin: AdminHandler,
): Response | Promise<Response> {
  // The management API is matched first: it must stay reachable when the router's
  // own configuration is wrong (that is when an operator needs it most).
  const admin = adminPlaceOf(adminConfigFor(env));
  // Another Worker's: the router's bundle has no API, OpenAPI document or dashboard.
  if (isAdminUrl(url, admin)) return toAdmin(request, env, ctx, admin.prefix);
  const path = classifyPath(url.pathname);
  // The rest of /__ (any spelling, any host) is the Worker's namespace: Auth0 has no such
  // paths, and a near-miss API call must not carry its credential to Auth0.
  if (path.reserved) {
    return problemResponse(
      new ApiProblem(404, "Not found", "Nothing is served at this path (paths under /__ are the router's own)."),
    );
  }
  const authorization = request.headers.get("authorization");
  if (authorization === null) return routed(request, url, path.callback, env, ctx);
  return withoutAdminCredential(request, authorization, env).then((stripped) =>
    routed(stripped, url, path.callback, env, ctx),
  );
}

/** The answer when handling a request threw: never a 500, and never for a client that left. */
function failed(err: unknown, request: Request, url: URL, env: Env, ctx: Context): Response {
  // Nobody is waiting for this answer: not a router error, nothing counted (src/client-gone.ts).
  if (err instanceof ClientGone) {
    log({ event: "client-gone", message: err.message, path: url.pathname });
    return clientGoneResponse();
  }
  log({
    event: "unexpected",
    message: (err instanceof Error ? err.message : String(err)).slice(0, 200),
    path: url.pathname,
  });
  try {
    countAnswer(env, ctx, classifyPath(url.pathname).callback, 502, "unexpected");
  } catch {
    // Counting never changes the answer.
  }
  return errorPage(
    request,
    502,
    "Sign-in router error",
    "The router could not handle this request. Please start signing in again from your application.",
  );
}

/** An admin credential never leaves the Worker for Auth0, whatever the path says. */
async function withoutAdminCredential(request: Request, authorization: string, env: Env): Promise<Request> {
  if (!(await isAdminCredential(authorization, env))) return request;
  const headers = new Headers(request.headers);
  headers.delete("authorization");
  return new Request(request, { headers });
}

/** Configuration checked, then the callback is routed and anything else passes through. */
function routed(request: Request, url: URL, callback: boolean, env: Env, ctx: Context): Response | Promise<Response> {
  const result = configFor(env);
  const origin = result.ok ? result.config.auth0Origin : result.forward?.auth0Origin;
  if (origin !== undefined && origin.host === url.host) return ownHost(request, origin, callback, env, ctx);
  if (!result.ok) {
    for (const p of result.problems) {
      log({ event: "config-error", variable: p.variable, message: `${p.variable} ${p.message}` });
    }
    if (result.auth0Retired) {
      // Retired (or AUTH0_RETIRED unreadable): there is no Auth0 to fall back to.
      countAnswer(env, ctx, callback, 503, "config-error");
      const page = errorPage(
        request,
        503,
        "Sign-in is temporarily unavailable",
        "The sign-in service cannot complete this request right now. Please try again in a few minutes. Operators: see the logs (config-error).",
      );
      page.headers.set("retry-after", "60");
      return page;
    }
    if (result.forward === undefined) {
      countAnswer(env, ctx, callback, 502, "config-error");
      return errorPage(
        request,
        502,
        "Sign-in router misconfigured",
        "The router has no usable Auth0 origin (AUTH0_ORIGIN). Operators: see the logs.",
      );
    }
    // The rest of the configuration is wrong but Auth0 is known: send everything there (fail safe).
    return forwardRequestToAuth0(request, result.forward, url.pathname + url.search).then((forwarded) => {
      countAnswer(env, ctx, callback, forwarded.status, "config-error");
      return forwarded;
    });
  }
  const config = result.config;
  // Every spelling that could reach Auth0's callback handler is routed like it (docs/design.md).
  if (callback) {
    return handleCallback(
      request,
      env.ROUTES,
      config,
      (entry) => recordOutcome(env, ctx, outcomeOf(entry), statsConfigFor(env)),
      url,
    );
  }
  return passThrough(request, url, config, env, ctx);
}

/**
 * AUTH0_ORIGIN is the host this request came to: never forwarded. In local development
 * (workerd has no zones) a fetch to the Worker's own host comes back into it: a loop, 508.
 * Deployed it is not a loop: Cloudflare sends a Worker's fetch to a host of its own zone to
 * the origin the DNS record names, never back into a Worker (cloudflare/cloudflare-docs#24,
 * docs/before-you-start.md) — but that forward would reach whatever the DNS record points at,
 * with this host's name and none of the Origin Domain Name Auth0 expects: misconfigured, 502.
 */
function ownHost(request: Request, origin: URL, callback: boolean, env: Env, ctx: Context): Response {
  const deployed = environmentOf(env) !== "development";
  const status = deployed ? 502 : 508;
  const reason = deployed ? "self-origin" : "loop";
  log({
    event: reason,
    message: deployed
      ? `AUTH0_ORIGIN (${origin.host}) is this Worker's own host: Cloudflare would send the forward to that host's DNS origin, not to Auth0's origin; refusing`
      : `AUTH0_ORIGIN (${origin.host}) is this Worker's own host; refusing to forward to itself (a loop)`,
    variable: "AUTH0_ORIGIN",
  });
  countAnswer(env, ctx, callback, status, reason);
  return errorPage(
    request,
    status,
    "Sign-in router misconfigured",
    "The router's Auth0 origin is the router's own host (AUTH0_ORIGIN). Operators: set it to the custom domain's Origin Domain Name or the Auth0 tenant domain.",
  );
}

/** Anything but a callback goes to Auth0 as sent; once Auth0 is retired, the router answers it (src/retired). */
async function passThrough(request: Request, url: URL, config: Config, env: Env, ctx: Context): Promise<Response> {
  const store = new RouteStore(env.ROUTES, config);
  const settings = store.cachedSettings() ?? (await store.settings());
  if (config.auth0Retired || store.retiredSeen() || (settings.status === "found" && isRetired(settings.value))) {
    const answer = await answerRetired(request, url, settings, store, env.ROUTES, config);
    countAnswer(env, ctx, false, answer.status, "retired");
    return answer;
  }
  const response = await forwardRequestToAuth0(request, config, url.pathname + url.search);
  // A login Auth0 starts here is recorded, so its callback can come back to Auth0 (src/affinity).
  const answer = await withAffinityRecorded(request, response, config, env.ROUTES);
  countAnswer(env, ctx, false, answer.status, "pass-through");
  return answer;
}
