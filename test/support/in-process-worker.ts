/**
 * The two Workers wired in one isolate for the workerd tests: the router (src/app.ts,
 * exactly as src/index.ts builds it) with its admin prefix handed in-process to the admin
 * Worker's own fetch (src/admin/worker.ts), instead of through the ADMIN service binding
 * or the admin Worker's route, and the admin's ROUTER binding (RPC to src/router-rpc.ts)
 * answered by routerAnswers in-process. Same code on both sides; only the hops differ.
 * e2e/topology.e2e.ts starts the two built Workers as they are deployed.
 */
import { createApp } from "../../src/app";
import { adminFetch } from "../../src/admin/worker";
import type { Env } from "../../src/env";
import { routerAnswers } from "../../src/router-rpc";

/** The admin's env: the router's ROUTER binding answered in-process by the router's own code. */
const app = createApp((request, env, ctx) => adminFetch(request, { ...env, ROUTER: routerAnswers(env) }, ctx));

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
