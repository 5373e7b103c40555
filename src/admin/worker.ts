/**
 * The admin Worker (wrangler.admin.toml, "callback-router-admin"): the management API
 * under ADMIN_PREFIX, its OpenAPI document, the dashboard, and the provider sync cron.
 * It is its own Worker so that the router (src/index.ts), which every sign-in request
 * goes through, neither uploads nor evaluates any of it (docs/design.md, "Topology").
 *
 * It reaches the router's state through bindings to the router's own objects: the KV
 * namespace ROUTES (same id), and the Durable Objects RouteTableWriter and
 * TrafficCounter with `script_name` = the router's script, so there is one writer,
 * one audit log and one set of counters. Requests come to it on its own Cloudflare
 * route (`<sign-in host>/__router/*`, or ADMIN_HOSTNAME) in a deployment, and through
 * the router's ADMIN service binding in local development (src/admin-forward.ts).
 */
import { adminConfigFor, adminPlaceOf, isAdminUrl } from "../config/admin";
import type { Env } from "../env";
import { runScheduledSync } from "../writer/scheduled-sync";
import { adminAppFor } from "./app";
import { ApiProblem, problemResponse } from "./problem";

// The autopilot runs here, beside the API that steers it, not in the router (wrangler.admin.toml).
export { Autopilot } from "../autopilot/durable-object";

/**
 * Answers one request to the admin Worker: under ADMIN_PREFIX (on ADMIN_HOSTNAME when
 * set) the management API; anything else 404 as problem+json (a route wider than the
 * prefix, e.g. `/__router/*` with ADMIN_PREFIX `/__router/v1`, lands here too).
 */
export async function adminFetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const place = adminPlaceOf(adminConfigFor(env));
  const { prefix, hostname } = place;
  if (isAdminUrl(new URL(request.url), place)) return await adminAppFor(prefix).fetch(request, env, ctx);
  return problemResponse(
    new ApiProblem(
      404,
      "Not found",
      `Nothing is served at this path: the management API is under ${prefix}` +
        (hostname === undefined ? "." : ` on ${hostname}.`),
    ),
  );
}

export default {
  fetch: adminFetch,
  /** Cron: keep routes in step with the provider (wrangler.admin.toml [triggers]). */
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(runScheduledSync(env));
  },
} satisfies ExportedHandler<Env>;
