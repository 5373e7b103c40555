/**
 * The autopilot's storage (its Durable Object's SQLite): one JSON record per plan (the
 * newest is the one shown and run) and each plan's events. Synchronous, like every SQLite call
 * in a Durable Object: a record is written whole, so a restart reads the plan exactly as it
 * was after its last completed step.
 */
import type { AutopilotEvent } from "./events";
import type { PlanRecord } from "./state";

type Row = Record<string, SqlStorageValue>;

/** Events kept per plan (the timeline GET shows). */
export const TIMELINE_MAX = 500;

export class AutopilotStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(`CREATE TABLE IF NOT EXISTS plans (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      id TEXT NOT NULL UNIQUE,
      json TEXT NOT NULL
    )`);
    sql.exec(`CREATE TABLE IF NOT EXISTS events (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      plan_id TEXT NOT NULL,
      json TEXT NOT NULL
    )`);
  }

  /** The newest plan, whatever its status; null before the first. */
  latest(): PlanRecord | null {
    const rows = this.sql.exec<Row>("SELECT json FROM plans ORDER BY seq DESC LIMIT 1").toArray();
    const row = rows[0];
    return row === undefined ? null : (JSON.parse(String(row["json"])) as PlanRecord);
  }

  hasPlan(id: string): boolean {
    return this.sql.exec<Row>("SELECT 1 FROM plans WHERE id = ?", id).toArray().length > 0;
  }

  insert(record: PlanRecord): void {
    this.sql.exec("INSERT INTO plans (id, json) VALUES (?, ?)", record.id, JSON.stringify(record));
  }

  save(record: PlanRecord): void {
    this.sql.exec("UPDATE plans SET json = ? WHERE id = ?", JSON.stringify(record), record.id);
  }

  addEvent(event: AutopilotEvent): void {
    this.sql.exec("INSERT INTO events (plan_id, json) VALUES (?, ?)", event.planId, JSON.stringify(event));
  }

  /** The plan's last TIMELINE_MAX events, oldest first. */
  timeline(planId: string): AutopilotEvent[] {
    return this.sql
      .exec<Row>("SELECT json FROM events WHERE plan_id = ? ORDER BY seq DESC LIMIT ?", planId, TIMELINE_MAX)
      .toArray()
      .reverse()
      .map((r) => JSON.parse(String(r["json"])) as AutopilotEvent);
  }
}
