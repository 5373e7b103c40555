/**
 * Autopilot: the Durable Object (admin Worker, wrangler.admin.toml) that runs one cut-over
 * plan at a time (docs/operations.md, "Autopilot"). Its alarm is the clock: every
 * `checkEvery` it reads the numbers of each watched connection (./readings.ts), judges them
 * (./gates.ts), rolls back at once what breaches, promotes what passed its soak, applies the
 * plan's policy, and starts the next wave when one is done. Every table change goes through the
 * RouteTableWriter (`autopilotStep`: actor `autopilot:<plan id>`, the numbers in the audit,
 * each step at most once), and the plan's record is saved after each step, so a restart — a
 * deploy, an eviction — continues from the last completed step. The kill switch (or shadow
 * mode) pauses it; an operator pauses, resumes and aborts it (abort: roll back what the plan
 * moved, or leave it).
 *
 * Calls and the alarm run one at a time (`serial`): a pause can never land between a reading
 * and the rollback it justified. Answers are plain data (ok / problem), never thrown across RPC.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { log } from "../log";
import type { Failure } from "../writer/result";
import { writerOf } from "../writer/handle";
import type { AutopilotEvent, AutopilotEventKind, AutopilotNumbers } from "./events";
import { judge } from "./gates";
import { notify } from "./notify";
import { durationMs, PlanInput, type Plan } from "./plan";
import { readNumbers } from "./readings";
import { selectWaves, type ResolvedWave } from "./select";
import { actorOf, isActive, viewOf, type ConnectionRecord, type PlanRecord, type PlanView } from "./state";
import { AutopilotStore } from "./store";
import { zodErrors } from "../table/validate";

export type Answer<T> = { ok: true; value: T } | Failure;

/** What a dry run (and a submission) answers: the waves as they would run. */
export interface PlanPreview {
  id: string;
  dryRun: boolean;
  actor: string;
  checkEvery: string;
  waves: Array<Omit<ResolvedWave, "soakMs"> & { soak: string }>;
  /** Connections the plan would move, all waves. */
  connections: number;
  /** Why the plan could not start now even though it is valid (kill switch, a running plan); empty when it can. */
  blockers: string[];
}

const refuse = (status: Failure["status"], title: string, detail: string, errors?: Failure["errors"]): Failure => ({
  ok: false,
  status,
  title,
  detail,
  ...(errors === undefined ? {} : { errors }),
});

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function newPlanId(now: number): string {
  const stamp = iso(now).slice(0, 16).replace(/[-:]/g, "").replace("T", "-").toLowerCase();
  return `plan-${stamp}-${crypto.randomUUID().slice(0, 6)}`;
}

