/**
 * What the router does with a request under ADMIN_PREFIX: the management API is
 * another Worker (src/admin/worker.ts, wrangler.admin.toml), so the router only hands
 * the request on, unchanged, through its ADMIN service binding when it has one (local
 * development and tests: wrangler.toml's top level). A deployed router has none: there
 * the admin Worker's own Cloudflare route (`<host>/__router/*`, more specific than the
 * router's `<host>/*`) takes these requests before the router sees them, so one
 * reaching the router means the admin Worker or its route is missing. It is answered
 * here with a problem naming what to deploy, and never forwarded anywhere else (its
 * credential must not reach Auth0).
 */
import { ApiProblem, problemResponse } from "./admin/problem";
import type { Env } from "./env";
import { log } from "./log";

/** The admin Worker's name as wrangler.admin.toml gives it (per environment: `-staging`, `-production`). */
export const ADMIN_WORKER = "callback-router-admin";

/**
 * `request` (under `prefix`) to the admin Worker through env.ADMIN; without that binding,
 * or when the bound Worker cannot be reached, a 503 application/problem+json.
 */
export async function toAdminWorker(request: Request, env: Env, prefix: string): Promise<Response> {
  if (env.ADMIN !== undefined) {
    try {
      return await env.ADMIN.fetch(request);
    } catch (err) {
      log({
        event: "config-error",
        variable: "ADMIN",
        message: `the ADMIN service binding failed: ${(err instanceof Error ? err.message : String(err)).slice(0, 200)}`,
      });
      return notDeployed(prefix, `The ${ADMIN_WORKER} Worker did not answer through the router's ADMIN binding.`);
    }
  }
  log({
    event: "config-error",
    message: `a request under ${prefix} reached the router: deploy ${ADMIN_WORKER} with its route`,
    path: prefix,
  });
  return notDeployed(prefix, `This path is not served by the router.`);
}

function notDeployed(prefix: string, why: string): Response {
  return problemResponse(
    new ApiProblem(
      503,
      "Management API not deployed",
      `${why} The management API (${prefix}) is the ${ADMIN_WORKER} Worker: deploy it after the router ` +
        "(npm run deploy -- --env <staging|production>, wrangler.admin.toml), with its route <sign-in host>/__router/* " +
        "(or ADMIN_HOSTNAME). See docs/deploy.md.",
    ),
  );
}
