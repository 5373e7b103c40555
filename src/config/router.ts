/**
 * The router's configuration: what /login/callback and the pass-through need.
 * Parsed once per env object; every problem names its variable.
 */
import type { EnvVars } from "../env";
import { oncePerEnv } from "./once-per-env";
import {
  checkUrl,
  environmentVar,
  hostListVar,
  numberVar,
  textVar,
  type ConfigProblem,
  type Environment,
} from "./read";

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
  /** Transaction affinity (src/affinity); undefined when AFFINITY_SECRET is not set. */
  affinity: AffinityConfig | undefined;
  /**
   * AUTH0_RETIRED=true: Auth0 is switched off, whatever the settings say or whether they can
   * be read (the settings' `auth0: retired` says the same at run time; docs/retirement.md).
   */
  auth0Retired: boolean;
}

export interface AffinityConfig {
  /** AFFINITY_SECRET: the HMAC key of the cookie's tags (≥ 32 characters). */
  secret: string;
  /** The cookie's Max-Age: how long a login start is remembered. */
  maxAgeSeconds: number;
}

/** Shorter secrets are refused: the tags are only as strong as the key. */
export const MIN_AFFINITY_SECRET_LENGTH = 32;

/** What forwarding to Auth0 needs; known whenever AUTH0_ORIGIN alone parsed. */
export type ForwardConfig = Pick<Config, "auth0Origin" | "cnameApiKey" | "auth0TimeoutMs">;

export type ConfigResult =
  | { ok: true; config: Config }
  | {
      ok: false;
      problems: ConfigProblem[];
      /** Present when AUTH0_ORIGIN alone parsed, so traffic can still reach Auth0 (fail safe). */
      forward: ForwardConfig | undefined;
      environment: Environment;
      /** The hosts that did parse (see targetConfigFor). */
      allowedTargetHosts: ReadonlySet<string>;
      /**
       * AUTH0_RETIRED is anything but unset or "false": nothing may go to Auth0, not even as
       * the fail-safe `forward` (a misspelt "ture" must not send logins to a dead origin).
       */
      auth0Retired: boolean;
    };

/**
 * AUTH0_RETIRED: unset, blank or "false" → false; "true" → true; anything else is a problem,
 * and counts as retired (the safe side once Auth0 may be gone: never forward to it).
 */
function retiredVar(problems: ConfigProblem[], env: EnvVars): boolean {
  const raw = textVar(env, "AUTH0_RETIRED");
  if (raw === undefined || raw === "false") return false;
  if (raw === "true") return true;
  problems.push({ variable: "AUTH0_RETIRED", message: `must be true or false, got "${raw}"` });
  return true;
}

export function parseConfig(env: EnvVars): ConfigResult {
  const problems: ConfigProblem[] = [];
  const environment = environmentVar(problems, env);
  const auth0Retired = retiredVar(problems, env);

  let auth0Origin: URL | undefined;
  const rawOrigin = textVar(env, "AUTH0_ORIGIN");
  if (rawOrigin === undefined) {
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

  const cnameApiKey = textVar(env, "AUTH0_CNAME_API_KEY");

  const auth0Tenant = textVar(env, "AUTH0_TENANT");
  if (auth0Tenant !== undefined && !/^[a-z0-9][a-z0-9-]*$/i.test(auth0Tenant)) {
    problems.push({ variable: "AUTH0_TENANT", message: "must be a tenant name such as example-tenant" });
  }

  const allowedTargetHosts = hostListVar(problems, env, "ALLOWED_TARGET_HOSTS");

  const whole = (variable: keyof EnvVars, fallback: number, min: number, max: number) =>
    numberVar(problems, env, variable, { fallback, min, max, whole: true });
  // Above Auth0 Actions' 20 s per flow: a late but legitimate answer must not be cut off (the SAML response is single-use).
  const auth0TimeoutMs = whole("AUTH0_TIMEOUT_MS", 30_000, 100, 120_000);
  const routeCacheMs = 1000 * whole("ROUTE_CACHE_SECONDS", 10, 0, 300);
  const kvCacheTtlSeconds = whole("KV_CACHE_TTL_SECONDS", 30, 30, 3600);
  const bodyScanLimitBytes = whole("BODY_SCAN_LIMIT_BYTES", 512 * 1024, 1024, 4 * 1024 * 1024);
  const kvReadTimeoutMs = whole("KV_READ_TIMEOUT_MS", 1_000, 50, 10_000);

  // Login transactions live minutes; Auth0's own transaction state is kept for hours at most.
  const affinityMaxAge = whole("AFFINITY_MAX_AGE_SECONDS", 3600, 60, 43_200);
  const affinitySecret = textVar(env, "AFFINITY_SECRET");
  if (affinitySecret !== undefined && affinitySecret.length < MIN_AFFINITY_SECRET_LENGTH) {
    problems.push({
      variable: "AFFINITY_SECRET",
      message: `must be at least ${MIN_AFFINITY_SECRET_LENGTH} characters (e.g. \`openssl rand -base64 32\`)`,
    });
  }
  const affinity = affinitySecret === undefined ? undefined : { secret: affinitySecret, maxAgeSeconds: affinityMaxAge };

  if (problems.length > 0 || auth0Origin === undefined) {
    const forward = auth0Origin === undefined ? undefined : { auth0Origin, cnameApiKey, auth0TimeoutMs };
    return {
      ok: false,
      problems,
      forward: auth0Retired ? undefined : forward,
      environment,
      allowedTargetHosts,
      auth0Retired,
    };
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
      affinity,
      auth0Retired,
    },
  };
}

/** Parsed once per env object (an isolate keeps the same one between requests). */
export const configFor: (env: EnvVars) => ConfigResult = oncePerEnv(parseConfig);

/** The environment, also when other variables are wrong (it is parsed on its own). */
export function environmentOf(env: EnvVars): Environment {
  const result = configFor(env);
  return result.ok ? result.config.environment : result.environment;
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
