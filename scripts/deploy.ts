/**
 * `npm run deploy -- --env <staging|production> [--dry-run]`: both Workers, one command.
 *
 *   1. checks that wrangler.toml and wrangler.admin.toml describe one deployment
 *      (scripts/deploy/checks.ts: shared values equal, each value where its Worker reads it,
 *      the admin's ROUTER binding and Durable Objects naming the router's script, routes on
 *      the same host), then that every secret each Worker needs is on it
 *      (`wrangler secret list`; without a Cloudflare login: "skipped"),
 *   2. runs both wrangler dry runs and the router's bundle budget (scripts/bundle-size.mjs),
 *   3. deploys the router, then the admin Worker (its ROUTER binding and Durable Object
 *      bindings need the router's script to exist), and
 *   4. verifies: the admin's /health, its /status (with ROUTER_TOKEN in the environment,
 *      the CLI's variable), and a forwarded /.well-known/openid-configuration,
 * printing each step. Any failed check stops before anything is deployed, naming the value
 * and both places. `--dry-run` stops after 2., needs no account and deploys nothing.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { checkConfigs, checkSecrets, type CheckResult, type WorkerConfigView } from "./deploy/checks";
import { CONFIG_FILES, readPair, ROOT } from "./deploy/configs";

const require = createRequire(import.meta.url);
const WRANGLER = path.join(path.dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
const ENVIRONMENTS = ["staging", "production"] as const;
type DeployEnv = (typeof ENVIRONMENTS)[number];

const USAGE = "usage: npm run deploy -- --env <staging|production> [--dry-run]";

export interface DeployArgs {
  env: DeployEnv;
  dryRun: boolean;
}

/** The command line, or an error message (printed with the usage; nothing is done). */
export function parseDeployArgs(argv: readonly string[]): DeployArgs | { error: string } {
  let env: string | undefined;
  let dryRun = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--dry-run") dryRun = true;
    else if (arg === "--env") env = argv[++i];
    else if (arg?.startsWith("--env=")) env = arg.slice("--env=".length);
    else return { error: `unknown argument ${JSON.stringify(arg)}` };
  }
  if (env === undefined) return { error: "--env is required" };
  if (!(ENVIRONMENTS as readonly string[]).includes(env))
    return { error: `--env must be staging or production, got "${env}"` };
  return { env: env as DeployEnv, dryRun };
}

