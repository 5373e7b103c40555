/**
 * The router Worker (wrangler.toml, "callback-router"): callbacks, pass-through and the
 * router's counts, in front of every request to the sign-in domain. The management API,
 * dashboard and provider sync are the admin Worker (src/admin/worker.ts,
 * wrangler.admin.toml), which binds the two Durable Objects exported here: they stay in
 * this script, where their storage (route table, audit log, counters) was created, and
 * the `Router` entrypoint, through which the admin Worker asks the router for its
 * configuration and decisions (src/router-rpc.ts).
 */
import { createApp } from "./app";
import type { Env } from "./env";

// The RPC entrypoint the admin Worker's ROUTER binding calls (src/router-rpc.ts).
export { Router } from "./router-rpc";
export { TrafficCounter } from "./stats/counter-do";
export { RouteTableWriter } from "./writer/durable-object";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
