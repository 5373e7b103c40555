/**
 * The route-table changes "mixed" applies through the management API while
 * the load runs: every `everyMs` a PATCH /routes/{connection} flips a random
 * connection between legacy and migrated, and PUT /settings switches the mode
 * to shadow at 1/3 of the run and back to route at 2/3.
 */
import { type AdminApi, describeAnswer } from "./admin-api";
import { fmt, median, pickFrom, sleep } from "./util";

export type FlipState = "legacy" | "migrated";

export interface ApiChange {
  kind: "patch" | "settings";
  subject: string;
  /** 0: no answer (network error or timeout). */
  status: number;
  atMs: number;
  ms: number;
}

export interface ChangeSummary {
  changes: number;
  patches: number;
  settingsChanges: number;
  statusCounts: Record<string, number>;
  non2xx: number;
  p50Ms: number;
  maxMs: number;
  settingsTimeline: string[];
  problems: string[];
}

const ok = (status: number): boolean => status >= 200 && status < 300;

export class TableChanges {
  readonly changes: ApiChange[] = [];
  readonly problems: string[] = [];
  readonly settingsTimeline: string[] = [];
  /** Connections flipped at least once (their final state is in `states`). */
  readonly flipped = new Set<string>();
  private stopped = false;

  /** `states`: every connection that may be flipped and its state; updated as the API confirms each change. */
  constructor(
    private readonly api: AdminApi,
    readonly states: Map<string, FlipState>,
  ) {}

  stop(): void {
    this.stopped = true;
  }

  /** Runs until stop() or `durationMs`, one change at a time. */
  async run(durationMs: number, everyMs: number): Promise<void> {
    const pick = pickFrom([...this.states.keys()]);
    const plan: Array<{ atMs: number; mode: "shadow" | "route" }> = [
      { atMs: durationMs / 3, mode: "shadow" },
      { atMs: (2 * durationMs) / 3, mode: "route" },
    ];
    const t0 = performance.now();
    for (let tick = 1; !this.stopped; tick++) {
      const atMs = performance.now() - t0;
      if (atMs >= durationMs) break;
      const step = plan[0];
      if (step !== undefined && atMs >= step.atMs) {
        plan.shift();
        await this.setMode(step.mode, atMs);
      }
      await this.flip(pick(), atMs);
      const wait = t0 + tick * everyMs - performance.now();
      if (wait > 0) await sleep(wait);
    }
  }

  private async setMode(mode: "shadow" | "route", atMs: number): Promise<void> {
    const answer = await this.api.call("PUT", "/settings", { mode });
    this.changes.push({ kind: "settings", subject: `mode=${mode}`, status: answer.status, atMs, ms: answer.ms });
    this.settingsTimeline.push(`${fmt(atMs / 1000, 1)}s mode=${mode}: ${answer.status}`);
    const now = (answer.json as { mode?: unknown } | undefined)?.mode;
    if (!ok(answer.status) || now !== mode) this.problems.push(`PUT /settings mode=${mode}: ${describeAnswer(answer)}`);
  }

  private async flip(connection: string, atMs: number): Promise<void> {
    const next: FlipState = this.states.get(connection) === "migrated" ? "legacy" : "migrated";
    const answer = await this.api.call("PATCH", `/routes/${connection}`, { state: next });
    this.changes.push({ kind: "patch", subject: connection, status: answer.status, atMs, ms: answer.ms });
    const state = (answer.json as { state?: unknown } | undefined)?.state;
    if (ok(answer.status) && state === next) {
      this.states.set(connection, next);
      this.flipped.add(connection);
    } else if (this.problems.length < 8) {
      this.problems.push(`PATCH /routes/${connection} ${next}: ${describeAnswer(answer)}`);
    }
  }

  summary(): ChangeSummary {
    const statusCounts: Record<string, number> = {};
    for (const c of this.changes) statusCounts[c.status] = (statusCounts[c.status] ?? 0) + 1;
    const ms = this.changes.map((c) => c.ms);
    return {
      changes: this.changes.length,
      patches: this.changes.filter((c) => c.kind === "patch").length,
      settingsChanges: this.changes.filter((c) => c.kind === "settings").length,
      statusCounts,
      non2xx: this.changes.filter((c) => !ok(c.status)).length,
      p50Ms: median(ms),
      maxMs: ms.length === 0 ? NaN : Math.max(...ms),
      settingsTimeline: this.settingsTimeline,
      problems: this.problems,
    };
  }
}
