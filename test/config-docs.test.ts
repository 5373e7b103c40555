import { describe, expect, it } from "vitest";
import readme from "../README.md?raw";
import type { Env } from "../src/env";

/**
 * Every key of Env. The compiler checks this list both ways (`satisfies`):
 * a key added to Env and not here, or listed here and gone from Env, fails
 * `npm run typecheck`; the test below then holds the README to the same list.
 */
const ENV_KEYS = {
  ROUTES: true,
  ROUTE_WRITER: true,
  TRAFFIC_COUNTER: true,
  AUTH0_ORIGIN: true,
  AUTH0_CNAME_API_KEY: true,
  AUTH0_TENANT: true,
  AUTH0_TIMEOUT_MS: true,
  ALLOWED_TARGET_HOSTS: true,
  ENVIRONMENT: true,
  ROUTE_CACHE_SECONDS: true,
  KV_CACHE_TTL_SECONDS: true,
  BODY_SCAN_LIMIT_BYTES: true,
  KV_READ_TIMEOUT_MS: true,
  AFFINITY_SECRET: true,
  AFFINITY_MAX_AGE_SECONDS: true,
  STATS_SHARDS: true,
  STATS_FLUSH_MS: true,
  STATS_FALLBACK_ALERT_SHARE: true,
  ADMIN_TOKEN: true,
  ADMIN_TOKEN_NAME: true,
  ADMIN_JWKS_URL: true,
  ADMIN_JWT_ISSUER: true,
  ADMIN_JWT_AUDIENCE: true,
  ADMIN_JWT_MAX_AGE_SECONDS: true,
  ADMIN_PREFIX: true,
  ADMIN_HOSTNAME: true,
  WORKOS_API_KEY: true,
  WORKOS_API_URL: true,
} satisfies Record<keyof Env, true>;

/** The names in the first column of the README table under "Bindings, variables and secrets". */
function documentedNames(markdown: string): string[] {
  const section = markdown.split(/^### /m).find((s) => s.startsWith("2. Bindings, variables and secrets"));
  if (section === undefined) throw new Error('README has no "### 2. Bindings, variables and secrets" section');
  const rows = section.split("\n").filter((line) => /^\|\s*`/.test(line));
  return rows.flatMap((row) => [...(row.split("|")[1] ?? "").matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1] ?? ""));
}

describe("README configuration table", () => {
  const documented = documentedNames(readme);

  it("lists every binding and variable of Env", () => {
    const missing = Object.keys(ENV_KEYS).filter((name) => !documented.includes(name));
    expect(missing, "Env variables with no README row").toEqual([]);
  });

  it("lists nothing that Env does not have, and nothing twice", () => {
    const extra = documented.filter((name) => !(name in ENV_KEYS));
    expect(extra, "README rows naming no Env variable").toEqual([]);
    expect(new Set(documented).size).toBe(documented.length);
  });
});
