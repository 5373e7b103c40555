/**
 * `npm run deploy`'s checks (scripts/deploy/checks.ts) on fixture configs: copies of
 * wrangler.toml and wrangler.admin.toml with one value changed, read by wrangler's own parser
 * (scripts/deploy/configs.ts). Each wrong pair is refused with a problem naming the value and
 * both places; no network, no Cloudflare account. The command lines of `npm run deploy` and
 * `npm run secrets` are checked too: a mistake exits before anything runs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkConfigs, checkSecrets, type WorkerConfigView } from "../scripts/deploy/checks";
import { readPair, ROOT } from "../scripts/deploy/configs";
import { parseDeployArgs } from "../scripts/deploy";
import { parseSecretsArgs, putPlan, valueProblem } from "../scripts/secrets";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The two example configs with `edit` applied to one of them (each `from` must occur). */
function fixture(edit: { file: "wrangler.toml" | "wrangler.admin.toml"; from: string; to: string }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "callback-router-deploy-checks-"));
  dirs.push(dir);
  for (const file of ["wrangler.toml", "wrangler.admin.toml"]) {
    let text = readFileSync(path.join(ROOT, file), "utf8");
    if (file === edit.file) {
      expect(text, `${file} holds ${edit.from}`).toContain(edit.from);
      text = text.replace(edit.from, edit.to);
    }
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}

function problemsOf(dir: string, env = "production") {
  const { router, admin } = readPair(env, dir);
  return checkConfigs(router, admin, env).problems;
}

describe("the example configs", () => {
  it.each([undefined, "staging", "production"])("pass every check (%s)", (env) => {
    const { router, admin } = readPair(env);
    expect(checkConfigs(router, admin, env).problems).toEqual([]);
  });

  it("say which example values a real deploy must replace (the KV id, the host), without failing a dry run", () => {
    const { router, admin } = readPair("production");
    const notes = checkConfigs(router, admin, "production").notes;
    expect(notes.map((n) => [n.value, n.blocksDeploy])).toEqual([
      ["KV namespace ROUTES", true],
      ["route", true],
    ]);
  });
});