export class Autopilot extends DurableObject<Env> {
  private readonly store: AutopilotStore;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new AutopilotStore(ctx.storage.sql);
  }

  /** Runs `fn` after every earlier call and alarm of this object has finished. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // ---- reads ------------------------------------------------------------------

  /** The newest plan (running, or the last one that ended), with its timeline; null before any. */
  status(): PlanView | null {
    const record = this.store.latest();
    return record === null ? null : viewOf(record, this.store.timeline(record.id));
  }

  // ---- operator calls ---------------------------------------------------------

  /**
   * Checks a plan against the table as it is now and, unless `dryRun`, starts it (its first
   * wave at once). Refused: invalid fields or connections (422, each field named), another plan
   * still active or the id already used (409), the kill switch on or shadow mode (409).
   */
  submit(raw: unknown, options: { actor: string; dryRun: boolean }): Promise<Answer<PlanPreview>> {
    return this.serial(async () => {
      const parsed = PlanInput.safeParse(raw);
      if (!parsed.success) return refuse(422, "Invalid plan", "The plan has invalid fields.", zodErrors(parsed.error));
      const plan = parsed.data;
      const now = Date.now();
      const id = plan.id ?? newPlanId(now);
      const active = this.store.latest();
      const blockers: string[] = [];
      const inOtherPlan = new Map<string, string>();
      if (active !== null && isActive(active.status)) {
        blockers.push(
          `plan ${active.id} is ${active.status}: one plan runs at a time (abort it, or wait for it to end)`,
        );
        for (const c of active.connections) {
          if (c.status === "waiting" || c.status === "soaking") inOtherPlan.set(c.connection, active.id);
        }
      }
      if (this.store.hasPlan(id)) {
        return refuse(409, "Plan id used", `A plan with id ${id} was already submitted; give the plan another id.`, [
          { field: "id", reason: "already used" },
        ]);
      }
      const writer = writerOf(this.env);
      const [table, settings] = await Promise.all([writer.exportTable(), writer.getSettings()]);
      const selection = selectWaves(plan, table.routes, inOtherPlan);
      if (!selection.ok) {
        return refuse(
          422,
          "Invalid plan",
          "Some waves cannot run as written; each error names the field.",
          selection.errors,
        );
      }
      const paused = pauseReason(settings.settings);
      if (paused !== undefined) blockers.push(`${paused}: the autopilot would pause at once`);
      const preview: PlanPreview = {
        id,
        dryRun: options.dryRun,
        actor: actorOf(id),
        checkEvery: plan.checkEvery,
        waves: selection.waves.map(({ soakMs, ...w }, i) => ({
          ...w,
          soak: plan.waves[i]?.soak ?? `${soakMs / 1000}s`,
        })),
        connections: selection.waves.reduce((n, w) => n + w.connections.length, 0),
        blockers,
      };
      if (options.dryRun) return { ok: true, value: preview };
      if (blockers.length > 0) return refuse(409, "Plan cannot start now", blockers.join("; "));

      const providerIds = new Map(table.routes.map((r) => [r.connection, r.providerConnectionId]));
      const record: PlanRecord = {
        id,
        submittedBy: options.actor,
        submittedAt: iso(now),
        plan,
        checkEveryMs: durationMs(plan.checkEvery) ?? 60_000,
        waves: selection.waves.map(({ connections: _c, ...w }) => ({ ...w, rollbacks: 0 })),
        connections: selection.waves.flatMap((w, wave) =>
          w.connections.map((connection) => ({
            connection,
            wave,
            providerConnectionId: providerIds.get(connection),
            status: "waiting" as const,
          })),
        ),
        status: "running",
        currentWave: 0,
        nextStepAt: iso(now),
      };
      const audited = await writer.autopilotStep(
        {
          id: `${id}/plan`,
          action: "autopilot.plan",
          connection: null,
          details: {
            plan: id,
            waves: selection.waves.map((w) => ({ name: w.name, connections: w.connections, soakMs: w.soakMs })),
            gates: plan.gates,
            policy: plan.policy,
          },
        },
        options.actor,
      );
      if (!audited.ok) return audited;
      this.store.insert(record);
      // The first wave starts now (the answer follows it); the alarm takes over from here.
      await this.step();
      return { ok: true, value: preview };
    });
  }

  /** Stops every action of a running or halted plan (no cut-over, promotion or rollback) until resumed. */
  pause(actor: string, reason = "paused by an operator"): Promise<Answer<PlanView>> {
    return this.serial(async () => {
      const record = this.store.latest();
      if (record === null || (record.status !== "running" && record.status !== "halted")) {
        return this.notIn(record, "running or halted", "pause");
      }
      await this.setPaused(record, actor, reason);
      return { ok: true, value: this.viewNow() };
    });
  }

  /** Resumes a paused or halted plan; soak ends move on by the time it was paused. */
  resume(actor: string): Promise<Answer<PlanView>> {
    return this.serial(async () => {
      const record = this.store.latest();
      if (record === null || (record.status !== "paused" && record.status !== "halted")) {
        return this.notIn(record, "paused or halted", "resume");
      }
      const settings = await writerOf(this.env).getSettings();
      const blocked = pauseReason(settings.settings);
      if (blocked !== undefined) return refuse(409, "Cannot resume", `${blocked}; resume once it is off.`);
      const now = Date.now();
      if (record.status === "paused" && record.pausedAt !== undefined) {
        const pausedFor = now - record.pausedAt;
        for (const c of record.connections) {
          if (c.status === "soaking" && c.soakUntil !== undefined)
            c.soakUntil = iso(Date.parse(c.soakUntil) + pausedFor);
        }
      }
      const wasHalted = record.status === "halted";
      record.status = "running";
      delete record.pausedAt;
      this.setStatus(record, actor, wasHalted ? "resumed after a halt" : "resumed", now);
      // A resumed halt does not halt again on the rollbacks it was halted for.
      if (wasHalted) {
        const wave = record.waves[record.currentWave];
        if (wave !== undefined) wave.rollbacks = 0;
      }
      this.store.save(record);
      await this.emit(record, "resumed", { actor, reason: record.statusReason ?? "resumed" });
      await this.step();
      return { ok: true, value: this.viewNow() };
    });
  }

  /**
   * Ends the plan. `rollback: true` puts every connection it cut over (soaking or promoted)
   * back to legacy; false leaves the table as it is. Waves not started never start.
   */
  abort(actor: string, rollback: boolean): Promise<Answer<PlanView>> {
    return this.serial(async () => {
      const record = this.store.latest();
      if (record === null || !isActive(record.status)) return this.notIn(record, "running, paused or halted", "abort");
      const planActor = actorOf(record.id);
      const failures: string[] = [];
      for (const c of record.connections) {
        if (c.status === "waiting") {
          c.status = "not-started";
          c.reason = "the plan was aborted before its wave";
          continue;
        }
        if (c.status !== "soaking" && c.status !== "promoted") continue;
        if (!rollback) {
          c.status = "left";
          c.reason = `left migrated: the plan was aborted by ${actor} without rollback`;
          c.decidedAt = iso(Date.now());
          continue;
        }
        const reason = `aborted by ${actor} with rollback`;
        const done = await writerOf(this.env).autopilotStep(
          {
            id: `${record.id}/${c.connection}/rollback`,
            action: "autopilot.rollback",
            connection: c.connection,
            state: "legacy",
            details: { plan: record.id, wave: c.wave, reason, requestedBy: actor, numbers: c.numbers ?? null },
          },
          planActor,
        );
        if (!done.ok) {
          failures.push(`${c.connection}: ${done.detail}`);
          continue;
        }
        c.status = "rolled-back";
        c.reason = reason;
        c.decidedAt = iso(Date.now());
        this.store.save(record);
      }
      record.status = "aborted";
      record.nextStepAt = null;
      this.setStatus(
        record,
        actor,
        rollback ? "aborted; what it cut over is back on legacy" : "aborted; the table left as it was",
        Date.now(),
      );
      this.store.save(record);
      await this.ctx.storage.deleteAlarm();
      await this.emit(record, "aborted", { actor, reason: record.statusReason ?? "aborted" });
      if (failures.length > 0) {
        return refuse(
          502,
          "Some rollbacks failed",
          `The plan is aborted, but these stay migrated: ${failures.join("; ")}`,
        );
      }
      return { ok: true, value: this.viewNow() };
    });
  }

  // ---- the clock ----------------------------------------------------------------

  override async alarm(): Promise<void> {
    await this.serial(() => this.step());
  }

  /** One gate window: judge the watched, apply the policy, advance the waves, set the next alarm. */
  private async step(): Promise<void> {
    const record = this.store.latest();
    if (record === null || (record.status !== "running" && record.status !== "halted")) return;
    const writer = writerOf(this.env);
    const planActor = actorOf(record.id);
    const settings = await writer.getSettings();
    const paused = pauseReason(settings.settings);
    if (paused !== undefined) {
      await this.setPaused(record, planActor, `${paused}: paused until an operator resumes it`);
      return;
    }
    const now = Date.now();
    await this.judgeWatched(record, now);

    const wave = record.waves[record.currentWave];
    if (
      record.status === "running" &&
      wave !== undefined &&
      record.plan.policy.onRollback === "halt" &&
      wave.rollbacks >= record.plan.policy.haltAfter
    ) {
      record.status = "halted";
      this.setStatus(
        record,
        planActor,
        `${wave.rollbacks} rollback${wave.rollbacks === 1 ? "" : "s"} in ${wave.name} (policy: halt after ${record.plan.policy.haltAfter}); no new wave starts until an operator resumes or aborts`,
        now,
      );
      this.store.save(record);
      await this.emit(record, "halted", { actor: planActor, reason: record.statusReason ?? "halted" });
    }
    if (record.status === "running") await this.advance(record);
    const latest = this.store.latest();
    if (latest === null || !isActive(latest.status) || latest.status === "paused") return;
    const next = Date.now() + latest.checkEveryMs;
    latest.nextStepAt = iso(next);
    this.store.save(latest);
    await this.ctx.storage.setAlarm(next);
  }

  /** Reads and judges every soaking and promoted connection: rollback, promotion, or the reading kept. */
  private async judgeWatched(record: PlanRecord, now: number): Promise<void> {
    const watched = record.connections.filter((c) => c.status === "soaking" || c.status === "promoted");
    if (watched.length === 0) return;
    const writer = writerOf(this.env);
    const { routes: states } = await writer.statesSince(watched.map((c) => c.connection));
    const stillOurs: ConnectionRecord[] = [];
    for (const c of watched) {
      const state = states[c.connection];
      if (state?.state === "migrated") {
        stillOurs.push(c);
        continue;
      }
      c.status = "left";
      c.reason = state === undefined ? "its route was deleted" : `changed to ${state.state} by someone else`;
      c.decidedAt = iso(now);
    }
    this.store.save(record);
    let numbers: Map<string, AutopilotNumbers>;
    try {
      numbers = await readNumbers(
        this.env,
        stillOurs.map((c) => ({
          connection: c.connection,
          providerConnectionId: c.providerConnectionId,
          since: Date.parse(c.since ?? iso(now)),
        })),
        now,
      );
    } catch (err) {
      // No numbers, no decision: nothing is promoted or rolled back on a reading that failed.
      const why = err instanceof Error ? err.message.slice(0, 200) : String(err);
      for (const c of stillOurs) c.reason = `numbers unreadable (${why}); judged again next window`;
      this.store.save(record);
      return;
    }
    for (const c of stillOurs) {
      const n = numbers.get(c.connection);
      if (n === undefined) continue;
      const wave = record.waves[c.wave];
      if (wave === undefined) continue;
      const elapsed = now - Date.parse(c.since ?? iso(now));
      const soakMs = Date.parse(c.soakUntil ?? iso(now)) - Date.parse(c.since ?? iso(now));
      const verdict = judge(n, wave.gates, elapsed, soakMs);
      c.numbers = n;
      c.readAt = iso(now);
      if (verdict.verdict === "rollback") {
        await this.rollBack(record, c, verdict.reason, n);
      } else if (verdict.verdict === "promote" && c.status === "soaking") {
        await this.promote(record, c, verdict.reason, n);
      } else if (c.status === "soaking") {
        c.reason = verdict.reason;
      }
    }
    this.store.save(record);
  }

  private async rollBack(record: PlanRecord, c: ConnectionRecord, reason: string, numbers: AutopilotNumbers) {
    const planActor = actorOf(record.id);
    const done = await writerOf(this.env).autopilotStep(
      {
        id: `${record.id}/${c.connection}/rollback`,
        action: "autopilot.rollback",
        connection: c.connection,
        state: "legacy",
        details: {
          plan: record.id,
          wave: c.wave,
          reason,
          numbers,
          since: c.since,
          wasPromoted: c.status === "promoted",
        },
      },
      planActor,
    );
    if (!done.ok) {
      c.reason = `breach (${reason}), but the rollback was refused: ${done.detail}; retried next window`;
      return;
    }
    c.status = "rolled-back";
    c.reason = reason;
    c.decidedAt = iso(Date.now());
    const wave = record.waves[c.wave];
    if (wave !== undefined) wave.rollbacks++;
    this.store.save(record);
    await this.emit(record, "rolled-back", {
      actor: planActor,
      reason,
      connection: c.connection,
      numbers,
      wave: c.wave,
    });
  }

  private async promote(record: PlanRecord, c: ConnectionRecord, reason: string, numbers: AutopilotNumbers) {
    const planActor = actorOf(record.id);
    const done = await writerOf(this.env).autopilotStep(
      {
        id: `${record.id}/${c.connection}/promote`,
        action: "autopilot.promote",
        connection: c.connection,
        details: { plan: record.id, wave: c.wave, reason, numbers, since: c.since },
      },
      planActor,
    );
    if (!done.ok) return;
    c.status = "promoted";
    c.reason = reason;
    c.decidedAt = iso(Date.now());
    this.store.save(record);
    await this.emit(record, "promoted", { actor: planActor, reason, connection: c.connection, numbers, wave: c.wave });
  }

  /** Starts the current wave if it has not started; moves to the next when it is done; finishes after the last. */
  private async advance(record: PlanRecord): Promise<void> {
    const planActor = actorOf(record.id);
    for (;;) {
      const index = record.currentWave;
      const wave = record.waves[index];
      if (wave === undefined) {
        record.status = "finished";
        record.nextStepAt = null;
        const t = record.connections;
        const count = (s: string) => t.filter((c) => c.status === s).length;
        this.setStatus(
          record,
          planActor,
          `every wave done: ${count("promoted")} promoted, ${count("rolled-back")} rolled back, ${count("left")} left`,
          Date.now(),
        );
        this.store.save(record);
        await this.ctx.storage.deleteAlarm();
        await this.emit(record, "finished", { actor: planActor, reason: record.statusReason ?? "finished" });
        return;
      }
      const mine = record.connections.filter((c) => c.wave === index);
      if (wave.startedAt === undefined) {
        wave.startedAt = iso(Date.now());
        this.store.save(record);
      }
      for (const c of mine.filter((m) => m.status === "waiting")) await this.cutOver(record, c, wave);
      if (mine.some((c) => c.status === "soaking" || c.status === "waiting")) return;
      record.currentWave++;
      this.store.save(record);
    }
  }

  private async cutOver(record: PlanRecord, c: ConnectionRecord, wave: PlanRecord["waves"][number]): Promise<void> {
    const done = await writerOf(this.env).autopilotStep(
      {
        id: `${record.id}/${c.connection}/cutover`,
        action: "autopilot.cutover",
        connection: c.connection,
        state: "migrated",
        details: { plan: record.id, wave: c.wave, waveName: wave.name, soakMs: wave.soakMs, gates: wave.gates },
      },
      actorOf(record.id),
    );
    const now = Date.now();
    if (!done.ok) {
      c.status = "left";
      c.reason = `not cut over: ${done.detail}`;
      c.decidedAt = iso(now);
    } else if (done.value.route?.state !== "migrated") {
      c.status = "left";
      c.reason = `not cut over: its route is ${done.value.route === null ? "gone" : done.value.route.state}`;
      c.decidedAt = iso(now);
    } else if (done.value.applied && !done.value.changed) {
      // Someone else migrated it before its wave: not the plan's to judge or roll back.
      c.status = "left";
      c.reason = "already migrated by someone else before its wave; the plan leaves it alone";
      c.decidedAt = iso(now);
    } else {
      const since = Date.parse(done.value.since ?? iso(now));
      c.status = "soaking";
      c.since = iso(since);
      c.soakUntil = iso(since + wave.soakMs);
      c.reason = "cut over; waiting for logins";
    }
    this.store.save(record);
  }

  // ---- helpers --------------------------------------------------------------------

  private async setPaused(record: PlanRecord, actor: string, reason: string): Promise<void> {
    const now = Date.now();
    record.status = "paused";
    record.pausedAt = now;
    record.nextStepAt = null;
    this.setStatus(record, actor, reason, now);
    this.store.save(record);
    await this.ctx.storage.deleteAlarm();
    await this.emit(record, "paused", { actor, reason });
  }

  private setStatus(record: PlanRecord, actor: string, reason: string, at: number): void {
    record.statusReason = reason;
    record.statusBy = actor;
    record.statusAt = iso(at);
  }

  private notIn(record: PlanRecord | null, wanted: string, verb: string): Failure {
    if (record === null) return refuse(404, "No plan", "No autopilot plan has been submitted.");
    return refuse(409, `Cannot ${verb}`, `Plan ${record.id} is ${record.status}; only a ${wanted} plan can ${verb}.`);
  }

  private viewNow(): PlanView {
    const view = this.status();
    if (view === null) throw new Error("no plan after a change to it");
    return view;
  }

  /**
   * Records (the timeline GET shows), logs and notifies one event. notify (the optional
   * webhook) never throws and waits at most its timeout: a chat that is down never stops a plan.
   */
  private async emit(
    record: PlanRecord,
    kind: AutopilotEventKind,
    e: { actor: string; reason: string; connection?: string; numbers?: AutopilotNumbers; wave?: number },
  ): Promise<void> {
    const wave = e.wave ?? (record.waves[record.currentWave] === undefined ? null : record.currentWave);
    const waveName = wave === null ? undefined : record.waves[wave]?.name;
    const event: AutopilotEvent = {
      kind,
      planId: record.id,
      wave,
      ...(waveName === undefined ? {} : { waveName }),
      ...(e.connection === undefined ? {} : { connection: e.connection }),
      reason: e.reason,
      ...(e.numbers === undefined ? {} : { numbers: e.numbers }),
      actor: e.actor,
      at: iso(Date.now()),
    };
    this.store.addEvent(event);
    log({
      event: "autopilot",
      kind,
      planId: record.id,
      wave,
      ...(e.connection === undefined ? {} : { connection: e.connection }),
      reason: e.reason,
    });
    await notify(this.env, event);
  }
}

/** Why the autopilot cannot act now (the kill switch, shadow mode, Auth0 retired), or undefined. */
function pauseReason(settings: { killSwitch: { on: boolean }; mode: string }): string | undefined {
  if (settings.killSwitch.on) return "the kill switch is on";
  if (settings.mode !== "route") return `mode is ${settings.mode} (no login reaches the new provider)`;
  return undefined;
}

export type { Plan };
