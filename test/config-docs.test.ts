import { describe, expect, it } from "vitest";
import devVars from "../.dev.vars.example?raw";
import readme from "../README.md?raw";
import type { Env } from "../src/env";

/** Which Worker reads a variable: the router (wrangler.toml), the admin (wrangler.admin.toml), or both. */
type Worker = "router" | "admin" | "both";

/**
 * Every key of Env, with the Worker that reads it. The compiler checks this list both ways (`satisfies`):
 * a key added to Env and not here, or listed here and gone from Env, fails
 * `npm run typecheck`; the test below then holds the README to the same list.
 */
const ENV_KEYS = {
  ROUTES: "both",
  ROUTE_WRITER: "both",
  TRAFFIC_COUNTER: "both",
  AUTH0_ORIGIN: "both",
  AUTH0_CNAME_API_KEY: "router",
  AUTH0_TENANT: "both",
  AUTH0_TIMEOUT_MS: "router",
  ALLOWED_TARGET_HOSTS: "both",
  ENVIRONMENT: "both",
  ROUTE_CACHE_SECONDS: "both",
  KV_CACHE_TTL_SECONDS: "both",
  BODY_SCAN_LIMIT_BYTES: "router",
  KV_READ_TIMEOUT_MS: "both",
  AFFINITY_SECRET: "both",
  AFFINITY_MAX_AGE_SECONDS: "both",
  STATS_SHARDS: "both",
  STATS_FLUSH_MS: "router",
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
  ADMIN: "router",
} satisfies Record<keyof Env, Worker>;

/** The names in the first column of the README table under "Bindings, variables and secrets", with their Worker column. */
function documentedRows(markdown: string): Array<{ name: string; worker: string }> {
  const section = markdown.split(/^### /m).find((s) => s.startsWith("2. Bindings, variables and secrets"));
  if (section === undefined) throw new Error('README has no "### 2. Bindings, variables and secrets" section');
  const rows = section.split("\n").filter((line) => /^\|\s*`/.test(line));
  return rows.flatMap((row) => {
    const cells = row.split("|");
    const worker = (cells[3] ?? "").trim();
    return [...(cells[1] ?? "").matchAll(/`([A-Z0-9_]+)`/g)].map((m) => ({ name: m[1] ?? "", worker }));
  });
}

function documentedNames(markdown: string): string[] {
  return documentedRows(markdown).map((r) => r.name);
}

/** `# NAME=` lines of .dev.vars.example, each with the `# Worker: …` line of its block. */
function exampleSecrets(text: string): Array<{ name: string; worker: string | undefined }> {
  return text.split(/\n\s*\n/).flatMap((block) => {
    const worker = /^# Worker: (router|admin|both)\b/m.exec(block)?.[1];
    return [...block.matchAll(/^# ([A-Z0-9_]+)=$/gm)].map((m) => ({ name: m[1] ?? "", worker }));
  });
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

describe("which Worker reads what", () => {
  it("names, for every README row, the Worker src/env.ts says reads it", () => {
    const wrong = documentedRows(readme)
      .filter((r) => r.name in ENV_KEYS && ENV_KEYS[r.name as keyof typeof ENV_KEYS] !== r.worker)
      .map((r) => `${r.name}: README says ${r.worker}, expected ${ENV_KEYS[r.name as keyof typeof ENV_KEYS]}`);
    expect(wrong).toEqual([]);
  });

  it(".dev.vars.example lists every secret of the README, each under the Worker(s) it goes on", () => {
    const secrets = documentedRows(readme)
      .filter((r) =>
        readme.split("\n").some((line) => line.startsWith(`| \`${r.name}\``) && line.includes("**secret**")),
      )
      .map((r) => r.name);
    const examples = exampleSecrets(devVars);
    expect(examples.map((e) => e.name).sort()).toEqual([...secrets].sort());
    const wrong = examples
      .filter((e) => e.worker !== ENV_KEYS[e.name as keyof typeof ENV_KEYS])
      .map(
        (e) => `${e.name}: "Worker: ${e.worker ?? "(none)"}", expected ${ENV_KEYS[e.name as keyof typeof ENV_KEYS]}`,
      );
    expect(wrong).toEqual([]);
  });
});
