/**
 * What the autopilot stores of a plan (one JSON record per plan in its Durable Object,
 * ./store.ts) and what GET {prefix}/autopilot shows of it. Times are ISO 8601 UTC.
 */
import type { AutopilotEvent, AutopilotNumbers } from "./events";
import type { Plan } from "./plan";
import type { ResolvedWave } from "./select";

export type PlanStatus = "running" | "paused" | "halted" | "finished" | "aborted";

/**
 * waiting: its wave has not started. soaking: cut over (migrated), watched, not yet judged
 * healthy for its whole soak. promoted: passed every gate after its soak (still watched until
 * the plan ends). rolled-back: put back to legacy (why in `reason`). left: someone else changed
 * it, or the plan was aborted leaving it as it was. not-started: the plan ended before its wave.
 */
export type ConnectionStatus = "waiting" | "soaking" | "promoted" | "rolled-back" | "left" | "not-started";

export interface ConnectionRecord {
  connection: string;
  wave: number;
  providerConnectionId?: string | undefined;
  status: ConnectionStatus;
  /** When the writer changed its state to migrated: the numbers are read from here. */
  since?: string;
  /** When its soak ends (since + soak, moved on by the time the plan was paused). */
  soakUntil?: string;
  /** The last reading, and when it was taken. */
  numbers?: AutopilotNumbers;
  readAt?: string;
  /** Why it is in its status (the last verdict, or the decision). */
  reason?: string;
  decidedAt?: string;
}

export interface PlanRecord {
  id: string;
  submittedBy: string;
  submittedAt: string;
  plan: Plan;
  checkEveryMs: number;
  waves: Array<Omit<ResolvedWave, "connections"> & { startedAt?: string; rollbacks: number }>;
  connections: ConnectionRecord[];
  status: PlanStatus;
  /** Why it is paused, halted, finished or aborted, and by whom. */
  statusReason?: string;
  statusBy?: string;
  statusAt?: string;
  /** When it was paused (ms), to move soak ends on by the pause on resume. */
  pausedAt?: number;
  currentWave: number;
  nextStepAt: string | null;
}

export interface ConnectionView extends ConnectionRecord {}

export interface WaveView extends Omit<PlanRecord["waves"][number], "soakMs"> {
  index: number;
  soak: string;
  status: "waiting" | "running" | "done";
  connections: ConnectionView[];
}

/** GET {prefix}/autopilot's `plan`. */
export interface PlanView {
  id: string;
  status: PlanStatus;
  statusReason: string | null;
  statusBy: string | null;
  statusAt: string | null;
  submittedBy: string;
  submittedAt: string;
  actor: string;
  checkEvery: string;
  policy: Plan["policy"];
  currentWave: number;
  nextStepAt: string | null;
  totals: Record<ConnectionStatus, number>;
  waves: WaveView[];
  /** The plan's events, oldest first (at most the last 500). */
  timeline: AutopilotEvent[];
}

export const actorOf = (planId: string): string => `autopilot:${planId}`;

export function isActive(status: PlanStatus): boolean {
  return status === "running" || status === "paused" || status === "halted";
}

function durationText(ms: number): string {
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}

export function viewOf(record: PlanRecord, timeline: AutopilotEvent[]): PlanView {
  const totals: Record<ConnectionStatus, number> = {
    waiting: 0,
    soaking: 0,
    promoted: 0,
    "rolled-back": 0,
    left: 0,
    "not-started": 0,
  };
  for (const c of record.connections) totals[c.status]++;
  return {
    id: record.id,
    status: record.status,
    statusReason: record.statusReason ?? null,
    statusBy: record.statusBy ?? null,
    statusAt: record.statusAt ?? null,
    submittedBy: record.submittedBy,
    submittedAt: record.submittedAt,
    actor: actorOf(record.id),
    checkEvery: durationText(record.checkEveryMs),
    policy: record.plan.policy,
    currentWave: record.currentWave,
    nextStepAt: record.nextStepAt,
    totals,
    waves: record.waves.map(({ soakMs, ...wave }, index) => {
      const connections = record.connections.filter((c) => c.wave === index);
      const done =
        wave.startedAt !== undefined && connections.every((c) => c.status !== "waiting" && c.status !== "soaking");
      return {
        ...wave,
        index,
        soak: durationText(soakMs),
        status: wave.startedAt === undefined ? "waiting" : done ? "done" : "running",
        connections,
      };
    }),
    timeline,
  };
}
