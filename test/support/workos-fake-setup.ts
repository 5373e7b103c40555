/**
 * Global setup (Node): starts the fake WorkOS (test/support/workos-fake.ts) on
 * loopback and hands its URL to the workerd tests.
 */
import type { TestProject } from "vitest/node";
import { startWorkosFake } from "./workos-fake";

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the fake WorkOS API, for WORKOS_API_URL. */
    workosFakeUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const fake = await startWorkosFake();
  project.provide("workosFakeUrl", fake.url);
  return () => fake.close();
}