describe("a pair that disagrees is refused, naming the value and both places", () => {
  it("a var both Workers read, with another value in one", () => {
    const dir = fixture({
      file: "wrangler.admin.toml",
      from: '[env.production.vars]\nENVIRONMENT = "production"',
      to: '[env.production.vars]\nENVIRONMENT = "production"\nADMIN_PREFIX = "/__router/v2"',
    });
    expect(problemsOf(dir)).toEqual([
      {
        value: "ADMIN_PREFIX",
        message:
          'ADMIN_PREFIX differs: wrangler.toml [env.production.vars] = (not set), wrangler.admin.toml [env.production.vars] = "/__router/v2"',
      },
    ]);
  });

  it("ENVIRONMENT set to another environment in one file", () => {
    const dir = fixture({
      file: "wrangler.admin.toml",
      from: '[env.production.vars]\nENVIRONMENT = "production"',
      to: '[env.production.vars]\nENVIRONMENT = "staging"',
    });
    expect(problemsOf(dir).map((p) => p.message)).toEqual([
      'ENVIRONMENT differs: wrangler.toml [env.production.vars] = "production", wrangler.admin.toml [env.production.vars] = "staging"',
    ]);
  });

  it("a router variable written again in the admin's config", () => {
    const dir = fixture({
      file: "wrangler.admin.toml",
      from: '[env.production.vars]\nENVIRONMENT = "production"',
      to: '[env.production.vars]\nENVIRONMENT = "production"\nAUTH0_ORIGIN = "https://example-cd-abc123.edge.tenants.auth0.com"',
    });
    const [problem, ...rest] = problemsOf(dir);
    expect(rest).toEqual([]);
    expect(problem?.value).toBe("AUTH0_ORIGIN");
    expect(problem?.message).toContain("wrangler.admin.toml [env.production.vars]");
    expect(problem?.message).toContain("wrangler.toml [env.production.vars]");
  });

  it("a KV namespace id that differs", () => {
    const dir = fixture({
      file: "wrangler.admin.toml",
      from: "[env.production.vars]",
      to: '[[env.production.kv_namespaces]]\nbinding = "ROUTES"\nid = "99999999999999999999999999999999"\n\n[env.production.vars]',
    });
    expect(problemsOf(dir)).toEqual([
      {
        value: "KV namespace ROUTES",
        message:
          'the KV namespace id differs: wrangler.toml [env.production.kv_namespaces] = "00000000000000000000000000000002", wrangler.admin.toml [env.production.kv_namespaces] = "99999999999999999999999999999999" (the admin Worker needs no KV binding: remove it)',
      },
    ]);
  });

  it("the admin's route on another host than the router's", () => {
    const dir = fixture({
      file: "wrangler.admin.toml",
      from: 'routes = [{ pattern = "auth.example.com/__router/*", zone_name = "example.com" }]',
      to: 'routes = [{ pattern = "auth.example.org/__router/*", zone_name = "example.com" }]',
    });
    expect(problemsOf(dir).map((p) => [p.value, p.message])).toEqual([
      [
        "route",
        'wrangler.admin.toml [env.production] routes "auth.example.org/__router/*" is on host auth.example.org, but the router (wrangler.toml [env.production] routes) serves auth.example.com',
      ],
      [
        "route",
        "wrangler.admin.toml [env.production] routes has no route on auth.example.com (wrangler.toml [env.production] routes serves it)",
      ],
    ]);
  });

  it("a router route that is not every path of the sign-in host", () => {
    const dir = fixture({
      file: "wrangler.toml",
      from: 'routes = [{ pattern = "auth.example.com/*", zone_name = "example.com" }]',
      to: 'routes = [{ pattern = "auth.example.com/login/*", zone_name = "example.com" }]',
    });
    expect(problemsOf(dir).map((p) => p.message)).toContain(
      'wrangler.toml [env.production] routes "auth.example.com/login/*" must be "auth.example.com/*": every path of the sign-in domain goes through the router',
    );
  });

  it("AUTH0_ORIGIN set to the router's own host", () => {
    const dir = fixture({
      file: "wrangler.toml",
      from: 'AUTH0_ORIGIN = "https://example-cd-abc123.edge.tenants.auth0.com"',
      to: 'AUTH0_ORIGIN = "https://auth.example.com"',
    });
    expect(problemsOf(dir).map((p) => p.value)).toEqual(["AUTH0_ORIGIN"]);
  });

  it("the ROUTER binding naming another environment's router", () => {
    const dir = fixture({
      file: "wrangler.admin.toml",
      from: 'binding = "ROUTER"\nservice = "callback-router-production"',
      to: 'binding = "ROUTER"\nservice = "callback-router-staging"',
    });
    expect(problemsOf(dir)).toEqual([
      {
        value: "ROUTER",
        message:
          'wrangler.admin.toml [env.production.services] ROUTER binds "callback-router-staging" entrypoint "Router"; the router (wrangler.toml) is "callback-router-production", entrypoint "Router"',
      },
    ]);
  });

  it("a Durable Object bound to another script", () => {
    const dir = fixture({
      file: "wrangler.admin.toml",
      from: 'class_name = "TrafficCounter"\nscript_name = "callback-router-production"',
      to: 'class_name = "TrafficCounter"\nscript_name = "callback-router"',
    });
    expect(problemsOf(dir).map((p) => p.value)).toEqual(["Durable Object TRAFFIC_COUNTER"]);
  });

  it("the admin's own Autopilot object: unbound in an environment, or without its migration", () => {
    const unbound = fixture({
      file: "wrangler.admin.toml",
      from: '[[env.production.durable_objects.bindings]]\nname = "AUTOPILOT"\nclass_name = "Autopilot"\n',
      to: "",
    });
    expect(problemsOf(unbound)).toEqual([
      {
        value: "Durable Object AUTOPILOT",
        message:
          "wrangler.admin.toml [env.production.durable_objects.bindings] does not bind AUTOPILOT to Autopilot (the autopilot needs it)",
      },
    ]);
    const unmigrated = fixture({
      file: "wrangler.admin.toml",
      from: 'new_sqlite_classes = ["Autopilot"]',
      to: "new_sqlite_classes = []",
    });
    expect(problemsOf(unmigrated).map((p) => p.message)).toEqual([
      "Autopilot (the admin Worker's own class) has no new_sqlite_classes migration in wrangler.admin.toml",
    ]);
  });
});

