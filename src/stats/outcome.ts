/**
 * What one callback adds to the traffic counters: its connection, which
 * bucket it falls in, and whether it ended in an error. Pure.
 */
import type { CallbackLog } from "../log";

export type Bucket = "auth0" | "new" | "fallback" | "unidentified";

export const BUCKETS: readonly Bucket[] = ["auth0", "new", "fallback", "unidentified"];

/** Counters are keyed by connection; callbacks nobody could attribute share this key. */
export const UNIDENTIFIED = "(unidentified)";

export interface Outcome {
  connection: string;
  bucket: Bucket;
  /** The Worker answered 502/504 (Auth0 unreachable or too slow), or Auth0 answered 5xx. */
  error: boolean;
}

export function outcomeOf(entry: Pick<CallbackLog, "connection" | "decision" | "reason" | "status">): Outcome {
  const error = entry.status >= 500;
  if (entry.reason === "fallback-bounce") {
    return { connection: entry.connection ?? UNIDENTIFIED, bucket: "fallback", error };
  }
  if (entry.connection === null) return { connection: UNIDENTIFIED, bucket: "unidentified", error };
  return { connection: entry.connection, bucket: entry.decision === "new" ? "new" : "auth0", error };
}

/** The hour an event belongs to, as `2026-11-23T13` (UTC). */
export function hourOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 13);
}
