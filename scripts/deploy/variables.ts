/**
 * Which Worker reads each binding, variable and secret of src/env.ts: the one list the
 * deploy checks (scripts/deploy/checks.ts), docs/configuration.md's table and
 * .dev.vars.example are held to (test/config-docs.test.ts). "router" = wrangler.toml only
 * (the admin Worker asks the router over RPC, src/router-rpc.ts), "admin" =
 * wrangler.admin.toml only, "both" = the same value on each.
 */
export type Reader = "router" | "admin" | "both";

/**
 * Every key of src/env.ts' Env. test/config-docs.test.ts holds this to Env both ways at
 * compile time: a key added to Env and not here, or here and gone from Env, fails `npm run typecheck`.
 */
export const READERS = {
  ROUTES: "router",
  ROUTE_WRITER: "both",
  TRAFFIC_COUNTER: "both",
  AUTH0_ORIGIN: "router",
  AUTH0_CNAME_API_KEY: "router",
  AUTH0_TENANT: "router",
  AUTH0_TIMEOUT_MS: "router",
  AUTH0_RETIRED: "router",
  ALLOWED_TARGET_HOSTS: "router",
  ENVIRONMENT: "both",
  ROUTE_CACHE_SECONDS: "router",
  KV_CACHE_TTL_SECONDS: "router",
  BODY_SCAN_LIMIT_BYTES: "router",
  KV_READ_TIMEOUT_MS: "router",
  AFFINITY_SECRET: "router",
  AFFINITY_MAX_AGE_SECONDS: "router",
  STATS_SHARDS: "router",
  STATS_FLUSH_MS: "router",
  STATS_EVIDENCE: "router",
  STATS_FALLBACK_ALERT_SHARE: "admin",
  ADMIN_TOKEN: "both",
  ADMIN_TOKEN_NAME: "admin",
  ADMIN_JWKS_URL: "both",
  ADMIN_JWT_ISSUER: "both",
  ADMIN_JWT_AUDIENCE: "both",
  ADMIN_JWT_MAX_AGE_SECONDS: "admin",
  ADMIN_PREFIX: "both",
  ADMIN_HOSTNAME: "both",
  WORKOS_API_KEY: "admin",
  WORKOS_API_URL: "admin",
  AUTOPILOT_WEBHOOK_URL: "admin",
  ADMIN: "router",
  ROUTER: "admin",
  AUTOPILOT: "admin",
} as const satisfies Record<string, Reader>;

export type EnvName = keyof typeof READERS;

/** The secrets (set with `wrangler secret put`, never in a config file). */
export const SECRETS = [
  "AUTH0_CNAME_API_KEY",
  "ADMIN_TOKEN",
  "AFFINITY_SECRET",
  "WORKOS_API_KEY",
  "AUTOPILOT_WEBHOOK_URL",
] as const;
export type SecretName = (typeof SECRETS)[number];

/** The Workers a secret goes on, router first (the safe order: docs/deploy.md, "Rotating a secret"). */
export function workersOf(name: SecretName): Array<"router" | "admin"> {
  const reader = READERS[name];
  return reader === "both" ? ["router", "admin"] : [reader];
}
