/**
 * Pass-through: a request that is not a callback (GET /authorize) goes to Auth0
 * untouched. The router against the bare fetch(request) Worker, the floor for
 * forwarding (issue target: >= 0.95x).
 */
import { check } from "../load";
import type { Scenario } from "../scenario";
import { AUTHORIZE_PATH, forwarded, only } from "./common";

export function passThroughScenarios(): Scenario[] {
  const preflight = async (base: URL) =>
    only([await check(new URL(AUTHORIZE_PATH, base), { method: "GET" }, 200, forwarded(0, AUTHORIZE_PATH))]);
  return [
    {
      id: "c-bare",
      label: "(c') GET /authorize, bare Worker",
      worker: "bare",
      expectStatus: 200,
      usesOrigin: true,
      request: { method: "GET", path: AUTHORIZE_PATH },
      preflight,
    },
    {
      id: "c",
      label: "(c)  GET /authorize, router",
      worker: "router",
      expectStatus: 200,
      usesOrigin: true,
      request: { method: "GET", path: AUTHORIZE_PATH },
      preflight,
    },
  ];
}
