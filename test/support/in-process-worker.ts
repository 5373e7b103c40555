/**
 * The two Workers wired in one isolate for the workerd tests: the router (src/app.ts,
 * exactly as src/index.ts builds it) with its admin prefix handed in-process to the admin
 * Worker's own fetch (src/admin/worker.ts), instead of through the ADMIN service binding
 * or the admin Worker's route. Same code on both sides; only the hop between them differs.
 * e2e/topology.e2e.ts starts the two built Workers as they are deployed.
 */
import { createApp } from "../../src/app";
import { adminFetch } from "../../src/admin/worker";
import type { Env } from "../../src/env";

const app = createApp((request, env, ctx) => adminFetch(request, env, ctx));

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
