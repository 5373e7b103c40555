/** Helpers for management API tests: credentials, requests, a clean writer. */
import { env, runInDurableObject } from "cloudflare:test";
import { importJWK, SignJWT } from "jose";
import { inject } from "vitest";
import type { Env } from "../../src/env";
import { isolateCache } from "../../src/table/store";
import { call, clearKv, HOST } from "./worker";

export const PREFIX = "/__router/v1";
export const ADMIN_TOKEN = "test-admin-token-0123456789abcdefghijklmnop";
export const ISSUER = "https://issuer.test/";
export const AUDIENCE = "callback-router-admin";

export function adminEnv(overrides: Partial<Env> = {}): Partial<Env> {
  return {
    ADMIN_TOKEN,
    ADMIN_TOKEN_NAME: "ci",
    ADMIN_JWKS_URL: inject("jwksUrl"),
    ADMIN_JWT_ISSUER: ISSUER,
    ADMIN_JWT_AUDIENCE: AUDIENCE,
    ...overrides,
  };
}

export async function signJwt(
  claims: Record<string, unknown>,
  options: { expiresIn?: string | number; issuer?: string; audience?: string } = {},
): Promise<string> {
  const key = await importJWK(inject("jwtPrivateKey"), "RS256");
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: "test-key-1" })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "5m")
    .sign(key);
}

export interface ApiCall {
  method?: string;
  body?: unknown;
  text?: string;
  contentType?: string;
  token?: string | null;
  headers?: Record<string, string>;
  env?: Partial<Env>;
}

/** Calls the management API through the Worker's real entry point. */
export async function api(path: string, options: ApiCall = {}): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? ADMIN_TOKEN : options.token;
  if (token !== null) headers["authorization"] = `Bearer ${token}`;
  let body: string | undefined;
  if (options.text !== undefined) {
    body = options.text;
    headers["content-type"] = options.contentType ?? "text/plain";
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] = options.contentType ?? "application/json";
  }
  const init: RequestInit = { method: options.method ?? (body === undefined ? "GET" : "POST"), headers };
  if (body !== undefined) init.body = body;
  return call(new Request(`${HOST}${PREFIX}${path}`, init), adminEnv(options.env));
}

export async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/** Empties the writer's tables and the KV replica. */
export async function resetTable(): Promise<void> {
  const stub = env.ROUTE_WRITER.get(env.ROUTE_WRITER.idFromName("route-table"));
  await runInDurableObject(stub, (_instance, state) => {
    for (const table of ["routes", "route_orgs", "matches", "meta", "audit", "audit_subjects", "outbox"]) {
      try {
        state.storage.sql.exec(`DELETE FROM ${table}`);
      } catch {
        // The object has not created its tables yet.
      }
    }
  });
  await clearKv();
  isolateCache.clear();
}
