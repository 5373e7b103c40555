/**
 * The bindings of both Workers, as wrangler.toml (the router), wrangler.admin.toml (the admin
 * Worker) and secrets provide them. Which Worker reads which is scripts/deploy/variables.ts, and docs/configuration.md's table
 * ("Bindings, variables and secrets"), kept by test/config-docs.test.ts; a key one Worker does
 * not read is simply unset there.
 */
export interface Env {
  /** Router: the route table (see docs/storage.md); the admin Worker asks the router instead. */
  ROUTES: KVNamespace;
  AUTH0_ORIGIN?: string;
  /** Secret: Auth0's custom-domain proxy key (self-managed certificates). */
  AUTH0_CNAME_API_KEY?: string;
  AUTH0_TENANT?: string;
  AUTH0_TIMEOUT_MS?: string;
  /**
   * "true" once Auth0 is switched off: the router forwards nothing to AUTH0_ORIGIN even when it
   * cannot read its settings or its configuration is wrong (docs/retirement.md). Default "false".
   */
  AUTH0_RETIRED?: string;
  ALLOWED_TARGET_HOSTS?: string;
  ENVIRONMENT?: string;
  ROUTE_CACHE_SECONDS?: string;
  KV_CACHE_TTL_SECONDS?: string;
  BODY_SCAN_LIMIT_BYTES?: string;
  KV_READ_TIMEOUT_MS?: string;
  /** Secret (≥ 32 characters): keys the transaction-affinity cookie's HMAC tags; affinity is on when set (src/affinity). */
  AFFINITY_SECRET?: string;
  /** How long a recorded login start is remembered, in seconds (default 3600). */
  AFFINITY_MAX_AGE_SECONDS?: string;
  /** Per-connection, per-hour callback counters, sharded (src/stats). */
  TRAFFIC_COUNTER: DurableObjectNamespace<import("./stats/counter-do").TrafficCounter>;
  STATS_SHARDS?: string;
  STATS_FLUSH_MS?: string;
  /** `off` stops recording each login's evidence (callback shape; src/stats/evidence.ts); default `on`. */
  STATS_EVIDENCE?: string;
  STATS_FALLBACK_ALERT_SHARE?: string;
  /** Serializes every change to the route table (src/writer). */
  ROUTE_WRITER: DurableObjectNamespace<import("./writer/durable-object").RouteTableWriter>;
  /**
   * Admin Worker: runs autopilot plans (src/autopilot/durable-object.ts, one instance named
   * "autopilot"; docs/operations.md, "Autopilot"). Unset on the router.
   */
  AUTOPILOT?: DurableObjectNamespace<import("./autopilot/durable-object").Autopilot>;
  /** Secret: a static bearer token for the management API (≥ 32 characters). */
  ADMIN_TOKEN?: string;
  /** The actor name the audit log records for ADMIN_TOKEN (default "admin"). */
  ADMIN_TOKEN_NAME?: string;
  ADMIN_JWKS_URL?: string;
  ADMIN_JWT_ISSUER?: string;
  ADMIN_JWT_AUDIENCE?: string;
  ADMIN_JWT_MAX_AGE_SECONDS?: string;
  ADMIN_PREFIX?: string;
  ADMIN_HOSTNAME?: string;
  /** Secret: WorkOS API key (sk_…) the provider sync reads connections and flags with (src/sync/workos-client.ts). */
  WORKOS_API_KEY?: string;
  /** WorkOS API base URL (default https://api.workos.com; http only for loopback in development). */
  WORKOS_API_URL?: string;
  /**
   * Secret, optional: an incoming-webhook URL (Slack-compatible `{ text, blocks }` JSON) the
   * autopilot posts promotions, rollbacks and halts to (src/autopilot/notify.ts). Unset: none.
   */
  AUTOPILOT_WEBHOOK_URL?: string;
  /**
   * Router, local development only: a service binding to the admin Worker, which the router
   * hands requests under ADMIN_PREFIX to (src/admin-forward.ts). Deployed, the admin Worker
   * has its own route instead.
   */
  ADMIN?: Fetcher;
  /**
   * Admin Worker: a service binding to the router's `Router` entrypoint (RPC,
   * src/router-rpc.ts), which answers what only the router knows: its configuration,
   * /evaluate's decision, routability, /status.
   */
  ROUTER?: import("./router-rpc").RouterApi;
}

/** The plain-string variables of Env (what config parsing reads). */
export type EnvVars = {
  [K in keyof Env as Env[K] extends string | undefined ? K : never]?: string | undefined;
};