describe("secrets: each Worker has what it needs (names as `wrangler secret list` prints them)", () => {
  const { router, admin } = readPair("production");
  const all = {
    router: ["ADMIN_TOKEN", "AFFINITY_SECRET", "AUTH0_CNAME_API_KEY"],
    admin: ["ADMIN_TOKEN", "WORKOS_API_KEY"],
  };

  it("passes when every secret is on its Worker(s)", () => {
    expect(checkSecrets(router, admin, all)).toEqual({ problems: [], notes: [] });
  });

  it("names a shared secret missing on one Worker, and the Worker", () => {
    expect(checkSecrets(router, admin, { ...all, admin: ["WORKOS_API_KEY"] }).problems).toEqual([
      {
        value: "ADMIN_TOKEN",
        message:
          "ADMIN_TOKEN is not set on callback-router-admin-production (wrangler.admin.toml) but is on callback-router-production (wrangler.toml) (the same value goes on both): npm run secrets -- put ADMIN_TOKEN --env …",
      },
    ]);
  });

  it("needs AUTH0_CNAME_API_KEY on the router when AUTH0_ORIGIN is a custom-domain origin, not otherwise", () => {
    const withoutKey = { ...all, router: ["ADMIN_TOKEN", "AFFINITY_SECRET"] };
    expect(checkSecrets(router, admin, withoutKey).problems.map((p) => p.value)).toEqual(["AUTH0_CNAME_API_KEY"]);
    const tenantDomain: WorkerConfigView = {
      ...router,
      vars: { ...router.vars, AUTH0_ORIGIN: "https://example.us.auth0.com" },
    };
    expect(checkSecrets(tenantDomain, admin, withoutKey).problems).toEqual([]);
  });

  it("needs AFFINITY_SECRET on the router; notes one left on the admin Worker, which no longer reads it", () => {
    const result = checkSecrets(router, admin, {
      router: ["ADMIN_TOKEN", "AUTH0_CNAME_API_KEY"],
      admin: ["ADMIN_TOKEN", "WORKOS_API_KEY", "AFFINITY_SECRET"],
    });
    expect(result.problems.map((p) => p.value)).toEqual(["AFFINITY_SECRET"]);
    expect(result.notes.map((n) => [n.value, n.blocksDeploy])).toEqual([["AFFINITY_SECRET", false]]);
  });
});

describe("the command lines", () => {
  it("npm run deploy: --env staging|production, --dry-run; anything else is refused before any step", () => {
    expect(parseDeployArgs(["--env", "production", "--dry-run"])).toEqual({ env: "production", dryRun: true });
    expect(parseDeployArgs(["--env=staging"])).toEqual({ env: "staging", dryRun: false });
    expect(parseDeployArgs([])).toEqual({ error: "--env is required" });
    expect(parseDeployArgs(["--env", "prod"])).toEqual({ error: '--env must be staging or production, got "prod"' });
    expect(parseDeployArgs(["--env", "production", "--force"])).toEqual({ error: 'unknown argument "--force"' });
  });

  it("npm run secrets -- put: a shared secret goes on the router first, then the admin Worker", () => {
    expect(parseSecretsArgs(["put", "ADMIN_TOKEN", "--env", "production"])).toEqual({
      command: "put",
      name: "ADMIN_TOKEN",
      env: "production",
    });
    expect(putPlan("ADMIN_TOKEN", "production")).toEqual([
      ["secret", "put", "ADMIN_TOKEN", "--env", "production", "-c", "wrangler.toml"],
      ["secret", "put", "ADMIN_TOKEN", "--env", "production", "-c", "wrangler.admin.toml"],
    ]);
    expect(putPlan("AFFINITY_SECRET", "staging").map((a) => a.at(-1))).toEqual(["wrangler.toml"]);
    expect(putPlan("WORKOS_API_KEY", "staging").map((a) => a.at(-1))).toEqual(["wrangler.admin.toml"]);
  });

  it("npm run secrets: an unknown name, a missing --env or a short token is refused before anything is put", () => {
    expect(parseSecretsArgs(["put", "ADMIN_TOKN", "--env", "production"])).toMatchObject({
      error: expect.stringContaining("ADMIN_TOKN is not a secret"),
    });
    expect(parseSecretsArgs(["put", "ADMIN_TOKEN"])).toMatchObject({ error: expect.stringContaining("--env") });
    expect(valueProblem("ADMIN_TOKEN", "short")).toContain("at least 32");
    expect(valueProblem("AUTH0_CNAME_API_KEY", "k")).toBeNull();
  });
});
