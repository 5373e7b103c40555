/** How a sync that could not reach or use WorkOS fails: the writer's Failure, so the API answers it as a problem. */
import type { Failure } from "../writer/durable-object";
import { WorkosError, type ClientSetup } from "./workos-client";

/** `cause`: a ClientSetup that failed, or what a WorkosClient call threw. */
export function failureOf(cause: unknown): Failure {
  if (isSetupProblem(cause)) {
    return {
      ok: false,
      status: 503,
      title: "Provider sync not configured",
      detail: `${cause.variable} ${cause.reason}; nothing was synced.`,
    };
  }
  if (cause instanceof WorkosError) {
    return {
      ok: false,
      status: 502,
      title: "WorkOS unavailable or malformed",
      detail: `${cause.message}. Nothing was applied; the last synced state stays in force.`,
      ...(cause.field === undefined ? {} : { errors: [{ field: cause.field, reason: cause.message }] }),
    };
  }
  // Not WorkOS' fault: a bug here must surface, not pass for an outage.
  throw cause;
}

function isSetupProblem(value: unknown): value is Extract<ClientSetup, { ok: false }> {
  return typeof value === "object" && value !== null && "ok" in value && value.ok === false && "variable" in value;
}
