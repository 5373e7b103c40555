/** Global setup (Node): starts the webhook stand-in (./webhook-stand-in.ts) and hands its URL to the workerd tests. */
import type { TestProject } from "vitest/node";
import { startWebhookStandIn } from "./webhook-stand-in";

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the webhook stand-in: POST /hook/<key>/<ok|500|redirect|slow>. */
    webhookStandInUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const standIn = await startWebhookStandIn();
  project.provide("webhookStandInUrl", standIn.url);
  return () => standIn.close();
}
