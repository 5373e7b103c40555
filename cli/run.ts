/**
 * `npm run routes -- <command> [options]`: finds the command in the table,
 * checks its arguments strictly (cli/args.ts) before anything is read or sent,
 * runs it, and turns every failure into a short message and an exit code:
 *
 *   0  done
 *   1  the API refused the request or could not be reached, or a file could not be read or written
 *   2  a mistake on the command line: nothing was read or sent
 */
import { nearest, parseCommandArgs, UsageError, type OptionSpec } from "./args";
import { ApiClient, ApiError } from "./client";
import {
  FileError,
  fileError,
  GLOBAL_OPTIONS,
  PartialFailure,
  type CliIo,
  type Command,
  type Context,
} from "./command";
import { COMMANDS } from "./commands/index";
import { inert, inertIo } from "./output";

/** Hosts a plain http:// router URL may name: the token never leaves the machine. */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

const RUN = "npm run routes --";

export async function runCli(argv: readonly string[], rawIo: CliIo): Promise<number> {
  // Nothing printed, from the server or from the command line, acts on the terminal (cli/output.ts).
  const io = inertIo(rawIo);
  const { name, rest } = splitCommand(argv);
  if (name === undefined || name === "help") {
    const topic = name === "help" ? rest.find((a) => !a.startsWith("-")) : undefined;
    const asked = name === "help" || argv.includes("--help") || argv.includes("-h");
    const command = topic === undefined ? undefined : COMMANDS.find((c) => c.name === topic);
    if (topic !== undefined && command === undefined) return usageFailure(io, unknownCommand(topic));
    if (!asked) return usageFailure(io, argv.length === 0 ? "no command given" : "no command given (only options)");
    io.out(command === undefined ? overview() : commandHelp(command));
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) return usageFailure(io, unknownCommand(name));
  const taken = takenByNpm(io.env, command);
  if (taken.length > 0) {
    const flags = taken.map((o) => `--${o}`).join(" ");
    return usageFailure(
      io,
      `npm took ${flags} for itself (options before \`--\` are npm's), so the command would have run without it: ` +
        `nothing was sent. Write: ${RUN} ${name} … ${flags}`,
      command,
    );
  }

  let ctx: Context;
  try {
    const shape = { name, positionals: command.positionals, options: { ...GLOBAL_OPTIONS, ...command.options } };
    // --help wins over everything else on the line, even over mistakes in it.
    if (rest.includes("--help") || rest.includes("-h")) {
      io.out(commandHelp(command));
      return 0;
    }
    const args = parseCommandArgs(shape, rest, optionOwners(name));
    ctx = context(args.positionals, args.values, io);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(io, err.message, command);
    throw err;
  }

  try {
    await command.run(ctx);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(io, err.message, command);
    if (err instanceof FileError || err instanceof PartialFailure) {
      io.err(`error: ${err.message}`);
      return 1;
    }
    if (err instanceof ApiError) {
      io.err(ctx.json ? JSON.stringify(err.body, null, 2) : describeApiError(err, ctx.api.hasToken));
      return 1;
    }
    throw err;
  }
}

function context(positionals: string[], values: Record<string, string | boolean | undefined>, io: CliIo): Context {
  const string = (n: string): string | undefined => (typeof values[n] === "string" ? values[n] : undefined);
  const url = (string("url") ?? io.env["ROUTER_URL"] ?? "http://localhost:8787").replace(/\/+$/, "");
  let origin: URL;
  try {
    origin = new URL(url);
  } catch {
    throw new UsageError(`--url (or ROUTER_URL) must be an http(s) URL such as https://auth.example.com, not "${url}"`);
  }
  if (origin.protocol !== "https:" && origin.protocol !== "http:") {
    throw new UsageError(`--url (or ROUTER_URL) must be an http(s) URL, not "${url}"`);
  }
  if (origin.protocol === "http:" && !LOOPBACK_HOSTS.has(origin.hostname)) {
    throw new UsageError(
      `--url (or ROUTER_URL) ${origin.origin} is plain http: the token would cross the network unencrypted; use https:// (http:// only for localhost, 127.0.0.1 or [::1])`,
    );
  }
  const prefix = (string("prefix") ?? io.env["ROUTER_API_PREFIX"] ?? "/__router/v1").replace(/\/+$/, "");
  const json = values["json"] === true;
  return {
    positionals,
    string,
    flag: (n) => values[n] === true,
    api: new ApiClient(io.fetch, `${url}${prefix}`, io.env["ROUTER_TOKEN"]),
    io,
    json,
    print: (value, human) => io.out(json ? JSON.stringify(value, null, 2) : human()),
    readFile: async (path) => {
      try {
        return await io.readFile(path);
      } catch (err) {
        throw fileError("read", path, err);
      }
    },
    writeFile: async (path, text) => {
      try {
        await io.writeFile(path, text);
      } catch (err) {
        throw fileError("write", path, err);
      }
    },
  };
}

/** The command is the first word that is not an option or a global option's value. */
function splitCommand(argv: readonly string[]): { name: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] ?? "";
    if (word === "--") break;
    if (word.startsWith("-")) {
      const option = GLOBAL_OPTIONS[word.slice(2)];
      if (word.startsWith("--") && !word.includes("=") && option?.type === "string") i++;
      continue;
    }
    return { name: word, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { name: undefined, rest: [...argv] };
}

