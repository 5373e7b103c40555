/**
 * The autopilot simulation (`npm run sim:autopilot`, and smaller in e2e/autopilot-sim.e2e.ts):
 * both Workers in workerd as deployed (e2e/support/worker.ts, storage kept on disk so a
 * restart is the same deployment), the stand-ins of scripts/sim/stand-ins.ts, and browsers
 * driven by scripts/sim/traffic.ts. It loads `connections` legacy SAML routes (each with its
 * WorkOS connection id), submits a plan of the given waves through the management API, restarts
 * the Workers once mid-plan, and follows the plan to its end. Loopback only; bounded by
 * `maxLogins` and `maxMs`.
 *
 * Lost logins: callbacks that reached a destination that could not serve them (the new
 * provider's error page, a router 5xx): only the failing connection's, sent to the provider
 * before its rollback, and none that Auth0 started.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { bundleWorker, startBundledWorker, type RunningWorker } from "../../e2e/support/worker";
import type { AutopilotEvent, AutopilotNumbers } from "../../src/autopilot/events";
import { PROVIDER_CALLBACK_PATH, startAuth0, startNewProvider } from "./stand-ins";
import { startTraffic, type LoginTally } from "./traffic";

const PREFIX = "/__router/v1";

export interface SimOptions {
  connections: number;
  /** Wave sizes, in order; they must add up to `connections`. */
  waves: number[];
  /** 1-based connection numbers the provider bounces every login of / fails every login of. */
  bounce: number[];
  fail: number[];
  soak: string;
  checkEvery: string;
  gates: { minLogins: number; maxFallbackShare: number; maxErrorShare: number; maxProviderFailureShare: number };
  /** One round of logins (one per connection) every this many ms. */
  everyMs: number;
  maxLogins: number;
  maxMs: number;
  /** Restart the Workers once the plan is at this (0-based) wave. */
  restartAtWave: number;
  log: (line: string) => void;
  /** Runs once the plan has ended, with the Workers still up (e2e: the dashboard in Chromium). */
  whileUp?: (running: { origin: string; adminToken: string; prefix: string }) => Promise<void>;
}

export const FULL_SIMULATION: Omit<SimOptions, "log"> = {
  connections: 30,
  waves: [1, 5, 24],
  bounce: [4, 12],
  fail: [20],
  soak: "4s",
  checkEvery: "1s",
  gates: { minLogins: 5, maxFallbackShare: 0.2, maxErrorShare: 0.2, maxProviderFailureShare: 0.2 },
  everyMs: 400,
  maxLogins: 12_000,
  maxMs: 150_000,
  restartAtWave: 2,
};

type ConnectionStatus = "waiting" | "soaking" | "promoted" | "rolled-back" | "left" | "not-started";

/** The parts of GET {prefix}/autopilot's plan the simulation reads (/work/notes/issue-19-interface.md). */
export interface PlanView {
  id: string;
  status: "running" | "paused" | "halted" | "finished" | "aborted";
  statusReason?: string | null;
  currentWave: number | null;
  totals: Record<ConnectionStatus, number>;
  waves: Array<{
    index: number;
    connections: Array<{
      connection: string;
      status: ConnectionStatus;
      since?: string;
      decidedAt?: string;
      reason?: string;
      numbers?: AutopilotNumbers;
    }>;
  }>;
  timeline: AutopilotEvent[];
}

export interface SimResult {
  promoted: number;
  rolledBack: number;
  /** Connections the plan left undecided because it halted. */
  halted: number;
  lost: number;
  plan: PlanView | null;
  tally: Map<string, LoginTally>;
  logins: number;
  durationMs: number;
  restarted: { atWave: number | null; decisionsBefore: number; decisionsAfter: number } | null;
  /** The audit trail of the failing connection (oldest first), one line per entry. */
  failingAudit: string[];
  /** Each expectation the run broke, in words; empty when it did what the issue asks. */
  problems: string[];
  /** The last line: `autopilot: <promoted> promoted, <rolled back> rolled back, <halted> halted, <lost> logins lost`. */
  summary: string;
}

interface AuditLine {
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  after: unknown;
}

const name = (n: number) => `sim-${String(n).padStart(2, "0")}-saml`;

