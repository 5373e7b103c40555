/**
 * Who is calling the management API, and may they? Fails closed: with no
 * credential configured, every request is refused.
 *
 * - `Authorization: Bearer <ADMIN_TOKEN>`: full access, compared in constant time.
 * - `Authorization: Bearer <JWT>`: verified against ADMIN_JWKS_URL (cached by
 *   jose), ADMIN_JWT_ISSUER and ADMIN_JWT_AUDIENCE; `exp` and `iat` required, and
 *   `iat` no older than ADMIN_JWT_MAX_AGE_SECONDS (RFC 7519 §4.1.4, §4.1.6); scopes from `scope`
 *   (space-separated, OAuth 2.0) or `permissions` (Auth0 RBAC). routes:write
 *   implies routes:read.
 */
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import type { EnvVars } from "../env";
import type { AdminConfig } from "../config";
import { ApiProblem } from "./problem";

export type Scope = "routes:read" | "routes:write";

export interface Principal {
  /** Recorded in the audit log: `token:{name}` or `jwt:{sub}`. */
  actor: string;
  scopes: ReadonlySet<Scope>;
}

const REALM = 'Bearer realm="callback-router"';

function unauthorized(detail: string, error?: "invalid_token" | "invalid_request"): ApiProblem {
  const challenge =
    error === undefined ? REALM : `${REALM}, error="${error}", error_description="${detail.replace(/"/g, "'")}"`;
  return new ApiProblem(401, "Unauthorized", detail, [], { "www-authenticate": challenge });
}

/** One JWKS client per URL per isolate: jose caches keys and rate-limits refetches. */
const jwksClients = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function jwksFor(url: URL): ReturnType<typeof createRemoteJWKSet> {
  let client = jwksClients.get(url.href);
  if (client === undefined) {
    client = createRemoteJWKSet(url, { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
    jwksClients.set(url.href, client);
  }
  return client;
}

async function sha256(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
}

/** Equal-length digests compared with the runtime's timing-safe primitive. */
async function sameSecret(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256(given), sha256(expected)]);
  // workerd's extension to SubtleCrypto (not in every lib's typings).
  const subtle = crypto.subtle as SubtleCrypto & { timingSafeEqual(a: ArrayBuffer, b: ArrayBuffer): boolean };
  return subtle.timingSafeEqual(a, b);
}

function scopesOf(payload: JWTPayload): Set<Scope> {
  const granted = new Set<string>();
  if (typeof payload["scope"] === "string") for (const s of payload["scope"].split(" ")) granted.add(s);
  const permissions = payload["permissions"];
  if (Array.isArray(permissions)) for (const p of permissions) if (typeof p === "string") granted.add(p);
  const scopes = new Set<Scope>();
  if (granted.has("routes:write")) scopes.add("routes:write").add("routes:read");
  if (granted.has("routes:read")) scopes.add("routes:read");
  return scopes;
}

export async function authenticate(request: Request, config: AdminConfig): Promise<Principal> {
  if (config.token === undefined && config.jwt === undefined) {
    throw unauthorized(
      "The management API has no credential configured (ADMIN_TOKEN or ADMIN_JWKS_URL); every request is refused.",
    );
  }
  const header = request.headers.get("authorization");
  if (header === null) throw unauthorized("Send Authorization: Bearer <token>.");
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  const credential = match?.[1];
  if (credential === undefined)
    throw unauthorized("The Authorization header must be a Bearer token.", "invalid_request");

  if (config.token !== undefined && (await sameSecret(credential, config.token.value))) {
    return { actor: config.token.actor, scopes: new Set<Scope>(["routes:read", "routes:write"]) };
  }
  if (config.jwt === undefined || credential.split(".").length !== 3) {
    throw unauthorized("The bearer token is not valid.", "invalid_token");
  }
  try {
    const { payload } = await jwtVerify(credential, jwksFor(config.jwt.jwksUrl), {
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      // A token without exp would be good forever; without iat its age cannot be told.
      requiredClaims: ["exp", "iat"],
      maxTokenAge: config.jwt.maxAgeSeconds,
      clockTolerance: 30,
    });
    const sub = typeof payload.sub === "string" && payload.sub !== "" ? payload.sub : "unknown";
    return { actor: `jwt:${sub}`, scopes: scopesOf(payload) };
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) {
      throw unauthorized(
        err.claim === "iat"
          ? `The token's "iat" is more than ${config.jwt.maxAgeSeconds} s ago (ADMIN_JWT_MAX_AGE_SECONDS); get a fresh one.`
          : "The token has expired.",
        "invalid_token",
      );
    }
    if (err instanceof joseErrors.JWTClaimValidationFailed) {
      throw unauthorized(`The token's "${err.claim}" claim is not accepted.`, "invalid_token");
    }
    if (err instanceof joseErrors.JWKSTimeout || !(err instanceof joseErrors.JOSEError)) {
      throw new ApiProblem(
        503,
        "Key set unavailable",
        "The signing keys (ADMIN_JWKS_URL) could not be fetched; try again shortly.",
      );
    }
    throw unauthorized("The token's signature or format is not valid.", "invalid_token");
  }
}

/**
 * Whether `authorization` carries a management API credential: the ADMIN_TOKEN
 * (compared in constant time) or a JWT whose unverified `aud` names
 * ADMIN_JWT_AUDIENCE. Read from the raw variables, so it holds even when the
 * API's configuration is otherwise wrong. Such a header is never sent to Auth0,
 * whatever the path (a mistyped API call can be any path once `..` is resolved).
 */
export async function isAdminCredential(authorization: string, env: EnvVars): Promise<boolean> {
  const credential = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization)?.[1];
  if (credential === undefined) return false;
  const token = env.ADMIN_TOKEN?.trim();
  if (token !== undefined && token !== "" && (await sameSecret(credential, token))) return true;
  const audience = env.ADMIN_JWT_AUDIENCE?.trim();
  if (audience === undefined || audience === "" || credential.split(".").length !== 3) return false;
  try {
    const aud = decodeJwt(credential).aud;
    return aud === audience || (Array.isArray(aud) && aud.includes(audience));
  } catch {
    return false;
  }
}

export function requireScope(principal: Principal, scope: Scope): void {
  if (!principal.scopes.has(scope)) {
    throw new ApiProblem(403, "Forbidden", `This credential lacks the "${scope}" scope.`, [], {
      "www-authenticate": `${REALM}, error="insufficient_scope", scope="${scope}"`,
    });
  }
}
