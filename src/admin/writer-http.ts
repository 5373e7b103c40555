/** The writer's answers in HTTP terms: a Failure as a problem, versions as ETags. */
import type { Result } from "../writer";
import { ApiProblem } from "./problem";

export function unwrap<T>(result: Result<T>): { value: T; kvPending: number } {
  if (!result.ok) throw new ApiProblem(result.status, result.title, result.detail, result.errors ?? []);
  return { value: result.value, kvPending: result.kvPending };
}

/** `If-Match: "3"` (or W/"3", or 3) → 3; absent or `*` → undefined. */
export function ifMatchVersion(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === "*") return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(header);
  if (m === null) {
    throw new ApiProblem(
      400,
      "Bad request",
      `If-Match must be the route's ETag, e.g. "3"; got ${header.slice(0, 40)}`,
      [{ field: "If-Match", reason: "not an ETag this API issued" }],
    );
  }
  return Number(m[1]);
}

export function etag(version: number): string {
  return `"${version}"`;
}
