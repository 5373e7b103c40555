/** The writer's answers in HTTP terms: a Failure as a problem, versions as ETags. */
import type { Result } from "../writer";
import { ApiProblem } from "./problem";

export function unwrap<T>(result: Result<T>): { value: T; kvPending: number } {
  if (!result.ok) throw new ApiProblem(result.status, result.title, result.detail, result.errors ?? []);
  return { value: result.value, kvPending: result.kvPending };
}

/**
 * `If-Match: "3"` (or W/"3", or 3) → 3; `*` → "*" (RFC 9110 §13.1.1: true only when
 * the resource exists, so a write under it never creates one); absent → undefined.
 */
export function ifMatchVersion(header: string | undefined): number | "*" | undefined {
  if (header === undefined) return undefined;
  if (header.trim() === "*") return "*";
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
