import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { kCurrentWorker } from "miniflare";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      // The router plus the admin Worker's own Durable Object (test/support/main.ts).
      main: "./test/support/main.ts",
      miniflare: {
        compatibilityDate: "2026-04-20",
        kvNamespaces: ["ROUTES"],
        // Read by the writer Durable Object (the Worker's per-test env comes from test/support/worker.ts).
        bindings: {
          ENVIRONMENT: "development",
          ALLOWED_TARGET_HOSTS: "sso.example.com, localhost:9999, sso.nimbus.test",
        },
        durableObjects: {
          ROUTE_WRITER: { className: "RouteTableWriter", useSQLite: true },
          TRAFFIC_COUNTER: { className: "TrafficCounter", useSQLite: true },
          AUTOPILOT: { className: "Autopilot", useSQLite: true },
        },
        // The autopilot object asks the router (its STATS_SHARDS, its propagation grace) over RPC, as deployed.
        serviceBindings: { ROUTER: { name: kCurrentWorker, entrypoint: "Router" } },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    // The Worker logs one JSON line per callback, thousands in a run: vitest keeps each
    // test's console output and prints it only if that test fails (with its error).
    silent: "passed-only",
    // ...except what fuzz and property tests exercised (test/support/exercised.ts).
    reporters: ["default", "./test/support/exercised-reporter.ts"],
    globalSetup: [
      "./test/global-setup.ts",
      "./test/support/workos-fake-setup.ts",
      "./test/support/dialects-setup.ts",
      "./test/support/webhook-stand-in-setup.ts",
    ],
  },
});
