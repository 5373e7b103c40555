/** The audit log: who changed what and when, written in the transaction of the change itself. */
type Row = Record<string, SqlStorageValue>;

/** An audit record; `before`/`after` are JSON text (parsed by the API, kept as text across RPC). */
export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  before: string | null;
  after: string | null;
}

/**
 * The connections an entry about many routes touched (its `subject` is null): an import's
 * `added`, `changed` and `removed`, a provider sync's `updated`, `migrated` and `flagged`
 * (as src/writer/durable-object.ts writes them; `updated`/`flagged` items may be
 * `{ connection }` objects). Indexed in `audit_subjects`, so a connection's audit finds them.
 */
export function connectionsOf(action: string, after: unknown): string[] {
  const lists: Record<string, readonly string[]> = {
    import: ["added", "changed", "removed"],
    "sync.workos": ["updated", "migrated", "flagged"],
  };
  const fields = lists[action];
  if (fields === undefined || typeof after !== "object" || after === null) return [];
  const names = new Set<string>();
  for (const field of fields) {
    const value = (after as Record<string, unknown>)[field];
    if (!Array.isArray(value)) continue;
    for (const item of value as unknown[]) {
      const name = typeof item === "object" && item !== null ? (item as Record<string, unknown>)["connection"] : item;
      if (typeof name === "string") names.add(name);
    }
  }
  return [...names];
}

export class AuditLog {
  /**
   * The tables are created with the others, by TableDb; `indexOld` (true when TableDb has
   * just created `audit_subjects` beside an older audit table) indexes the entries written
   * before it existed, once.
   */
  constructor(
    private readonly sql: SqlStorage,
    indexOld = false,
  ) {
    if (indexOld) this.indexOldEntries();
  }

  add(entry: Omit<AuditEntry, "id" | "before" | "after"> & { before: unknown; after: unknown }): void {
    const row = this.sql
      .exec<Row>(
        "INSERT INTO audit (at, actor, action, subject, before, after) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        entry.at,
        entry.actor,
        entry.action,
        entry.subject,
        entry.before === undefined ? null : JSON.stringify(entry.before),
        entry.after === undefined ? null : JSON.stringify(entry.after),
      )
      .one();
    this.index(Number(row["id"]), connectionsOf(entry.action, entry.after));
  }

  /** Has `actor` recorded an `action` entry for the autopilot step `stepId` (its `after.step`)? */
  hasStep(actor: string, action: string, stepId: string): boolean {
    return (
      this.sql
        .exec<Row>(
          "SELECT 1 FROM audit WHERE actor = ? AND action = ? AND json_extract(after, '$.step') = ? LIMIT 1",
          actor,
          action,
          stepId,
        )
        .toArray().length > 0
    );
  }

  private index(id: number, connections: readonly string[]): void {
    for (const connection of connections) {
      this.sql.exec("INSERT OR IGNORE INTO audit_subjects (subject, audit_id) VALUES (?, ?)", connection, id);
    }
  }

  private indexOldEntries(): void {
    const rows = this.sql
      .exec<Row>("SELECT id, action, after FROM audit WHERE subject IS NULL AND action IN ('import', 'sync.workos')")
      .toArray();
    for (const row of rows) {
      let after: unknown;
      try {
        after = row["after"] === null ? null : JSON.parse(String(row["after"]));
      } catch {
        continue; // not ours to repair; the entry itself still lists
      }
      this.index(Number(row["id"]), connectionsOf(String(row["action"]), after));
    }
  }

  /**
   * Newest first; `before` is an exclusive id cursor. With `subject`: the entries about that
   * connection, including the imports and syncs that created, changed or removed it.
   */
  list(limit: number, before: number | undefined, subject: string | undefined): AuditEntry[] {
    const where: string[] = [];
    const args: SqlStorageValue[] = [];
    if (before !== undefined) {
      where.push("id < ?");
      args.push(before);
    }
    if (subject !== undefined) {
      where.push("(subject = ? OR id IN (SELECT audit_id FROM audit_subjects WHERE subject = ?))");
      args.push(subject, subject);
    }
    const clause = where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`;
    return this.sql
      .exec<Row>(`SELECT * FROM audit ${clause} ORDER BY id DESC LIMIT ?`, ...args, limit)
      .toArray()
      .map((row) => ({
        id: Number(row["id"]),
        at: String(row["at"]),
        actor: String(row["actor"]),
        action: String(row["action"]),
        subject: row["subject"] === null ? null : String(row["subject"]),
        before: row["before"] === null ? null : String(row["before"]),
        after: row["after"] === null ? null : String(row["after"]),
      }));
  }
}
