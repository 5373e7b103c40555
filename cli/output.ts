/** Plain-text output for people: aligned tables and before/after summaries. */

/** Columns padded to their widest cell, two spaces apart, no trailing spaces. */
export function table(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return "";
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

/** A list as `a, b, c`, at most five names then `… (+N more)`. */
export function list(items: readonly unknown[]): string {
  const shown = items.slice(0, LIST_SHOWN).map(String).join(", ");
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
    empty ? "-" : keys.map((key) => `${key}=${m.get(key) ?? "(none)"}`).join(", ") || "(no change)";
  return { before: side(a, a.size === 0), after: side(b, b.size === 0) };
}
