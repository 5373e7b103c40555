import { createApp } from "./app";
import type { Env } from "./env";
import { runScheduledSync } from "./writer";

export { TrafficCounter } from "./stats/counter-do";
export { RouteTableWriter } from "./writer";

const app = createApp();

export default {
  fetch: app.fetch,
  /** Cron: keep routes in step with the provider (never on the callback path). */
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(runScheduledSync(env));
  },
} satisfies ExportedHandler<Env>;
