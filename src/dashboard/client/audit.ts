/** Audit entries as table rows: time with its zone, actor, action, subject, what changed. */
import { connectionLink, h, time } from "./dom";

export interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  before: unknown;
  after: unknown;
}

/**
 * With `connection` (its own view): an import or sync, which names no single subject, says
 * what it did to that connection, e.g. "added by this import (added: 9; changed: none; …)".
 */
export function auditRows(entries: AuditEntry[], columns: number, connection?: string): HTMLTableRowElement[] {
  if (entries.length === 0) return [h("tr", {}, h("td", { colspan: String(columns) }, "No changes recorded yet."))];
  return entries.map((e) => {
    const change = connection !== undefined && e.subject === null ? describeFor(e, connection) : describe(e);
    const subject =
      e.subject !== null && e.action.startsWith("route.") ? connectionLink(e.subject) : (e.subject ?? "—");
    return h(
      "tr",
      {},
      h("td", { class: "when" }, time(e.at)),
      h("td", {}, e.actor),
      h("td", {}, e.action),
      h("td", {}, subject),
      h("td", { class: "change" }, change),
    );
  });
}

/** What an entry changed: `state: legacy → migrated`, or a summary. */
export function describe(e: AuditEntry): string {
  if (e.before === null) return e.action.startsWith("route.") ? "created" : short(e.after);
  if (e.after === null) return "deleted";
  const changes = diff(e.before, e.after, "");
  return changes.length === 0 ? "no change" : changes.slice(0, 4).join("; ") + (changes.length > 4 ? "; …" : "");
}

/** What an import or sync entry did to one connection (the lists its `after` names it in). */
function describeFor(e: AuditEntry, connection: string): string {
  const after = isRecord(e.after) ? e.after : {};
  const did = Object.entries(after)
    .filter(([, names]) => Array.isArray(names) && names.includes(connection))
    .map(([list]) => list);
  const by = e.action === "import" ? "this import" : `this ${e.action}`;
  return `${did.length === 0 ? "touched" : did.join(", ")} by ${by} (${short(e.after)})`;
}

function diff(before: unknown, after: unknown, path: string): string[] {
  if (!isRecord(before) || !isRecord(after)) return [`${path}: ${short(before)} → ${short(after)}`];
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => k !== "version" && k !== "updatedAt" && JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    .flatMap((k) => diff(before[k], after[k], path === "" ? k : `${path}.${k}`));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function short(value: unknown): string {
  if (value === undefined || value === null) return "—";
  if (Array.isArray(value)) return value.length === 0 ? "none" : value.map(short).join(", ");
  if (!isRecord(value)) return String(value);
  // A summary (import, sync): long lists by their length.
  const text = Object.entries(value)
    .map(([k, v]) => `${k}: ${Array.isArray(v) && v.length > 3 ? v.length : short(v)}`)
    .join("; ");
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}
