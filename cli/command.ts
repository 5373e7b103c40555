/** What a command is (its table entry) and what it gets to run with. */
import type { CommandShape, OptionSpec } from "./args";
import type { ApiClient, Fetch } from "./client";

/** The CLI's whole contact with the world; cli/main.ts wires it to Node, tests to captures. */
export interface CliIo {
  fetch: Fetch;
  /** Rejects with a Node-style error (`code: "ENOENT"`, …) when the file cannot be read. */
  readFile: (path: string) => Promise<string>;
  writeFile: (path: string, text: string) => Promise<void>;
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Where relative paths start: the directory `npm run` was called from. */
  cwd: string;
  /** Absolute path of docs/routes.schema.json, for `$schema` in files the CLI writes. */
  schemaFile: string;
}

export interface Context {
  /** The command's arguments, checked against its table entry. */
  positionals: string[];
  /** A string option's value, or undefined when not given. */
  string: (name: string) => string | undefined;
  /** Whether a boolean option was given. */
  flag: (name: string) => boolean;
  api: ApiClient;
  io: CliIo;
  /** `--json`: print the API's JSON instead of text. */
  json: boolean;
  /** Prints `value` as JSON with --json, else `human()`. */
  print: (value: unknown, human: () => string) => void;
  /** Reads a local file; a failure is one FileError line, never a stack trace. */
  readFile: (path: string) => Promise<string>;
  writeFile: (path: string, text: string) => Promise<void>;
}

export interface Command extends CommandShape {
  /** One line, for the command list. */
  summary: string;
  /** Paragraphs for `<command> --help`. */
  details?: readonly string[];
  examples?: readonly string[];
  run: (ctx: Context) => Promise<void>;
}

/** Options every command takes. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  url: { type: "string", value: "URL", description: "the router (default: $ROUTER_URL or http://localhost:8787)" },
  prefix: {
    type: "string",
    value: "PATH",
    description: "the API prefix (default: $ROUTER_API_PREFIX or /__router/v1)",
    check: (v) => (v.startsWith("/") ? undefined : "must start with /"),
  },
  json: { type: "boolean", description: "print the API's JSON instead of text (for scripts)" },
  help: { type: "boolean", short: "h", description: "show this help" },
};

/** The command ran, but part of what it was asked did not succeed (it printed which). Exit code 1, one line. */
export class PartialFailure extends Error {
  override readonly name = "PartialFailure";
}

/** A local file could not be read or written. Exit code 1, one line. */
export class FileError extends Error {
  override readonly name = "FileError";
}

const FILE_REASONS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EISDIR: "it is a directory",
  ENOTDIR: "a part of the path is not a directory",
  EMFILE: "too many open files",
};

/** `cannot read x.csv: no such file` from a Node fs error. */
export function fileError(verb: "read" | "write", path: string, err: unknown): FileError {
  const code = typeof err === "object" && err !== null && "code" in err ? String(err.code) : "";
  const reason =
    FILE_REASONS[code] ?? (err instanceof Error ? (err.message.split("\n")[0] ?? err.message) : String(err));
  return new FileError(`cannot ${verb} ${path}: ${reason}`);
}
