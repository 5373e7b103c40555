/**
 * `npm run secrets -- put NAME --env <staging|production>`: puts one secret on every Worker
 * that reads it (scripts/deploy/variables.ts), the router first, with the value read once
 * (hidden, from the terminal, or from stdin when piped) so the Workers cannot get two
 * values. The router first is the safe order for ADMIN_TOKEN: the router strips only the
 * token it knows from what it forwards to Auth0, so it must know a new one before the admin
 * Worker accepts it. `npm run secrets -- list --env …` prints the names on each Worker.
 *
 * A mistake (unknown NAME, missing --env, a value too short) exits non-zero before anything
 * is put.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import readline from "node:readline";
import { CONFIG_FILES, ROOT } from "./deploy/configs";
import { SECRETS, workersOf, type SecretName } from "./deploy/variables";

const require = createRequire(import.meta.url);
const WRANGLER = path.join(path.dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
const USAGE = `usage: npm run secrets -- put <${SECRETS.join("|")}> --env <staging|production>
       npm run secrets -- list --env <staging|production>`;

/** At least this long (src/config: ADMIN_TOKEN, AFFINITY_SECRET). */
const MIN_LENGTH: Partial<Record<SecretName, number>> = { ADMIN_TOKEN: 32, AFFINITY_SECRET: 32 };

export type SecretsCommand =
  | { command: "put"; name: SecretName; env: "staging" | "production" }
  | { command: "list"; env: "staging" | "production" };

export function parseSecretsArgs(argv: readonly string[]): SecretsCommand | { error: string } {
  const [command, ...rest] = argv;
  let env: string | undefined;
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] ?? "";
    if (arg === "--env") env = rest[++i];
    else if (arg.startsWith("--env=")) env = arg.slice("--env=".length);
    else if (arg.startsWith("-")) return { error: `unknown option ${arg}` };
    else positional.push(arg);
  }
  if (env !== "staging" && env !== "production") return { error: "--env staging or --env production is required" };
  if (command === "list" && positional.length === 0) return { command, env };
  if (command !== "put") return { error: `unknown command ${JSON.stringify(command ?? "")}` };
  const [name, extra] = positional;
  if (name === undefined || extra !== undefined) return { error: "put takes one NAME" };
  if (!(SECRETS as readonly string[]).includes(name)) {
    return { error: `${name} is not a secret of either Worker (${SECRETS.join(", ")})` };
  }
  return { command, name: name as SecretName, env };
}

/** The wrangler commands `put` runs, in order (router first): argv after `wrangler`. */
export function putPlan(name: SecretName, env: string): string[][] {
  return workersOf(name).map((worker) => ["secret", "put", name, "--env", env, "-c", CONFIG_FILES[worker]]);
}

/** A reason the value is refused, or null. */
export function valueProblem(name: SecretName, value: string): string | null {
  if (value.trim() === "") return `${name} is empty`;
  const min = MIN_LENGTH[name];
  if (min !== undefined && value.length < min)
    return `${name} must be at least ${min} characters (e.g. openssl rand -base64 32)`;
  return null;
}

async function readValue(name: string): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks)
      .toString("utf8")
      .replace(/\r?\n$/, "");
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true });
  // Hide what is typed: write the prompt once, then nothing per keystroke.
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
  process.stdout.write(`Value for ${name} (not shown): `);
  const value = await new Promise<string>((resolve) => rl.question("", resolve));
  rl.close();
  process.stdout.write("\n");
  return value;
}

function wrangler(args: string[], input?: string): number {
  const result = spawnSync(process.execPath, [WRANGLER, ...args], {
    cwd: ROOT,
    input,
    stdio: [input === undefined ? "inherit" : "pipe", "inherit", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  return result.status ?? 1;
}

export async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseSecretsArgs(argv);
  if ("error" in parsed) {
    console.error(`${parsed.error}\n${USAGE}`);
    return 2;
  }
  if (parsed.command === "list") {
    for (const file of Object.values(CONFIG_FILES)) {
      console.log(`${file}:`);
      if (wrangler(["secret", "list", "--env", parsed.env, "-c", file]) !== 0) return 1;
    }
    return 0;
  }
  const value = await readValue(parsed.name);
  const problem = valueProblem(parsed.name, value);
  if (problem !== null) {
    console.error(`${problem}; nothing was put.`);
    return 2;
  }
  const plan = putPlan(parsed.name, parsed.env);
  for (const [i, args] of plan.entries()) {
    console.log(`${parsed.name} → ${args[args.length - 1]}`);
    if (wrangler(args, value) !== 0) {
      console.error(
        i === 0
          ? `Failed on the first Worker; nothing else was put.`
          : `Failed on ${args[args.length - 1]}: ${plan[0]?.[plan[0].length - 1]} already has the new value. Run this again.`,
      );
      return 1;
    }
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
