import { createApp } from "./app";
import type { Env } from "./env";

export { TrafficCounter } from "./stats/counter-do";
export { RouteTableWriter } from "./writer/durable-object";

const app = createApp();

export default {
  fetch: app.fetch,
  /** Cron: keep routes in step with the provider (never on the callback path, so loaded when it runs). */
  scheduled(_controller, env, ctx) {
    ctx.waitUntil(import("./writer/scheduled-sync").then(({ runScheduledSync }) => runScheduledSync(env)));
  },
} satisfies ExportedHandler<Env>;