function wrangler(args: string[], capture = false): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [WRANGLER, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: capture ? ["ignore", "pipe", "pipe"] : "inherit",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    timeout: 300_000,
  });
  return { status: result.status ?? 1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

function print(result: CheckResult, dryRun: boolean): { failed: boolean } {
  for (const p of result.problems) console.error(`  ✗ ${p.message}`);
  let blocked = false;
  for (const n of result.notes) {
    const stops = n.blocksDeploy && !dryRun;
    blocked ||= stops;
    console.log(`  ${stops ? "✗" : "·"} ${n.message}${n.blocksDeploy && dryRun ? " (a real deploy stops here)" : ""}`);
  }
  return { failed: result.problems.length > 0 || blocked };
}

/** Whether wrangler has an account to use (a login or CLOUDFLARE_API_TOKEN); never prompts. */
function loggedIn(): boolean {
  if ((process.env["CLOUDFLARE_API_TOKEN"] ?? "") !== "") return true;
  const who = wrangler(["whoami", "--json"], true);
  try {
    return (JSON.parse(who.stdout.trim().split("\n").pop() ?? "{}") as { loggedIn?: boolean }).loggedIn === true;
  } catch {
    return false;
  }
}

/** Secret names on one Worker; [] when the Worker does not exist yet; an Error when wrangler failed otherwise. */
function secretNames(env: DeployEnv, file: string): string[] | Error {
  const listed = wrangler(["secret", "list", "--env", env, "-c", file, "--format", "json"], true);
  if (listed.status !== 0) {
    if (/does not exist|not found|10007/i.test(listed.stdout + listed.stderr)) return [];
    return new Error((listed.stderr || listed.stdout).trim().split("\n").slice(-3).join(" "));
  }
  const start = listed.stdout.indexOf("[");
  const parsed = JSON.parse(listed.stdout.slice(start)) as Array<{ name: string }>;
  return parsed.map((s) => s.name);
}

function hostOf(config: WorkerConfigView): string {
  const route = config.routes?.[0];
  const pattern = route === undefined ? "" : typeof route === "string" ? route : route.pattern;
  return pattern.slice(0, pattern.indexOf("/"));
}

async function verify(router: WorkerConfigView, admin: WorkerConfigView): Promise<boolean> {
  const signIn = `https://${hostOf(router)}`;
  const adminOrigin = `https://${hostOf(admin)}`;
  const prefix = typeof admin.vars["ADMIN_PREFIX"] === "string" ? admin.vars["ADMIN_PREFIX"] : "/__router/v1";
  let ok = true;
  const check = async (
    what: string,
    url: string,
    init: RequestInit,
    judge: (r: Response, text: string) => string | null,
  ) => {
    try {
      const response = await fetch(url, { ...init, redirect: "manual", signal: AbortSignal.timeout(15_000) });
      const text = await response.text();
      const wrong = judge(response, text);
      if (wrong === null) console.log(`  ✓ ${what}: ${response.status}`);
      else {
        ok = false;
        console.error(`  ✗ ${what}: ${wrong}`);
      }
    } catch (err) {
      ok = false;
      console.error(`  ✗ ${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  await check("admin /health", `${adminOrigin}${prefix}/health`, {}, (r, t) =>
    r.status === 200 && t.includes('"ok"') ? null : `${r.status} ${t.slice(0, 160)}`,
  );
  const token = process.env["ROUTER_TOKEN"];
  if (token === undefined || token === "") {
    console.log("  · admin /status: skipped (set ROUTER_TOKEN to the admin token to check it)");
  } else {
    await check(
      "admin /status (the router answers over RPC)",
      `${adminOrigin}${prefix}/status`,
      { headers: { authorization: `Bearer ${token}` } },
      (r, t) => (r.status === 200 ? null : `${r.status} ${t.slice(0, 200)}`),
    );
  }
  await check(
    "forwarded /.well-known/openid-configuration",
    `${signIn}/.well-known/openid-configuration`,
    {},
    (r, t) => {
      if (r.status !== 200) return `${r.status}: AUTH0_ORIGIN or AUTH0_CNAME_API_KEY is wrong (${t.slice(0, 120)})`;
      try {
        const issuer = (JSON.parse(t) as { issuer?: string }).issuer;
        if (issuer !== `${signIn}/`)
          console.log(
            `  · issuer is ${issuer}, not ${signIn}/: Auth0 sees its tenant domain (docs/before-you-start.md, "Tenant-domain mode")`,
          );
        return null;
      } catch {
        return `not JSON: ${t.slice(0, 120)}`;
      }
    },
  );
  return ok;
}

export async function main(argv: readonly string[]): Promise<number> {
  const args = parseDeployArgs(argv);
  if ("error" in args) {
    console.error(`${args.error}\n${USAGE}`);
    return 2;
  }
  const { env, dryRun } = args;
  const done: string[] = [];
  console.log(`${dryRun ? "Dry run" : "Deploy"}: both Workers, --env ${env}`);

  console.log(`1. ${CONFIG_FILES.router} and ${CONFIG_FILES.admin} [env.${env}] agree`);
  const { router, admin } = readPair(env);
  if (print(checkConfigs(router, admin, env), dryRun).failed) {
    console.error("Stopped: nothing was deployed.");
    return 1;
  }
  console.log("  ✓ configs agree");

  console.log("2. every secret each Worker needs is on it");
  if (!loggedIn()) {
    console.log("  · skipped: needs a Cloudflare login (npx wrangler login, or CLOUDFLARE_API_TOKEN)");
    if (!dryRun) {
      console.error("Stopped: a deploy needs a Cloudflare login. Nothing was deployed.");
      return 1;
    }
  } else {
    const names = { router: secretNames(env, CONFIG_FILES.router), admin: secretNames(env, CONFIG_FILES.admin) };
    if (names.router instanceof Error || names.admin instanceof Error) {
      const err = names.router instanceof Error ? names.router : (names.admin as Error);
      console.error(`  ✗ wrangler secret list failed: ${err.message}`);
      console.error("Stopped: nothing was deployed.");
      return 1;
    }
    if (print(checkSecrets(router, admin, { router: names.router, admin: names.admin }), dryRun).failed) {
      console.error("Stopped: nothing was deployed.");
      return 1;
    }
    console.log("  ✓ secrets present");
  }

  console.log("3. wrangler dry runs and the router's bundle budget");
  const routerOut = ".wrangler/deploy-dry-run";
  const adminOut = ".wrangler/deploy-dry-run-admin";
  for (const [what, extra] of [
    ["router", ["--outdir", routerOut, "--metafile", `${routerOut}/bundle-meta.json`]],
    ["admin", ["-c", CONFIG_FILES.admin, "--outdir", adminOut]],
  ] as const) {
    if (wrangler(["deploy", "--dry-run", "--env", env, ...extra]).status !== 0) {
      console.error(`  ✗ the ${what}'s dry run failed (above). Stopped: nothing was deployed.`);
      return 1;
    }
  }
  const budget = spawnSync(process.execPath, [path.join(ROOT, "scripts/bundle-size.mjs"), routerOut, adminOut], {
    cwd: ROOT,
    stdio: "inherit",
  });
  if (budget.status !== 0) {
    console.error("Stopped: nothing was deployed.");
    return 1;
  }
  done.push("checked both configs", "dry-ran both Workers");
  if (dryRun) {
    console.log(`Dry run passed: ${done.join(", ")}. Nothing was deployed.`);
    return 0;
  }

  console.log(`4. deploy ${router.name} (router), then ${admin.name} (admin)`);
  if (wrangler(["deploy", "--env", env]).status !== 0) {
    console.error(`  ✗ ${router.name} did not deploy. Nothing else was deployed.`);
    return 1;
  }
  done.push(`deployed ${router.name}`);
  if (wrangler(["deploy", "--env", env, "-c", CONFIG_FILES.admin]).status !== 0) {
    console.error(
      `  ✗ ${admin.name} did not deploy; ${router.name} is deployed (it serves sign-in; its admin prefix answers 503). Fix and run again.`,
    );
    return 1;
  }
  done.push(`deployed ${admin.name}`);

  console.log("5. verify");
  const verified = await verify(router, admin);
  console.log(`${verified ? "Done" : "Deployed, but a check failed"}: ${done.join(", ")}.`);
  return verified ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
