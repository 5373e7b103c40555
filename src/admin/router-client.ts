/**
 * The admin Worker's way to the router: its ROUTER service binding (RPC to the router's
 * `Router` entrypoint, src/router-rpc.ts). The router's configuration, the decision of
 * /evaluate, routability and /status are the router's answers, so this Worker needs none
 * of the router's variables or its KV namespace.
 */
import type { Env } from "../env";
import type { RouterApi } from "../router-rpc";
import { ApiProblem } from "./problem";

/** The router wrangler.admin.toml names: deployed first, since a binding to a missing script is refused. */
const ROUTER_SCRIPT = "callback-router";

/** env.ROUTER; without it a 503 problem naming the binding (the admin Worker was deployed without it). */
export function routerOf(env: Pick<Env, "ROUTER">): RouterApi {
  if (env.ROUTER === undefined) {
    throw new ApiProblem(
      503,
      "Router not bound",
      `The admin Worker has no ROUTER service binding to the ${ROUTER_SCRIPT} Worker's "Router" entrypoint ` +
        "(wrangler.admin.toml [[services]]); deploy with npm run deploy.",
    );
  }
  return env.ROUTER;
}

/**
 * The answer to a question for the router, or a 503 problem when the router's
 * configuration is wrong (naming the variables to fix) or the router cannot be reached.
 */
export async function askRouter<T>(ask: () => Promise<T>): Promise<T> {
  try {
    return await ask();
  } catch (err) {
    if (err instanceof ApiProblem) throw err;
    throw new ApiProblem(
      503,
      "Router unreachable",
      `The router did not answer through the ROUTER binding: ${(err instanceof Error ? err.message : String(err)).slice(0, 200)}`,
    );
  }
}
