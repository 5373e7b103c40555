/**
 * Every environment variable the Worker reads is parsed and checked here, once
 * per env object; errors name the variable and say what is wrong with it.
 */
import * as z from "zod";
import type { EnvVars } from "./env";
import { oncePerEnv } from "./memo";

export type Environment = "development" | "staging" | "production";

export interface Config {
  environment: Environment;
  /** Where Auth0 traffic goes: the tenant domain or the custom-domain edge origin. */
  auth0Origin: URL;
  /** Present in custom-domain mode: sent as `cname-api-key`, and the client IP is forwarded. */
  cnameApiKey: string | undefined;
  /** When set, a `urn:auth0:{tenant}:{connection}` audience must name this tenant. */
  auth0Tenant: string | undefined;
  auth0TimeoutMs: number;
  /** Exact `host` (hostname[:port]) values a redirect may go to, lower-case. */
  allowedTargetHosts: ReadonlySet<string>;
  /** How long an isolate trusts a route it read, before reading KV again. */
  routeCacheMs: number;
  /** KV's own edge cache for reads (KV minimum: 30 s). */
  kvCacheTtlSeconds: number;
  /** How much of a callback body is read to identify the connection. */
  bodyScanLimitBytes: number;
  /** A KV read slower than this counts as failed (last table seen, else Auth0). */
  kvReadTimeoutMs: number;
}

export interface ConfigProblem {
  variable: keyof EnvVars;
  message: string;
}

export type ConfigResult =
  | { ok: true; config: Config }
  /** `auth0Origin` is present when it alone parsed, so traffic can still reach Auth0. */
  | {
      ok: false;
      problems: ConfigProblem[];
      auth0Origin: URL | undefined;
      environment: Environment;
      /** The hosts that did parse (see targetConfigFor). */
      allowedTargetHosts: ReadonlySet<string>;
    };

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

function intVar(
  problems: ConfigProblem[],
  variable: keyof EnvVars,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined || raw.trim() === "") return fallback;
  const parsed = z.coerce.number().int().min(min).max(max).safeParse(raw.trim());
  if (!parsed.success) {
    problems.push({ variable, message: `must be a whole number from ${min} to ${max}, got "${raw}"` });
    return fallback;
  }
  return parsed.data;
}

/** hostname[:port], lower-case, no scheme or path: compared exactly, never by suffix. */
const HOST_PATTERN =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$|^\[::1\](?::\d{1,5})?$/;

export function parseConfig(env: EnvVars): ConfigResult {
  const problems: ConfigProblem[] = [];

  const rawEnvironment = env.ENVIRONMENT?.trim() || "production";
  let environment: Environment = "production";
  if (rawEnvironment === "development" || rawEnvironment === "staging" || rawEnvironment === "production") {
    environment = rawEnvironment;
  } else {
    problems.push({
      variable: "ENVIRONMENT",
      message: `must be development, staging or production, got "${rawEnvironment}"`,
    });
  }

  let auth0Origin: URL | undefined;
  const rawOrigin = env.AUTH0_ORIGIN?.trim();
  if (rawOrigin === undefined || rawOrigin === "") {
    problems.push({
      variable: "AUTH0_ORIGIN",
      message: "is not set (the Auth0 tenant domain or custom-domain origin, https)",
    });
  } else {
    const checked = checkUrl(rawOrigin, environment);
    if (!checked.ok) {
      problems.push({ variable: "AUTH0_ORIGIN", message: checked.reason });
    } else if (checked.url.pathname !== "/" || checked.url.search !== "" || checked.url.hash !== "") {
      problems.push({ variable: "AUTH0_ORIGIN", message: "must be an origin only (no path, query or fragment)" });
    } else {
      auth0Origin = checked.url;
    }
  }

  const cnameApiKey = env.AUTH0_CNAME_API_KEY?.trim() || undefined;

  const auth0Tenant = env.AUTH0_TENANT?.trim() || undefined;
  if (auth0Tenant !== undefined && !/^[a-z0-9][a-z0-9-]*$/i.test(auth0Tenant)) {
    problems.push({ variable: "AUTH0_TENANT", message: "must be a tenant name such as example-tenant" });
  }

  const allowedTargetHosts = new Set<string>();
  for (const entry of (env.ALLOWED_TARGET_HOSTS ?? "").split(",")) {
    const host = entry.trim().toLowerCase();
    if (host === "") continue;
    if (!HOST_PATTERN.test(host)) {
      problems.push({
        variable: "ALLOWED_TARGET_HOSTS",
        message: `"${entry.trim()}" is not a host (write hostname or hostname:port, comma-separated, no scheme)`,
      });
      continue;
    }
    allowedTargetHosts.add(host);
  }

  const auth0TimeoutMs = intVar(problems, "AUTH0_TIMEOUT_MS", env.AUTH0_TIMEOUT_MS, 15_000, 100, 120_000);
  const routeCacheMs = 1000 * intVar(problems, "ROUTE_CACHE_SECONDS", env.ROUTE_CACHE_SECONDS, 10, 0, 300);
  const kvCacheTtlSeconds = intVar(problems, "KV_CACHE_TTL_SECONDS", env.KV_CACHE_TTL_SECONDS, 30, 30, 3600);
  const bodyScanLimitBytes = intVar(
    problems,
    "BODY_SCAN_LIMIT_BYTES",
    env.BODY_SCAN_LIMIT_BYTES,
    512 * 1024,
    1024,
    4 * 1024 * 1024,
  );

  const kvReadTimeoutMs = intVar(problems, "KV_READ_TIMEOUT_MS", env.KV_READ_TIMEOUT_MS, 1_000, 50, 10_000);

  if (problems.length > 0 || auth0Origin === undefined) {
    return { ok: false, problems, auth0Origin, environment, allowedTargetHosts };
  }
  return {
    ok: true,
    config: {
      environment,
      auth0Origin,
      cnameApiKey,
      auth0Tenant,
      auth0TimeoutMs,
      allowedTargetHosts,
      routeCacheMs,
      kvCacheTtlSeconds,
      bodyScanLimitBytes,
      kvReadTimeoutMs,
    },
  };
}

export type TargetConfig = Pick<Config, "environment" | "allowedTargetHosts">;

/**
 * What a writer needs to check targets: the environment and the allow-list.
 * It stays usable when only the Auth0 origin is wrong, so operators can still
 * fix the table; a problem with either of its own two variables is returned.
 */
export function targetConfigFor(
  env: EnvVars,
): { ok: true; config: TargetConfig } | { ok: false; problems: ConfigProblem[] } {
  const result = configFor(env);
  if (result.ok) return { ok: true, config: result.config };
  const problems = result.problems.filter((p) => p.variable === "ENVIRONMENT" || p.variable === "ALLOWED_TARGET_HOSTS");
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: { environment: result.environment, allowedTargetHosts: result.allowedTargetHosts } };
}

/** Parsed once per env object (an isolate keeps the same one between requests). */
export const configFor: (env: EnvVars) => ConfigResult = oncePerEnv(parseConfig);