/** Option name → the commands that have it, for "set has no option --percentage (rollout has it)". */
function optionOwners(except: string): Map<string, string[]> {
  const owners = new Map<string, string[]>();
  for (const c of COMMANDS) {
    if (c.name === except) continue;
    for (const option of Object.keys(c.options)) owners.set(option, [...(owners.get(option) ?? []), c.name]);
  }
  return owners;
}

function unknownCommand(name: string): string {
  const near = nearest(
    name,
    COMMANDS.map((c) => c.name),
  );
  return `unknown command "${name}"${near === undefined ? "" : `: did you mean ${near}?`}`;
}

/**
 * Options of `command` that npm kept for itself. `npm run routes set acme migrated --dry-run`
 * (no `--`) runs the CLI *without* --dry-run: npm treats every option before `--` as its
 * own config and exports it to the script as `npm_config_<name>` (npm's docs, "config":
 * environment variables). Only under `npm run routes` (npm_lifecycle_event), and never for
 * `prefix` (npm always exports its own prefix) or `help` (npm answers that one itself).
 */
export function takenByNpm(env: Readonly<Record<string, string | undefined>>, command: Command): string[] {
  if (env["npm_lifecycle_event"] !== "routes") return [];
  return Object.keys({ ...GLOBAL_OPTIONS, ...command.options }).filter((option) => {
    if (option === "prefix" || option === "help") return false;
    const value = env[`npm_config_${option.replaceAll("-", "_")}`];
    return value !== undefined && value !== "";
  });
}

function usageFailure(io: CliIo, message: string, command?: Command): number {
  const more = command === undefined ? `${RUN} help` : `${RUN} ${command.name} --help`;
  io.err(
    [`error: ${message}`, ...(command === undefined ? [] : [`usage: ${usageLine(command)}`]), `(see ${more})`].join(
      "\n",
    ),
  );
  return 2;
}

function describeApiError(err: ApiError, hasToken: boolean): string {
  const b = err.body;
  const lines = [
    `error: ${err.status === 0 ? "" : `${err.status} `}${inert(String(b["title"] ?? ""))}: ${inert(String(b["detail"] ?? ""))}`,
  ];
  for (const e of (b["errors"] as Array<{ field: string; reason: string }> | undefined) ?? [])
    lines.push(`  ${inert(String(e.field))}: ${inert(String(e.reason))}`);
  if (typeof b["errorCount"] === "number") {
    const listed = ((b["errors"] as unknown[] | undefined) ?? []).length;
    lines.push(`  … and ${b["errorCount"] - listed} more (${b["errorCount"]} in all)`);
  }
  if (err.status === 401 && !hasToken) lines.push("  (set ROUTER_TOKEN to the admin token or a JWT)");
  return lines.join("\n");
}

// ---- help ------------------------------------------------------------------

function optionUsage(name: string, spec: OptionSpec): string {
  return spec.type === "string" ? `--${name} ${spec.value ?? "VALUE"}` : `--${name}`;
}

function usageLine(command: Command): string {
  const args = command.positionals.map((p) => (p.optional === true ? `[<${p.name}>]` : `<${p.name}>`));
  const options = Object.entries(command.options).map(([n, s]) => `[${optionUsage(n, s)}]`);
  return [RUN, command.name, ...args, ...options].join(" ");
}

function optionRows(options: Readonly<Record<string, OptionSpec>>): string[] {
  const rows = Object.entries(options).map(([n, s]) => [
    `${s.short === undefined ? "" : `-${s.short}, `}${optionUsage(n, s)}`,
    s.description,
  ]);
  return align(rows);
}

function align(rows: string[][]): string[] {
  const width = Math.max(0, ...rows.map((r) => (r[0] ?? "").length));
  return rows.map(([a = "", b = ""]) => `  ${a.padEnd(width)}  ${b}`.trimEnd());
}

const ENVIRONMENT = align([
  ["ROUTER_TOKEN", "the bearer token: the router's ADMIN_TOKEN, or a JWT with routes:read / routes:write"],
  ["ROUTER_URL", "the router, e.g. https://auth.example.com (--url wins)"],
  ["ROUTER_API_PREFIX", "the API prefix when ADMIN_PREFIX is not /__router/v1 (--prefix wins)"],
]);

const EXIT_CODES = align([
  ["0", "done"],
  ["1", "the API refused or could not be reached, or a file could not be read or written"],
  ["2", "a mistake on the command line: nothing was read or sent"],
]);

export function overview(): string {
  return [
    `usage: ${RUN} <command> [arguments] [options]`,
    "",
    "commands",
    ...align([
      ...COMMANDS.map((c) => [c.name, c.summary]),
      ["help [command]", "this text, or one command's arguments and options"],
    ]),
    "",
    "options for every command",
    ...optionRows(GLOBAL_OPTIONS),
    "",
    "environment",
    ...ENVIRONMENT,
    "",
    "exit codes",
    ...EXIT_CODES,
  ].join("\n");
}

export function commandHelp(command: Command): string {
  const sections = [`usage: ${usageLine(command)}`, "", command.summary];
  if (command.details !== undefined) sections.push("", ...command.details);
  if (command.positionals.length > 0) {
    sections.push("", "arguments", ...align(command.positionals.map((p) => [`<${p.name}>`, p.description])));
  }
  if (Object.keys(command.options).length > 0) sections.push("", "options", ...optionRows(command.options));
  sections.push("", "options for every command", ...optionRows(GLOBAL_OPTIONS));
  if (command.examples !== undefined) sections.push("", "examples", ...command.examples.map((e) => `  ${e}`));
  sections.push("", "exit codes", ...EXIT_CODES);
  return sections.join("\n");
}
