/**
 * The management API's own settings, parsed apart from the router's so a
 * mistake here never stops callbacks (and a router mistake never hides the API).
 */
import type { EnvVars } from "../env";
import { oncePerEnv } from "./once-per-env";
import { checkUrl, environmentVar, numberVar, textVar, type ConfigProblem, type Environment } from "./read";

export interface AdminConfig {
  environment: Environment;
  /** Where the API lives; starts with "/__" so it can never shadow an Auth0 path. */
  prefix: string;
  /** When set, the API answers only on this host (e.g. an internal admin hostname). */
  hostname: string | undefined;
  token: { value: string; actor: string } | undefined;
  /** `maxAgeSeconds`: a JWT issued (`iat`) longer ago is refused, whatever its `exp`. */
  jwt: { jwksUrl: URL; issuer: string; audience: string; maxAgeSeconds: number } | undefined;
}

export type AdminConfigResult =
  | { ok: true; config: AdminConfig }
  | { ok: false; problems: ConfigProblem[]; prefix: string; hostname: string | undefined };

export const DEFAULT_PREFIX = "/__router/v1";

export function parseAdminConfig(env: EnvVars): AdminConfigResult {
  const problems: ConfigProblem[] = [];
  // The admin Worker's own ENVIRONMENT; target checks are the router's writer's (src/writer/checks.ts).
  const environment = environmentVar(problems, env);

  let prefix = textVar(env, "ADMIN_PREFIX") ?? DEFAULT_PREFIX;
  if (!/^\/__[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_.-]+)*$/.test(prefix)) {
    problems.push({
      variable: "ADMIN_PREFIX",
      message: `must look like /__router/v1 (start with "/__", no trailing slash), got "${prefix}"`,
    });
    prefix = DEFAULT_PREFIX;
  }

  const hostname = textVar(env, "ADMIN_HOSTNAME")?.toLowerCase();

  const tokenValue = textVar(env, "ADMIN_TOKEN");
  if (tokenValue !== undefined && tokenValue.length < 32) {
    problems.push({
      variable: "ADMIN_TOKEN",
      message: "must be at least 32 characters (e.g. `openssl rand -base64 32`)",
    });
  }
  const token =
    tokenValue === undefined || tokenValue.length < 32
      ? undefined
      : { value: tokenValue, actor: `token:${textVar(env, "ADMIN_TOKEN_NAME") ?? "admin"}` };

  let jwt: AdminConfig["jwt"];
  const jwks = textVar(env, "ADMIN_JWKS_URL");
  const issuer = textVar(env, "ADMIN_JWT_ISSUER");
  const audience = textVar(env, "ADMIN_JWT_AUDIENCE");
  // Auth0's default access-token lifetime for an API is 86400 s; its maximum is 30 days.
  const maxAgeSeconds = numberVar(problems, env, "ADMIN_JWT_MAX_AGE_SECONDS", {
    fallback: 86_400,
    min: 60,
    max: 2_592_000,
    whole: true,
  });
  if (jwks !== undefined || issuer !== undefined || audience !== undefined) {
    const missing = (
      [
        ["ADMIN_JWKS_URL", jwks],
        ["ADMIN_JWT_ISSUER", issuer],
        ["ADMIN_JWT_AUDIENCE", audience],
      ] as const
    ).filter(([, v]) => v === undefined);
    for (const [variable] of missing) {
      problems.push({
        variable,
        message: "is required when any of ADMIN_JWKS_URL, ADMIN_JWT_ISSUER, ADMIN_JWT_AUDIENCE is set",
      });
    }
    if (jwks !== undefined) {
      const checked = checkUrl(jwks, environment);
      if (!checked.ok) problems.push({ variable: "ADMIN_JWKS_URL", message: checked.reason });
      else if (issuer !== undefined && audience !== undefined)
        jwt = { jwksUrl: checked.url, issuer, audience, maxAgeSeconds };
    }
  }

  if (problems.length > 0) return { ok: false, problems, prefix, hostname };
  return { ok: true, config: { environment, prefix, hostname, token, jwt } };
}

export const adminConfigFor: (env: EnvVars) => AdminConfigResult = oncePerEnv(parseAdminConfig);

/** Where the management API answers: ADMIN_PREFIX, on ADMIN_HOSTNAME when that is set. */
export interface AdminPlace {
  prefix: string;
  hostname: string | undefined;
}

/**
 * The API's place whether its configuration parsed or not (a bad ADMIN_PREFIX falls back
 * to DEFAULT_PREFIX): the API must stay reachable when the rest of it is wrong, since that
 * is when an operator needs it. No copy: the result's own object.
 */
export function adminPlaceOf(result: AdminConfigResult): AdminPlace {
  return result.ok ? result.config : result;
}

/**
 * Whether `url` is the management API's: its path is `place.prefix` or below it (a path
 * segment boundary, so /__router/v10 is not under /__router/v1), on `place.hostname` when
 * set. Both Workers match with this: the router to hand the request on (src/app.ts), the
 * admin Worker to serve it (src/admin/worker.ts).
 */
export function isAdminUrl(url: URL, place: AdminPlace): boolean {
  const { prefix, hostname } = place;
  const pathname = url.pathname;
  return (
    pathname.startsWith(prefix) &&
    (pathname.length === prefix.length || pathname[prefix.length] === "/") &&
    (hostname === undefined || url.hostname === hostname)
  );
}