export async function runSimulation(options: SimOptions): Promise<SimResult> {
  const started = Date.now();
  const { log } = options;
  const connections = Array.from({ length: options.connections }, (_, i) => name(i + 1));
  const connectionIds = new Map(connections.map((c, i) => [c, `conn_sim_${String(i + 1).padStart(2, "0")}`]));
  const bounce = new Set(options.bounce.map(name));
  const fail = new Set(options.fail.map(name));
  const apiKey = `sk_test_sim_${randomBytes(8).toString("hex")}`;
  const adminToken = randomBytes(32).toString("base64url");
  const persistPath = mkdtempSync(path.join(os.tmpdir(), "callback-router-sim-"));
  const stops: Array<() => Promise<void> | void> = [() => rmSync(persistPath, { recursive: true, force: true })];
  const problems: string[] = [];
  try {
    const auth0 = await startAuth0();
    stops.push(() => auth0.close());
    const provider = await startNewProvider({ apiKey, connectionIds, bounce, fail });
    stops.push(() => provider.close());
    const bundle = await bundleWorker();
    stops.push(() => bundle.remove());
    const bindings = {
      ENVIRONMENT: "development",
      AUTH0_ORIGIN: auth0.origin,
      AUTH0_TENANT: "sim-tenant",
      ALLOWED_TARGET_HOSTS: new URL(provider.origin).host,
      ADMIN_TOKEN: adminToken,
      AFFINITY_SECRET: randomBytes(32).toString("base64url"),
      ROUTE_CACHE_SECONDS: "0",
      STATS_FLUSH_MS: "200",
      WORKOS_API_KEY: apiKey,
      WORKOS_API_URL: provider.origin,
    };
    let worker: RunningWorker | undefined;
    const startWorkers = async () => {
      worker = await startBundledWorker(bundle, bindings, { persistPath });
      auth0.routerOrigin = worker.origin;
      provider.routerOrigin = worker.origin;
    };
    stops.push(() => worker?.stop());
    await startWorkers();
    const api = async (method: string, apiPath: string, body?: unknown) => {
      const res = await fetch(`${worker?.origin ?? ""}${PREFIX}${apiPath}`, {
        method,
        headers: {
          authorization: `Bearer ${adminToken}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      return { status: res.status, body: (text === "" ? null : JSON.parse(text)) as unknown };
    };

    const imported = await api("POST", "/import?mode=replace", {
      settings: {
        mode: "route",
        killSwitch: { on: false },
        unknown: "auth0",
        redirect: "307",
        defaultTarget: `${provider.origin}${PROVIDER_CALLBACK_PATH}`,
        rollout: { percentage: 0, include: [], exclude: [] },
      },
      routes: connections.map((c) => ({
        connection: c,
        state: "legacy",
        protocol: "samlp",
        providerConnectionId: connectionIds.get(c),
      })),
    });
    if (imported.status !== 200)
      throw new Error(`importing the table answered ${imported.status}: ${JSON.stringify(imported.body)}`);
    log(
      `table: ${connections.length} legacy SAML connections; the provider bounces ${[...bounce].join(", ")} and fails ${[...fail].join(", ")}`,
    );

    const traffic = startTraffic({
      connections,
      routerOrigin: () => worker?.origin ?? "",
      everyMs: options.everyMs,
      maxLogins: options.maxLogins,
      auth0Every: 4,
    });
    stops.push(async () => {
      traffic.stop();
      await traffic.done;
    });

    let offset = 0;
    const waves = options.waves.map((size, i) => {
      const wave = {
        name: i === 0 ? "canary" : `wave ${i + 1}`,
        ...(i === 0 ? { canary: true } : {}),
        connections: connections.slice(offset, offset + size),
        soak: options.soak,
      };
      offset += size;
      return wave;
    });
    const submitted = await api("POST", "/autopilot/plans", {
      id: `sim-${Date.now().toString(36)}`,
      checkEvery: options.checkEvery,
      gates: { ...options.gates, noAlarm: true, requireProviderOutcome: true },
      policy: { onRollback: "continue" },
      waves,
    });
    if (submitted.status !== 200) {
      throw new Error(`submitting the plan answered ${submitted.status}: ${JSON.stringify(submitted.body)}`);
    }
    log(`plan: waves of ${options.waves.join(", ")}, soak ${options.soak}, checked every ${options.checkEvery}`);

    let plan: PlanView | null = null;
    let seen = 0;
    let restarted: SimResult["restarted"] = null;
    const decisions = (p: PlanView | null) =>
      p?.timeline.filter((e) => e.kind === "promoted" || e.kind === "rolled-back").length ?? 0;
    while (Date.now() - started < options.maxMs) {
      const answer = await api("GET", "/autopilot");
      plan = (answer.body as { plan: PlanView | null } | null)?.plan ?? null;
      for (const e of plan?.timeline.slice(seen) ?? []) log(describeEvent(e));
      seen = plan?.timeline.length ?? seen;
      if (plan === null || plan.status !== "running") break;
      if (restarted === null && (plan.currentWave ?? 0) >= options.restartAtWave) {
        const before = decisions(plan);
        log(`restart: stopping the Workers at wave ${(plan.currentWave ?? 0) + 1} (${before} decisions so far)`);
        await traffic.pause();
        await worker?.stop();
        await startWorkers();
        traffic.resume();
        const after = (await api("GET", "/autopilot")).body as { plan: PlanView | null } | null;
        if (after?.plan?.id !== plan.id) problems.push("after the restart GET /autopilot no longer shows the plan");
        log(`restart: Workers up again; plan ${after?.plan?.id ?? "(none)"} is ${after?.plan?.status ?? "gone"}`);
        restarted = { atWave: plan.currentWave, decisionsBefore: before, decisionsAfter: 0 };
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    traffic.stop();
    await traffic.done;
    await options.whileUp?.({ origin: worker?.origin ?? "", adminToken, prefix: PREFIX });
    const [failing] = [...fail];
    const failingAudit: string[] = [];
    if (failing !== undefined) {
      const audit = await api("GET", `/audit?connection=${encodeURIComponent(failing)}&limit=50`);
      const entries = (audit.body as { entries?: AuditLine[] } | null)?.entries ?? [];
      for (const e of [...entries].reverse()) {
        failingAudit.push(
          `${e.at} ${e.actor} ${e.action} ${e.subject ?? "-"} ${JSON.stringify(e.after).slice(0, 400)}`,
        );
      }
    }
    if (restarted !== null) restarted.decisionsAfter = decisions(plan) - restarted.decisionsBefore;

    const all = plan?.waves.flatMap((w) => w.connections) ?? [];
    const count = (s: ConnectionStatus) => all.filter((c) => c.status === s).length;
    const promoted = count("promoted");
    const rolledBack = count("rolled-back");
    const halted = plan?.status === "halted" ? all.length - promoted - rolledBack : 0;
    let lost = 0;
    for (const [, t] of traffic.tally) lost += t.lost;

    // What the issue asks of the run.
    if (plan === null) problems.push("no plan is shown by GET /autopilot");
    else if (plan.status !== "finished")
      problems.push(`the plan ended ${plan.status}, not finished (${plan.statusReason ?? ""})`);
    for (const c of all) {
      const bad = bounce.has(c.connection) || fail.has(c.connection);
      if (bad && c.status !== "rolled-back") problems.push(`${c.connection} (bad) is ${c.status}, not rolled back`);
      if (!bad && c.status !== "promoted") problems.push(`${c.connection} (healthy) is ${c.status}, not promoted`);
      if (c.status === "promoted" && (c.numbers?.logins ?? 0) < options.gates.minLogins) {
        problems.push(
          `${c.connection} was promoted on ${c.numbers?.logins ?? 0} logins, under the minimum ${options.gates.minLogins}`,
        );
      }
    }
    for (const [c, t] of traffic.tally) {
      if (t.lostAuth0Started > 0) problems.push(`${t.lostAuth0Started} logins Auth0 started for ${c} were lost`);
      if (t.lost > 0 && !fail.has(c))
        problems.push(`${t.lost} logins of ${c} were lost (it is not the failing connection)`);
    }
    // At most what the gate judged, plus the logins of one check interval (the reading and the
    // rollback are one check apart at most) and one round in flight.
    for (const c of fail) {
      const judged = all.find((x) => x.connection === c)?.numbers?.logins ?? 0;
      const bound = judged + Math.ceil(durationMs(options.checkEvery) / options.everyMs) + 1;
      const lostHere = traffic.tally.get(c)?.lost ?? 0;
      if (lostHere > bound)
        problems.push(`${lostHere} logins of ${c} were lost, more than ${bound} (${judged} judged)`);
    }
    if (restarted === null) problems.push("the plan ended before the restart");
    else if (restarted.decisionsAfter === 0) problems.push("no decision was made after the restart");

    const summary = `autopilot: ${promoted} promoted, ${rolledBack} rolled back, ${halted} halted, ${lost} logins lost`;
    return {
      promoted,
      rolledBack,
      halted,
      lost,
      plan,
      tally: traffic.tally,
      logins: traffic.total(),
      durationMs: Date.now() - started,
      restarted,
      failingAudit,
      problems,
      summary,
    };
  } finally {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch {
        // keep stopping the rest
      }
    }
  }
}

/** "90s", "15m", "6h", "3d" in ms (the plan's duration format). */
function durationMs(text: string): number {
  const match = /^(\d+)([smhd])$/.exec(text);
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match?.[2] ?? "s"] ?? 1_000;
  return Number(match?.[1] ?? 0) * unit;
}

/** One line per plan event, with the numbers a decision was made on. */
export function describeEvent(e: AutopilotEvent): string {
  const who = e.connection === undefined ? "" : ` ${e.connection}`;
  const n = e.numbers;
  const numbers =
    n === undefined
      ? ""
      : ` [logins ${n.logins}, fallback ${n.fallback}, errors ${n.errors}, provider ${
          "reason" in n.outcome
            ? `no source (${n.outcome.reason})`
            : `${n.outcome.succeeded} ok / ${n.outcome.failed} failed`
        }]`;
  return `${e.at} ${e.kind}${who}${e.wave === null ? "" : ` (wave ${e.wave + 1})`}: ${e.reason}${numbers}`;
}
