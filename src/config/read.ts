/**
 * The one set of helpers every part of the configuration reads variables
 * with. Each helper reads one variable and, when it is wrong, records a
 * problem naming it and returns a safe value, so a parser can report every
 * mistake at once instead of stopping at the first.
 */
import * as z from "zod";
import type { EnvVars } from "../env";

export type Environment = "development" | "staging" | "production";

export interface ConfigProblem {
  variable: keyof EnvVars;
  message: string;
}

/** The variable's value, trimmed; undefined when unset or blank. */
export function textVar(env: EnvVars, variable: keyof EnvVars): string | undefined {
  return env[variable]?.trim() || undefined;
}

/**
 * A number from `min` to `max` (`whole`: an integer); unset or blank gives
 * `fallback`, and so does a wrong value, after recording a problem.
 */
export function numberVar(
  problems: ConfigProblem[],
  env: EnvVars,
  variable: keyof EnvVars,
  range: { fallback: number; min: number; max: number; whole: boolean },
): number {
  const raw = env[variable];
  if (raw === undefined || raw.trim() === "") return range.fallback;
  const base = z.coerce.number().min(range.min).max(range.max);
  const parsed = (range.whole ? base.int() : base).safeParse(raw.trim());
  if (!parsed.success) {
    const kind = range.whole ? "a whole number" : "a number";
    problems.push({ variable, message: `must be ${kind} from ${range.min} to ${range.max}, got "${raw}"` });
    return range.fallback;
  }
  return parsed.data;
}

/** ENVIRONMENT: production unless it says otherwise (fail closed: http stays refused). */
export function environmentVar(problems: ConfigProblem[], env: EnvVars): Environment {
  const raw = textVar(env, "ENVIRONMENT") ?? "production";
  if (raw === "development" || raw === "staging" || raw === "production") return raw;
  problems.push({ variable: "ENVIRONMENT", message: `must be development, staging or production, got "${raw}"` });
  return "production";
}

const LOCAL_HOSTNAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);

export function isLocalHostname(hostname: string): boolean {
  return LOCAL_HOSTNAMES.has(hostname);
}

/** https, or http to a loopback host in development; never credentials in the URL. */
export function checkUrl(
  raw: string,
  environment: Environment,
): { ok: true; url: URL } | { ok: false; reason: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "is not an absolute URL" };
  }
  if (url.username !== "" || url.password !== "") return { ok: false, reason: "must not carry credentials" };
  if (url.protocol === "https:") return { ok: true, url };
  if (url.protocol === "http:" && environment === "development" && isLocalHostname(url.hostname)) {
    return { ok: true, url };
  }
  return {
    ok: false,
    reason: environment === "development" ? "must be https (http is allowed only for localhost)" : "must be https",
  };
}

/** hostname[:port], lower-case, no scheme or path: compared exactly, never by suffix. */
const HOST_PATTERN =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$|^\[::1\](?::\d{1,5})?$/;

/** A comma-separated list of exact hosts, lower-cased; an entry that is not a host is a problem and left out. */
export function hostListVar(problems: ConfigProblem[], env: EnvVars, variable: keyof EnvVars): Set<string> {
  const hosts = new Set<string>();
  for (const entry of (env[variable] ?? "").split(",")) {
    const host = entry.trim().toLowerCase();
    if (host === "") continue;
    if (!HOST_PATTERN.test(host)) {
      problems.push({
        variable,
        message: `"${entry.trim()}" is not a host (write hostname or hostname:port, comma-separated, no scheme)`,
      });
      continue;
    }
    hosts.add(host);
  }
  return hosts;
}
