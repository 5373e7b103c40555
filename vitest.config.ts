import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./src/index.ts",
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
        },
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
