/**
 * The TrafficCounter's stored count columns and how a stored row reads as a CountRow
 * (docs/storage.md). No platform import: the admin Worker unpacks the shards' answers
 * with it without bundling the Durable Object.
 */
import { AUTH0_WHY, emptyAuth0By, type Auth0Why, type CountRow } from "./rows";

/** A stored row (SQLite values by column name). */
export type StoredRow = Record<string, string | number | null | ArrayBuffer>;

const TALLY_COLUMNS = ["auth0", "new", "fallback", "unidentified", "errors", "affinity"] as const;
/** The column of each Auth0 class (affinity is the `affinity` column, older than the classes). */
const WHY_COLUMN: Record<Auth0Why, string> = {
  killSwitch: "auth0_kill_switch",
  shadow: "auth0_shadow",
  affinity: "affinity",
  route: "auth0_route",
  invalid: "auth0_invalid",
  unavailable: "auth0_unavailable",
  other: "auth0_other",
};
/** Columns added after the first release, each ALTERed into older stores (starting at 0). */
export const NEWER_COLUMNS = [
  "affinity",
  ...AUTH0_WHY.filter((w) => w !== "affinity").map((w) => WHY_COLUMN[w]),
  // Auth0 retired: bounces nobody could sign in.
  "unserved",
];
/** Every counted column, in one order for inserts and sums. */
export const COLUMNS = [...TALLY_COLUMNS, ...NEWER_COLUMNS.filter((c) => c !== "affinity")];

/** Sums of one read in COLUMNS' order: `values[i * COLUMNS.length + j]` is `names[i]`'s COLUMNS[j] (names are connections, or keys). */
export interface Sums {
  names: string[];
  values: Float64Array;
  /** The shard held more rows than one read answers. */
  truncated: boolean;
}

/**
 * Per-connection sums as three arrays (TrafficCounter.byConnection): `values[i * columns.length + j]`
 * is `names[i]`'s sum of stored column `columns[j]`. One answer per shard crosses RPC as
 * three arrays instead of one object per connection (80 000 of them for 10 000
 * connections in 8 shards).
 */
export interface PackedSums extends Sums {
  columns: string[];
}

/** A stored row as a CountRow. */
export function countRowOf(r: StoredRow): CountRow {
  const auth0By = emptyAuth0By();
  for (const why of AUTH0_WHY) auth0By[why] = Number(r[WHY_COLUMN[why]] ?? 0);
  const auth0 = Number(r["auth0"] ?? 0);
  // Rows counted before the classes existed: their Auth0 logins are `other`, so the classes add up.
  const classified = AUTH0_WHY.reduce((sum, why) => sum + auth0By[why], 0);
  if (classified < auth0) auth0By.other += auth0 - classified;
  return {
    at: String(r["at"] ?? ""),
    connection: String(r["connection"] ?? ""),
    auth0,
    new: Number(r["new"] ?? 0),
    fallback: Number(r["fallback"] ?? 0),
    unidentified: Number(r["unidentified"] ?? 0),
    errors: Number(r["errors"] ?? 0),
    affinity: Number(r["affinity"] ?? 0),
    auth0By,
    unserved: Number(r["unserved"] ?? 0),
  };
}

/** Sums as CountRows: each name is the row's connection (at "") or its key (connection ""). */
export function rowsOf(sums: Sums, by: "connection" | "at", columns: readonly string[] = COLUMNS): CountRow[] {
  const width = columns.length;
  return sums.names.map((name, i) => {
    const row: StoredRow = by === "at" ? { at: name, connection: "" } : { at: "", connection: name };
    for (let j = 0; j < width; j++) row[columns[j] as string] = sums.values[i * width + j] ?? 0;
    return countRowOf(row);
  });
}

/**
 * Shards' packed sums added per connection, as CountRows (at ""). A shard answering from
 * another release may store other columns: each is read by its name, a missing one is 0.
 */
export function addPacked(parts: PackedSums[]): CountRow[] {
  const width = COLUMNS.length;
  const aligned = parts.map((p): Sums => {
    if (p.columns.length === width && p.columns.every((c, j) => c === COLUMNS[j])) return p;
    const at = COLUMNS.map((c) => p.columns.indexOf(c));
    const values = new Float64Array(p.names.length * width);
    p.names.forEach((_, i) => {
      at.forEach((from, j) => {
        if (from >= 0) values[i * width + j] = p.values[i * p.columns.length + from] ?? 0;
      });
    });
    return { names: p.names, values, truncated: p.truncated };
  });
  return rowsOf(merged(aligned), "connection");
}

/** A CountRow's values in COLUMNS' order (for inserts). */
export function valuesOf(r: CountRow): number[] {
  const byColumn: Record<string, number> = {
    auth0: r.auth0,
    new: r.new,
    fallback: r.fallback,
    unidentified: r.unidentified,
    errors: r.errors,
    affinity: r.affinity,
    unserved: r.unserved ?? 0,
  };
  for (const why of AUTH0_WHY) if (why !== "affinity") byColumn[WHY_COLUMN[why]] = r.auth0By[why];
  return COLUMNS.map((c) => byColumn[c] ?? 0);
}

/** Sums of disjoint key ranges (or name sets) added per connection. */
export function merged(parts: Sums[]): Sums {
  if (parts.length === 1) return parts[0] as Sums;
  if (parts.length === 0) return { names: [], values: new Float64Array(0), truncated: false };
  const width = COLUMNS.length;
  const index = new Map<string, number>();
  const names: string[] = [];
  const values = new Float64Array(parts.reduce((n, p) => n + p.names.length, 0) * width);
  let truncated = false;
  for (const part of parts) {
    truncated ||= part.truncated;
    part.names.forEach((name, i) => {
      let at = index.get(name);
      if (at === undefined) {
        index.set(name, (at = names.length));
        names.push(name);
        values.set(part.values.subarray(i * width, (i + 1) * width), at * width);
        return;
      }
      for (let j = 0; j < width; j++)
        values[at * width + j] = (values[at * width + j] ?? 0) + (part.values[i * width + j] ?? 0);
    });
  }
  return { names, values: values.slice(0, names.length * width), truncated };
}

/** The sums of the `wanted` connections only. */
export function only(sums: Sums, wanted: Set<string>): Sums {
  const width = COLUMNS.length;
  const names: string[] = [];
  const values = new Float64Array(Math.min(sums.names.length, wanted.size) * width);
  sums.names.forEach((name, i) => {
    if (!wanted.has(name)) return;
    values.set(sums.values.subarray(i * width, (i + 1) * width), names.length * width);
    names.push(name);
  });
  return { names, values: values.slice(0, names.length * width), truncated: sums.truncated };
}
