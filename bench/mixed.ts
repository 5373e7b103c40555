/**
 * Scenario "mixed": sustained mixed load on a router whose route table changes
 * under it through the management API, loopback only, bounded in time.
 *
 * - The table (default 2 000 routes) is loaded with POST /__router/v1/import?mode=replace,
 *   through the RouteTableWriter Durable Object, which writes it through to KV.
 * - Load (autocannon on the load generator's thread, bench/mixed-load.ts; each request's kind drawn at random):
 *     60 %  GET  /login/callback?connection=<a connection migrated at import time>
 *     20 %  POST /login/callback?connection=<a connection legacy at import time>, ~8 KB SAML form
 *     20 %  GET  /authorize?…  (pass-through)
 * - Meanwhile bench/table-changes.ts flips routes and the settings mode through the API.
 *
 * Since routes flip, a callback may rightly be answered 307 or 200. Errors are
 * only what the Worker must never do: a 5xx, a socket error or timeout, a
 * redirect whose Location is not https on the allow-listed target host, any
 * other status (callbacks: 307 or 200; pass-through: 200). Every API change
 * must be answered 2xx; afterwards the API's counts must match the changes
 * made, and flipped connections must be answered by their final state.
 */
import { randomBytes } from "node:crypto";
import { ADMIN_PREFIX, AdminApi, describeAnswer } from "./admin-api";
import { generateTable, samlPostBody, type GeneratedTable } from "./fixtures";
import { check } from "./load";
import type { LoadGenerator } from "./load-generator";
import { FORM, locationProblem, SHARES } from "./mixed-load";
import type { AfterRun, MixedLoad, MixedResult } from "./mixed-report";
import { TableChanges, type FlipState } from "./table-changes";
import { describeError, firstLine, fmt, say, sleep } from "./util";

/** The mixed router's isolate cache (wrangler.toml's local value): short, so changes show within the run. */
export const MIXED_ROUTE_CACHE_SECONDS = 2;

/** A fresh management API token for this run (43 characters). */
export function newAdminToken(): string {
  return randomBytes(32).toString("base64url");
}

export interface MixedOptions {
  /** The mixed router Worker (its own KV namespace, ADMIN_TOKEN and ROUTE_WRITER). */
  base: URL;
  adminToken: string;
  routes: number;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  changeEveryMs: number;
  authorizePath: string;
  /** Runs the load (its own thread). */
  generator: LoadGenerator;
}

export class MixedScenario {
  private readonly api: AdminApi;
  private readonly table: GeneratedTable;
  private readonly changes: TableChanges;
  private seedInfo: MixedResult["seed"] = { importStatus: 0, importMs: NaN, kvSettleMs: NaN };
  private preflightProblems: string[] = [];

  constructor(private readonly options: MixedOptions) {
    this.api = new AdminApi(options.base, options.adminToken);
    this.table = generateTable(options.routes);
    const states = new Map<string, FlipState>();
    for (const c of this.table.migrated) states.set(c, "migrated");
    for (const c of this.table.legacy) states.set(c, "legacy");
    this.changes = new TableChanges(this.api, states);
  }

  private get routeCounts(): MixedResult["routes"] {
    const { migrated, legacy } = this.table;
    const total = this.options.routes;
    return {
      total,
      migrated: migrated.length,
      legacy: legacy.length,
      rollout: total - migrated.length - legacy.length,
    };
  }

  /** Loads the table through the management API (the Durable Object then writes KV, partly in alarms). */
  async seed(): Promise<void> {
    const answer = await this.api.call("POST", "/import?mode=replace", this.table.file);
    this.seedInfo.importStatus = answer.status;
    this.seedInfo.importMs = answer.ms;
    if (answer.status !== 200) {
      throw new Error(`mixed: POST ${ADMIN_PREFIX}/import?mode=replace answered ${describeAnswer(answer)}`);
    }
    const body = answer.json as { diff?: { added?: unknown[] }; kvPending?: number } | undefined;
    say(
      `mixed: imported ${this.options.routes} routes with POST ${ADMIN_PREFIX}/import?mode=replace in ${fmt(answer.ms, 0)} ms ` +
        `(${body?.diff?.added?.length ?? "?"} added, ${body?.kvPending ?? "?"} KV writes left to the writer's alarm)`,
    );
  }

  /** After seed(): waits until KV holds the table, then checks a few answers in detail. */
  async settleAndPreflight(): Promise<string[]> {
    this.seedInfo.kvSettleMs = await this.api.waitKvSettled(60_000);
    const base = this.options.base;
    const problems: Array<string | undefined> = [];
    for (const connection of this.table.migrated.slice(0, 5)) {
      const url = new URL(`/login/callback?connection=${connection}`, base);
      problems.push(await check(url, { method: "GET" }, 307, (res) => locationProblem(res.headers.get("location"))));
    }
    const legacy = this.table.legacy[0] ?? "";
    const body = samlPostBody(legacy);
    const bytes = String(Buffer.byteLength(body));
    problems.push(
      await check(
        new URL(`/login/callback?connection=${legacy}`, base),
        { method: "POST", headers: { "content-type": FORM }, body },
        200,
        (res) =>
          res.headers.get("x-received-bytes") === bytes
            ? undefined
            : `origin received ${res.headers.get("x-received-bytes")} bytes of a ${bytes}-byte POST`,
      ),
    );
    problems.push(await check(new URL(this.options.authorizePath, base), { method: "GET" }, 200, () => undefined));
    this.preflightProblems = problems.filter((p): p is string => p !== undefined);
    say(
      `mixed: KV held the table ${fmt(this.seedInfo.kvSettleMs / 1000, 1)} s later (after the warm-ups); preflight ` +
        (this.preflightProblems.length === 0 ? "ok" : `FAILED: ${this.preflightProblems.slice(0, 3).join("; ")}`),
    );
    return this.preflightProblems;
  }

