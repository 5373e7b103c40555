/**
 * The rollout flag: which organizations (or connections) the new provider
 * serves. One function answers both the callback router and the API's
 * "where should this login start?" question, so both ends agree.
 */
import type { Rollout } from "./table/schema";

export type RolloutAnswer =
  | { destination: "new"; reason: "rollout-include" | "rollout-bucket" }
  | { destination: "auth0"; reason: "rollout-exclude" | "rollout-bucket" };

/**
 * FNV-1a (32-bit) over the key's UTF-8 bytes: stable across runtimes and
 * releases, so an organization never flips buckets between requests.
 */
export function fnv1a32(key: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(key)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The key's bucket in [0, 100): an organization is in when bucket < percentage. */
export function rolloutBucket(key: string): number {
  return (fnv1a32(`rollout:${key}`) % 10_000) / 100;
}

/**
 * `subject` is the organization id when the connection belongs to one, else
 * the connection name. Exclude beats include; the lists may name either.
 */
export function evaluateRollout(
  rollout: Rollout,
  subject: { organization?: string | undefined; connection?: string | undefined },
): RolloutAnswer {
  const names = [subject.organization, subject.connection].filter((n): n is string => n !== undefined);
  if (names.some((n) => rollout.exclude.includes(n))) return { destination: "auth0", reason: "rollout-exclude" };
  if (names.some((n) => rollout.include.includes(n))) return { destination: "new", reason: "rollout-include" };
  const key = subject.organization ?? subject.connection;
  if (key !== undefined && rolloutBucket(key) < rollout.percentage) {
    return { destination: "new", reason: "rollout-bucket" };
  }
  return { destination: "auth0", reason: "rollout-bucket" };
}
