/**
 * Argument parsing for one command, with Node's `util.parseArgs` in strict mode.
 *
 * Everything here runs before any request or file read: an unknown option, an
 * option without its value, a value off its list, a missing or extra argument
 * is a `UsageError` (exit 2), and the message names the nearest valid option or
 * value when there is one (`--dryrun=true` → "did you mean --dry-run?").
 */
import { parseArgs } from "node:util";

type ParseArgsOptionsConfig = NonNullable<Parameters<typeof parseArgs>[0]>["options"] & object;

export interface OptionSpec {
  type: "string" | "boolean";
  /** What the value is, for help and errors: `URL`, `N`, `ORG`. Strings only. */
  value?: string;
  description: string;
  /** The only values accepted. */
  choices?: readonly string[];
  /** Further check of a string value: a reason it is wrong, or undefined. */
  check?: (value: string) => string | undefined;
  short?: string;
}

export interface PositionalSpec {
  name: string;
  description: string;
  optional?: boolean;
  choices?: readonly string[];
}

export interface CommandShape {
  name: string;
  positionals: readonly PositionalSpec[];
  options: Readonly<Record<string, OptionSpec>>;
}

export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
}

/** A mistake in the command line: nothing was read or sent. Exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/**
 * Parses `argv` (the words after the command name) against `shape`.
 * `elsewhere` maps every option name of the other commands to those commands,
 * so an option given to the wrong command is named as such.
 * Throws UsageError; returns the values (strings or `true`) and positionals.
 */
export function parseCommandArgs(
  shape: CommandShape,
  argv: readonly string[],
  elsewhere: ReadonlyMap<string, readonly string[]> = new Map(),
): ParsedArgs {
  const config: ParseArgsOptionsConfig = {};
  for (const [name, spec] of Object.entries(shape.options)) {
    config[name] = spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short };
  }

  // First pass, lenient, for precise messages: which token is wrong and what was meant.
  const { tokens } = parseArgs({
    args: [...argv],
    options: config,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const spec = Object.hasOwn(shape.options, token.name) ? shape.options[token.name] : undefined;
    if (spec === undefined) throw new UsageError(unknownOption(shape, token.rawName, token.name, elsewhere));
    const flag = `--${token.name}`;
    if (seen.has(token.name)) throw new UsageError(`${flag} is given more than once`);
    seen.add(token.name);
    if (spec.type === "boolean") {
      if (token.inlineValue === true) {
        throw new UsageError(`${flag} takes no value: write ${flag} alone, not ${token.rawName}=${token.value ?? ""}`);
      }
      continue;
    }
    const placeholder = spec.value ?? "VALUE";
    if (token.value === undefined) throw new UsageError(`${flag} needs a value: ${flag} ${placeholder}`);
    if (token.inlineValue !== true && token.value.startsWith("-")) {
      throw new UsageError(
        `${flag} needs a value, and "${token.value}" looks like an option (write ${flag}=${token.value} if it really is the value)`,
      );
    }
  }

  // Second pass: the strict parse is the authority; the checks above only explain its refusals better.
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options: config, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const values: ParsedArgs["values"] = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value === "string" || typeof value === "boolean") values[name] = value;
  }

  for (const [name, spec] of Object.entries(shape.options)) {
    const value = values[name];
    if (typeof value !== "string") continue;
    if (spec.choices !== undefined && !spec.choices.includes(value)) {
      throw new UsageError(`--${name} takes ${oneOf(spec.choices)}, not "${value}"${suggest(value, spec.choices)}`);
    }
    const reason = spec.check?.(value);
    if (reason !== undefined) throw new UsageError(`--${name} ${reason}, not "${value}"`);
  }

  const positionals = parsed.positionals;
  const required = shape.positionals.filter((p) => p.optional !== true);
  if (positionals.length < required.length) {
    const missing = required.slice(positionals.length).map((p) => `<${p.name}>`);
    throw new UsageError(`${shape.name} needs ${missing.join(" and ")}`);
  }
  if (positionals.length > shape.positionals.length) {
    const extra = positionals[shape.positionals.length] ?? "";
    const takes =
      shape.positionals.length === 0
        ? "takes no arguments"
        : `takes ${shape.positionals.map((p) => `<${p.name}>`).join(" ")}`;
    throw new UsageError(`${shape.name} ${takes}; "${extra}" is one too many`);
  }
  shape.positionals.forEach((spec, i) => {
    const value = positionals[i];
    if (value === "") throw new UsageError(`<${spec.name}> is empty`);
    if (value === undefined || spec.choices === undefined || spec.choices.includes(value)) return;
    throw new UsageError(`<${spec.name}> is ${oneOf(spec.choices)}, not "${value}"${suggest(value, spec.choices)}`);
  });
  return { positionals, values };
}

function unknownOption(
  shape: CommandShape,
  rawName: string,
  name: string,
  elsewhere: ReadonlyMap<string, readonly string[]>,
): string {
  const near = nearest(name, Object.keys(shape.options));
  if (near !== undefined) return `unknown option ${rawName}: did you mean --${near}?`;
  const owners = elsewhere.get(name);
  if (owners !== undefined && owners.length > 0) {
    return `${shape.name} has no option ${rawName} (${owners.map((c) => `"${c}"`).join(", ")} ${owners.length === 1 ? "has" : "have"} it)`;
  }
  return `unknown option ${rawName} for ${shape.name}`;
}

function oneOf(choices: readonly string[]): string {
  if (choices.length === 1) return choices[0] ?? "";
  return `${choices.slice(0, -1).join(", ")} or ${choices[choices.length - 1] ?? ""}`;
}

function suggest(value: string, candidates: readonly string[]): string {
  const near = nearest(value, candidates);
  return near === undefined ? "" : `: did you mean ${near}?`;
}

/**
 * The candidate closest to `word`, if it is close enough to be a typo:
 * case, `-` and `_` are ignored; then a prefix of at least three letters, or an
 * edit distance (optimal string alignment) of at most a third of the word.
 */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, "");
  const target = norm(word);
  if (target === "") return undefined;
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const c = norm(candidate);
    const distance = c === target ? 0 : target.length >= 3 && c.startsWith(target) ? 1 : editDistance(target, c);
    if (best === undefined || distance < best.distance) best = { candidate, distance };
  }
  if (best === undefined) return undefined;
  return best.distance <= Math.max(1, Math.floor(target.length / 3)) ? best.candidate : undefined;
}

/** Levenshtein distance with adjacent transpositions counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, at(i - 2, j - 2) + 1);
      row[j] = d;
    }
  }
  return at(a.length, b.length);
}
