/** Counter settings. Stats never stop a callback: a bad value is logged and the default used. */
import type { EnvVars } from "../env";
import { log } from "../log";
import { oncePerEnv } from "../memo";

export interface StatsConfig {
  /** TrafficCounter shards a batch may go to. */
  shards: number;
  /** How long an isolate gathers counts before sending them. */
  flushMs: number;
  /** A migrated connection whose fallback share (fallback / (new + fallback)) exceeds this is flagged. */
  fallbackAlertShare: number;
}

function numberVar(env: EnvVars, name: keyof EnvVars, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    log({
      event: "config-error",
      variable: name,
      message: `${name} must be a number from ${min} to ${max}, got "${raw}"; using ${fallback}`,
    });
    return fallback;
  }
  return n;
}

export const statsConfigFor = oncePerEnv((env: EnvVars): StatsConfig => ({
  shards: Math.floor(numberVar(env, "STATS_SHARDS", 8, 1, 64)),
  flushMs: numberVar(env, "STATS_FLUSH_MS", 2_000, 0, 10_000),
  fallbackAlertShare: numberVar(env, "STATS_FALLBACK_ALERT_SHARE", 0.05, 0, 1),
}));
