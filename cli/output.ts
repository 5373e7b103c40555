/**
 * Plain-text output for people: aligned tables and before/after summaries, and
 * the one place that keeps what the CLI prints inert. Whatever a field holds
 * (a route's note, an audit entry, an actor, a name, any text from the server),
 * no control character reaches the terminal: ESC (escape and OSC sequences),
 * BEL, DEL, C1 (U+009B is CSI), U+2028/2029 and the bidirectional controls
 * (Unicode TR 9) are shown as `\u001b`-style escapes, tab and line breaks as
 * `\t`, `\r`, `\n`. runCli sends every line through inertIo; the helpers
 * below escape line breaks inside a field too, so a field cannot forge a line.
 */
import type { CliIo } from "./command";

const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const SHORT: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeControl(c: string): string {
  return SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** One field for a line of output: every control character escaped, line breaks too. */
export function inert(text: string): string {
  return text.replace(CONTROL_CHARACTER, escapeControl);
}

/**
 * A whole output text: every control character escaped except the line breaks
 * between lines. JSON text stays valid JSON (its strings hold no raw C0, and
 * `\u007f` is a JSON escape), meaning the same values.
 */
export function inertText(text: string): string {
  return text.replace(CONTROL_CHARACTER, (c) => (c === "\n" ? c : escapeControl(c)));
}

/** `io` with stdout and stderr made inert (inertText); everything else as it is. */
export function inertIo(io: CliIo): CliIo {
  return { ...io, out: (text) => io.out(inertText(text)), err: (text) => io.err(inertText(text)) };
}

/** `key: value` lines, each value inert (objects as JSON). */
export function fieldLines(record: Record<string, unknown>): string[] {
  return Object.entries(record).map(
    ([key, value]) => `${inert(key)}: ${inert(typeof value === "object" ? JSON.stringify(value) : String(value))}`,
  );
}

/** Columns padded to their widest cell, two spaces apart, no trailing spaces; each cell inert. */
export function table(cells: readonly (readonly string[])[]): string {
  if (cells.length === 0) return "";
  const rows = cells.map((r) => r.map(inert));
  const widths = (rows[0] ?? []).map((_, col) => Math.max(...rows.map((r) => (r[col] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((cell, col) => cell.padEnd(widths[col] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

const LIST_SHOWN = 5;

/** The most characters valueText shows of an object or array before its ellipsis. */
export const VALUE_SHOWN = 120;

/**
 * One value for a field: a string, number, boolean or null as itself; an object or an array
 * as compact JSON (`{"id":"w1","connections":["a"]}`), cut to VALUE_SHOWN characters with
 * `…` when longer. Inert (every control character escaped, inside JSON strings too).
 */
export function valueText(value: unknown): string {
  if (typeof value !== "object" || value === null) return inert(String(value));
  const text = JSON.stringify(value);
  // Cut by code points, so a character outside the BMP is never split in two.
  const shown = text.length > VALUE_SHOWN ? `${[...text].slice(0, VALUE_SHOWN - 1).join("")}…` : text;
  return inert(shown);
}

/** A list as `a, b, c` (objects as compact JSON: valueText), at most five items then `… (+N more)`. */
export function list(items: readonly unknown[]): string {
  const shown = items.slice(0, LIST_SHOWN).map(valueText).join(", ");
  return items.length > LIST_SHOWN ? `${shown} … (+${items.length - LIST_SHOWN} more)` : shown;
}

/** Bookkeeping the writer sets on every record: not a change anyone made. */
const BOOKKEEPING = new Set(["version", "updatedAt", "connection"]);

/** `{a: {b: 1}, c: [x]}` → `a.b` → `1`, `c` → `[x]`; leaves only, bookkeeping left out. */
function leaves(value: unknown, prefix = "", into = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(value)) {
    into.set(prefix, `[${list(value)}]`);
  } else if (typeof value === "object" && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      if (prefix === "" && BOOKKEEPING.has(key)) continue;
      leaves(inner, prefix === "" ? key : `${prefix}.${key}`, into);
    }
  } else if (prefix !== "") {
    into.set(prefix, String(value));
  }
  return into;
}

/**
 * What an audit entry changed, as two cells: the fields that differ, each
 * `field=value` before and after (`-` for nothing: a creation, a deletion, or
 * an import's summary that has no before).
 */
export function beforeAfter(before: unknown, after: unknown): { before: string; after: string } {
  const a = before === null || before === undefined ? new Map<string, string>() : leaves(before);
  const b = after === null || after === undefined ? new Map<string, string>() : leaves(after);
  const keys = [...new Set([...a.keys(), ...b.keys()])].filter((key) => a.get(key) !== b.get(key));
  const side = (m: Map<string, string>, empty: boolean) =>
    empty ? "-" : keys.map((key) => `${inert(key)}=${inert(m.get(key) ?? "(none)")}`).join(", ") || "(no change)";
  return { before: side(a, a.size === 0), after: side(b, b.size === 0) };
}
