/** Counter settings. Stats never stop a callback: a bad value is logged and the default used. */
import type { EnvVars } from "../env";
import { log } from "../log";
import { oncePerEnv } from "./once-per-env";
import { numberVar, textVar, type ConfigProblem } from "./read";

export interface StatsConfig {
  /** TrafficCounter shards a batch may go to. */
  shards: number;
  /** How long an isolate gathers counts before sending them. */
  flushMs: number;
  /** A migrated connection whose fallback share (bounced / sent to the new provider) exceeds this is flagged. */
  fallbackAlertShare: number;
  /**
   * How long after a route's state change the table may still send its logins the old way
   * without a flag: ROUTE_CACHE_SECONDS (the isolate cache) + 60 s (KV's propagation), ms.
   */
  propagationGraceMs: number;
  /** Record each login's evidence (STATS_EVIDENCE, `on` unless `off`). */
  evidence: boolean;
}

/** Workers KV: a write can take up to about 60 s to be seen everywhere (docs/storage.md). */
export const KV_PROPAGATION_MS = 60_000;

/** `on` (or unset) → true, `off` → false; anything else is a problem and reads as `on`. */
function onOff(problems: ConfigProblem[], env: EnvVars, variable: keyof EnvVars): boolean {
  const value = textVar(env, variable);
  if (value === undefined || value === "on") return true;
  if (value === "off") return false;
  problems.push({ variable, message: `must be "on" or "off", not ${JSON.stringify(value.slice(0, 40))}` });
  return true;
}

export function parseStatsConfig(env: EnvVars): { config: StatsConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const number = (variable: keyof EnvVars, fallback: number, min: number, max: number) =>
    numberVar(problems, env, variable, { fallback, min, max, whole: false });
  const config = {
    shards: Math.floor(number("STATS_SHARDS", 8, 1, 64)),
    flushMs: number("STATS_FLUSH_MS", 2_000, 0, 10_000),
    fallbackAlertShare: number("STATS_FALLBACK_ALERT_SHARE", 0.05, 0, 1),
    propagationGraceMs: 1000 * Math.floor(number("ROUTE_CACHE_SECONDS", 10, 0, 300)) + KV_PROPAGATION_MS,
    evidence: onOff(problems, env, "STATS_EVIDENCE"),
  };
  return { config, problems };
}

/** Parsed once per env object, so a wrong value is logged once per isolate, not per callback. */
export const statsConfigFor = oncePerEnv(function statsConfig(env: EnvVars): StatsConfig {
  const { config, problems } = parseStatsConfig(env);
  for (const p of problems) {
    log({ event: "config-error", variable: p.variable, message: `${p.variable} ${p.message}; using the default` });
  }
  return config;
});
