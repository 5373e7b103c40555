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

export class AuditLog {
  /** The table is created with the others, by TableDb. */
  constructor(private readonly sql: SqlStorage) {}

  add(entry: Omit<AuditEntry, "id" | "before" | "after"> & { before: unknown; after: unknown }): void {
    this.sql.exec(
      "INSERT INTO audit (at, actor, action, subject, before, after) VALUES (?, ?, ?, ?, ?, ?)",
      entry.at,
      entry.actor,
      entry.action,
      entry.subject,
      entry.before === undefined ? null : JSON.stringify(entry.before),
      entry.after === undefined ? null : JSON.stringify(entry.after),
    );
  }

  /** Newest first; `before` is an exclusive id cursor. */
  list(limit: number, before: number | undefined, subject: string | undefined): AuditEntry[] {
    const where: string[] = [];
    const args: SqlStorageValue[] = [];
    if (before !== undefined) {
      where.push("id < ?");
      args.push(before);
    }
    if (subject !== undefined) {
      where.push("subject = ?");
      args.push(subject);
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
