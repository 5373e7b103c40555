/**
 * The browser end-to-end suite (`npm run test:e2e`): plain Node, not the workers pool.
 * It starts the Worker in workerd (Miniflare), the stand-in origins and headless
 * Chromium itself, and stops them again (e2e/support/harness.ts).
 */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    environment: "node",
    pool: "forks",
    fileParallelism: false,
    // One browser, one Worker: tests run in order and share them.
    sequence: { concurrent: false },
    // Bundling, workerd, RSA key generation and Chromium start in beforeAll.
    hookTimeout: 60_000,
    testTimeout: 30_000,
    teardownTimeout: 15_000,
    // A flaky login is a bug to fix, not to retry.
    retry: 0,
  },
});
