/** The writer's answers in HTTP terms: a Failure as a problem, versions as ETags. */
import type { Result } from "../writer";
import { ApiProblem } from "./problem";

export function unwrap<T>(result: Result<T>): { value: T; kvPending: number } {
  if (!result.ok) throw new ApiProblem(result.status, result.title, result.detail, result.errors ?? []);
  return { value: result.value, kvPending: result.kvPending };
}

/**
 * `If-Match: "3"` (or 3) → 3; `*` → "*" (RFC 9110 §13.1.1: true only when the resource
 * exists, so a write under it never creates one); absent → undefined. If-Match uses the
 * strong comparison (§13.1.1, §8.8.3.2): a weak tag (`W/"3"`) never matches, so it is a 412
 * whatever the route's version. The API only issues strong tags, sent with `no-transform`
 * so that no proxy weakens them (see noStore in ./app.ts).
 */
export function ifMatchVersion(header: string | undefined): number | "*" | undefined {
  if (header === undefined) return undefined;
  if (header.trim() === "*") return "*";
  const m = /^\s*(W\/)?"?(\d{1,15})"?\s*$/.exec(header);
  if (m?.[1] !== undefined) {
    throw new ApiProblem(
      412,
      "Version mismatch",
      `If-Match: ${header.trim().slice(0, 40)} is a weak ETag, and If-Match uses the strong comparison (RFC 9110 §13.1.1): a weak ETag never matches. Send the ETag exactly as the API gave it (e.g. "${m[2]}"); something between you and the API may have weakened it`,
    );
  }
  if (m === null) {
    throw new ApiProblem(
      400,
      "Bad request",
      `If-Match must be the route's ETag, e.g. "3"; got ${header.slice(0, 40)}`,
      [{ field: "If-Match", reason: "not an ETag this API issued" }],
    );
  }
  return Number(m[2]);
}

export function etag(version: number): string {
  return `"${version}"`;
}
