/**
 * The test runtime's main module: the router's exports (src/index.ts) plus the admin Worker's
 * own Durable Object (the autopilot, src/admin/worker.ts exports it in a deployment), so one
 * workerd runtime holds every object both Workers bind.
 */
export { default, Router, RouteTableWriter, TrafficCounter } from "../../src/index";
export { Autopilot } from "../../src/autopilot/durable-object";
