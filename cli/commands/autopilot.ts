/**
 * `autopilot plan <file> [--dry-run]`, `autopilot status|pause|resume`, `autopilot abort
 * --rollback|--leave`: the cut-over autopilot (docs/operations.md, "Autopilot"). The plan file
 * is checked against the plan's own schema before anything is sent: a mistake in it exits 2
 * naming the field, and nothing reaches the router.
 */
import { PlanInput } from "../../src/autopilot/plan";
import { UsageError } from "../args";
import type { Json } from "../client";
import { FileError, type Command } from "../command";

type Numbers = {
  logins: number;
  fallback: number;
  fallbackShare: number;
  errorShare: number;
  alarms: string[];
  outcome: Json;
};
type ConnectionView = { connection: string; status: string; numbers?: Numbers; reason?: string; soakUntil?: string };
type WaveView = {
  index: number;
  name: string;
  status: string;
  soak: string;
  rollbacks: number;
  connections: ConnectionView[];
  skipped: Array<{ connection: string; reason: string }>;
};
type PlanView = {
  id: string;
  status: string;
  statusReason: string | null;
  currentWave: number;
  nextStepAt: string | null;
  totals: Record<string, number>;
  waves: WaveView[];
};

const pct = (n: number): string => `${(n * 100).toFixed(1)}%`;

function describeNumbers(n: Numbers | undefined): string {
  if (n === undefined) return "";
  const outcome =
    n.outcome["source"] === "no source"
      ? "outcome: no source"
      : `outcome ${String(n.outcome["succeeded"])} ok / ${String(n.outcome["failed"])} failed`;
  const alarms = n.alarms.length === 0 ? "" : `, alarms ${n.alarms.join(",")}`;
  return ` [${n.logins} logins, fallback ${pct(n.fallbackShare)}, errors ${pct(n.errorShare)}${alarms}, ${outcome}]`;
}

/** GET /autopilot as lines: the plan, then each wave and its connections. */
export function printPlan(plan: PlanView | null): string {
  if (plan === null) return "No autopilot plan has been submitted.";
  const t = plan.totals;
  const lines = [
    `plan ${plan.id}: ${plan.status}${plan.statusReason === null ? "" : ` (${plan.statusReason})`}`,
    `  ${t["promoted"] ?? 0} promoted, ${t["rolled-back"] ?? 0} rolled back, ${t["soaking"] ?? 0} soaking, ${t["waiting"] ?? 0} waiting, ${(t["left"] ?? 0) + (t["not-started"] ?? 0)} left or not started`,
    `  next step: ${plan.nextStepAt ?? "none"}`,
  ];
  for (const wave of plan.waves) {
    lines.push(`${wave.name} (${wave.status}, soak ${wave.soak}, ${wave.rollbacks} rollback(s))`);
    for (const c of wave.connections) {
      lines.push(
        `  ${c.connection}: ${c.status}${describeNumbers(c.numbers)}${c.reason === undefined ? "" : ` — ${c.reason}`}`,
      );
    }
    for (const s of wave.skipped) lines.push(`  ${s.connection}: skipped — ${s.reason}`);
  }
  return lines.join("\n");
}

/** The dry run's rehearsal of the first wave, in one or two lines. */
function rehearsalLines(r: unknown): string[] {
  if (typeof r !== "object" || r === null) return [];
  const rehearsal = r as Json;
  if (rehearsal["available"] !== true) return [`first wave rehearsal: not available (${String(rehearsal["reason"])})`];
  const t = (rehearsal["totals"] ?? {}) as Json;
  return [
    `first wave rehearsed on recorded logins: ${String(t["changed"])} of ${String(t["logins"])} would move, ${String(t["stranded"])} stranded`,
  ];
}

function printPreview(json: Json): string {
  const waves =
    (json["waves"] as Array<{
      name: string;
      soak: string;
      connections: string[];
      skipped: Array<{ connection: string; reason: string }>;
    }>) ?? [];
  const blockers = (json["blockers"] as string[]) ?? [];
  return [
    `${json["dryRun"] === true ? "dry run (nothing started)" : "started"}: plan ${String(json["id"])}, ${String(json["connections"])} connection(s), audited as ${String(json["actor"])}`,
    ...waves.flatMap((w) => [
      `${w.name} (soak ${w.soak}): ${w.connections.join(", ")}`,
      ...w.skipped.map((s) => `  skipped ${s.connection}: ${s.reason}`),
    ]),
    ...blockers.map((b) => `cannot start now: ${b}`),
    ...rehearsalLines(json["firstWaveRehearsal"]),
  ].join("\n");
}

export const autopilot: Command = {
  name: "autopilot",
  summary: "cut connections over in waves with health gates and automatic rollback: plan, status, pause, resume, abort",
  positionals: [
    {
      name: "plan|status|pause|resume|abort",
      description: "what to do",
      choices: ["plan", "status", "pause", "resume", "abort"],
    },
    { name: "file", description: "plan: the plan's JSON file", optional: true },
  ],
  options: {
    "dry-run": { type: "boolean", description: "plan: check it and show the waves; start nothing" },
    rollback: { type: "boolean", description: "abort: put what the plan cut over back to legacy" },
    leave: { type: "boolean", description: "abort: leave the table as it is" },
  },
  details: [
    'A plan is waves of connections (by name, organization or filter), each with a soak time and gates (docs/operations.md, "Autopilot"). The router\'s autopilot runs it, not this command: it goes on when your laptop sleeps.',
    "abort needs --rollback or --leave: the operator chooses.",
  ],
  examples: [
    "npm run routes -- autopilot plan plan.json --dry-run",
    "npm run routes -- autopilot status",
    "npm run routes -- autopilot abort --rollback",
  ],
  async run(ctx) {
    const [action, file] = ctx.positionals;
    if (action !== "plan" && file !== undefined) throw new UsageError(`autopilot ${action} takes no file`);
    if (action !== "plan" && ctx.flag("dry-run")) throw new UsageError("--dry-run goes with autopilot plan");
    if (action !== "abort" && (ctx.flag("rollback") || ctx.flag("leave"))) {
      throw new UsageError("--rollback and --leave go with autopilot abort");
    }
    if (action === "plan") {
      if (file === undefined) throw new UsageError("autopilot plan needs the plan's file");
      const text = await ctx.readFile(file);
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch (err) {
        throw new FileError(`${file} is not JSON: ${err instanceof Error ? err.message : String(err)}`);
      }
      const parsed = PlanInput.safeParse(raw);
      if (!parsed.success) {
        const errors = parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "(file)"}: ${i.message}`);
        throw new UsageError(`${file} is not a valid plan (nothing sent): ${errors.join("; ")}`);
      }
      const { json } = await ctx.api.send("POST", `/autopilot/plans${ctx.flag("dry-run") ? "?dryRun=true" : ""}`, raw);
      return ctx.print(json, () => printPreview(json));
    }
    if (action === "abort") {
      if (ctx.flag("rollback") === ctx.flag("leave")) {
        throw new UsageError("autopilot abort needs exactly one of --rollback (put it back to legacy) or --leave");
      }
      const { json } = await ctx.api.send("POST", "/autopilot/abort", { rollback: ctx.flag("rollback") });
      return ctx.print(json, () => printPlan(json as unknown as PlanView));
    }
    if (action === "pause" || action === "resume") {
      const { json } = await ctx.api.request("POST", `/autopilot/${action}`);
      return ctx.print(json, () => printPlan(json as unknown as PlanView));
    }
    const { json } = await ctx.api.request("GET", "/autopilot");
    ctx.print(json, () => printPlan((json["plan"] ?? null) as PlanView | null));
  },
};
