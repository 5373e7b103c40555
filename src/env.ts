/** The Worker's bindings, as wrangler.toml and secrets provide them. */
export interface Env {
  /** The route table (see docs/storage.md). */
  ROUTES: KVNamespace;
  AUTH0_ORIGIN?: string;
  /** Secret: Auth0's custom-domain proxy key (self-managed certificates). */
  AUTH0_CNAME_API_KEY?: string;
  AUTH0_TENANT?: string;
  AUTH0_TIMEOUT_MS?: string;
  ALLOWED_TARGET_HOSTS?: string;
  ENVIRONMENT?: string;
  ROUTE_CACHE_SECONDS?: string;
  KV_CACHE_TTL_SECONDS?: string;
  BODY_SCAN_LIMIT_BYTES?: string;
}