  /** Mixed load without table changes, to warm the router isolate and the connections. */
  async warmUp(): Promise<void> {
    say(`mixed: warm-up ${this.options.warmupSeconds}s (no table changes)`);
    await this.load(this.options.warmupSeconds, undefined);
  }

  /** The measured run, with the table changing under it. */
  async measure(): Promise<MixedLoad> {
    const { durationSeconds, changeEveryMs } = this.options;
    say(
      `mixed: measuring ${durationSeconds}s; meanwhile a PATCH /routes/{connection} every ${changeEveryMs} ms and ` +
        `PUT /settings mode route -> shadow -> route`,
    );
    return this.load(durationSeconds, this.changes);
  }

  /** The whole result, once measure() and afterRun() are done. */
  result(
    load: MixedLoad,
    afterRun: AfterRun,
    worker: Pick<MixedResult, "workerDecisions" | "workerProblems">,
  ): Omit<MixedResult, "failed"> {
    return {
      ...load,
      routes: this.routeCounts,
      seed: this.seedInfo,
      settings: {
        connections: this.options.connections,
        warmupSeconds: this.options.warmupSeconds,
        durationSeconds: this.options.durationSeconds,
        changeEveryMs: this.options.changeEveryMs,
        routeCacheSeconds: MIXED_ROUTE_CACHE_SECONDS,
        shares: SHARES,
      },
      api: this.changes.summary(),
      afterRun,
      preflightProblems: this.preflightProblems,
      ...worker,
    };
  }

  /** The mixed load for `seconds` on the load generator's thread; with `changes`, the API change loop runs alongside. */
  private async load(seconds: number, changes: TableChanges | undefined): Promise<MixedLoad> {
    const loop = changes?.run(seconds * 1000, this.options.changeEveryMs) ?? Promise.resolve();
    try {
      return await this.options.generator.mixed({
        base: this.options.base.href,
        connections: this.options.connections,
        seconds,
        migrated: this.table.migrated,
        legacy: this.table.legacy,
        authorizePath: this.options.authorizePath,
      });
    } finally {
      changes?.stop();
      await loop;
    }
  }

  /** Callbacks the router's traffic counters have recorded so far (GET /stats totals). */
  async countedCallbacks(): Promise<number> {
    const answer = await this.api.call("GET", "/stats");
    const total = (answer.json as { totals?: { callbacks?: number } } | undefined)?.totals?.callbacks;
    if (answer.status !== 200 || typeof total !== "number") throw new Error(`GET /stats: ${describeAnswer(answer)}`);
    return total;
  }

  /**
   * After measure(): the API's route counts match the changes made, and once KV and the
   * isolate cache have caught up, the last flipped connections answer by their final state.
   */
  async afterRun(): Promise<AfterRun> {
    const problems: string[] = [];
    const states = this.changes.states;
    const expectedCounts: Record<string, number> = { legacy: 0, migrated: 0, rollout: this.routeCounts.rollout };
    for (const state of states.values()) expectedCounts[state] = (expectedCounts[state] ?? 0) + 1;
    const status = await this.api.call("GET", "/status");
    const apiCounts = (status.json as { routes?: Record<string, number> } | undefined)?.routes;
    if (status.status !== 200 || apiCounts === undefined) {
      problems.push(`GET /status: ${describeAnswer(status)}`);
    } else if (Object.keys(expectedCounts).some((s) => apiCounts[s] !== expectedCounts[s])) {
      problems.push(
        `the API counts ${JSON.stringify(apiCounts)}; the changes made imply ${JSON.stringify(expectedCounts)}`,
      );
    }
    let kvSettleMs = NaN;
    try {
      kvSettleMs = await this.api.waitKvSettled(30_000);
    } catch (err) {
      problems.push(firstLine(describeError(err)));
    }
    await sleep(MIXED_ROUTE_CACHE_SECONDS * 1000 + 500);
    const sample = [...this.changes.flipped].slice(-20);
    let converged = 0;
    for (const connection of sample) {
      const state = states.get(connection);
      const expected = state === "migrated" ? 307 : 200;
      const problem = await check(
        new URL(`/login/callback?connection=${connection}`, this.options.base),
        { method: "GET" },
        expected,
        (res) => (expected === 307 ? locationProblem(res.headers.get("location")) : undefined),
      );
      if (problem === undefined) converged++;
      else if (problems.length < 8) problems.push(`after the run (${connection} is ${state}): ${problem}`);
    }
    return { expectedCounts, apiCounts, kvSettleMs, sampled: sample.length, converged, problems };
  }
}
