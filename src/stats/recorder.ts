/**
 * Records answer outcomes off the critical path. Each isolate adds to an
 * in-memory batch; one flusher per isolate sends the batch to a random
 * TrafficCounter shard at most `flushMs` after its first event, through
 * `ctx.waitUntil` of the request that started the batch, so the answer never
 * waits for it.
 *
 * Only that request's context holds the flush: its timer and its call to the
 * shard run in that context, and the runtime keeps a context with a pending
 * waitUntil (and so its isolate) alive until it settles. Later requests of the
 * batch only add to it; a waitUntil of theirs on the same promise would keep
 * thousands of finished contexts waiting on another context's promise for
 * `flushMs` and guard nothing more (bench/README.md, "The 307 path").
 *
 * Trade-off: an isolate evicted with an unsent batch loses at most `flushMs`
 * of its own counts. The counters are for watching a migration, not billing.
 */
import type { Env } from "../env";
import { log } from "../log";
import { emptyAuth0By, type CountRow, type LastSeen, type Tally } from "./rows";
import type { EvidenceKey, EvidenceRow } from "./evidence";
import { minuteOf, UNIDENTIFIED, type MarkedBounce, type Outcome } from "./outcome";

export interface RecorderConfig {
  shards: number;
  flushMs: number;
  /** Record logins' evidence (STATS_EVIDENCE); absent = yes. */
  evidence?: boolean;
}

/** Adds one outcome to a row (the rules of src/stats/outcome.ts's definitions). */
export function countInto(row: Tally, outcome: Outcome): void {
  if (outcome.kind === "bounce") row.fallback += 1;
  else if (outcome.kind === "login") {
    row[outcome.destination] += 1;
    if (outcome.destination === "auth0") row.auth0By[outcome.why ?? "other"] += 1;
    if (outcome.connection === UNIDENTIFIED) row.unidentified += 1;
  }
  if (outcome.kind === "login" && outcome.affinity === true) row.affinity += 1;
  if (outcome.kind === "bounce" && outcome.unserved === true) row.unserved = (row.unserved ?? 0) + 1;
  if (outcome.error) row.errors += 1;
}

export class Batch {
  /** Per minute × connection. */
  readonly rows = new Map<string, CountRow>();
  /** The newest callback per connection. */
  readonly last = new Map<string, LastSeen>();
  /** Logins per hour × connection × evidence key (src/stats/evidence.ts). */
  readonly evidence = new Map<string, EvidenceRow>();
  /** Bounces with a valid mark: counted by the shard that spends their mark (src/stats/spent-marks.ts). */
  readonly marked: MarkedBounce[] = [];
  readonly startedAt = Date.now();

  /** The minute of the last event and its text: a batch spans a few seconds, so it is mostly one. */
  private minuteStart = -1;
  private minuteText = "";

  /** Counts one outcome at `at` (ms); its evidence only if `withEvidence`. */
  add(outcome: Outcome, at: number, withEvidence = true): void {
    if (outcome.kind === "bounce" && outcome.markId !== undefined) {
      const { markId, ...rest } = outcome;
      this.marked.push({ markId, at, outcome: rest });
      return;
    }
    if (at < this.minuteStart || at >= this.minuteStart + 60_000) {
      this.minuteStart = at - (at % 60_000);
      this.minuteText = minuteOf(at);
    }
    const minute = this.minuteText;
    const key = `${minute}\u0000${outcome.connection}`;
    let row = this.rows.get(key);
    if (row === undefined) {
      row = {
        at: minute,
        connection: outcome.connection,
        auth0: 0,
        new: 0,
        fallback: 0,
        unidentified: 0,
        errors: 0,
        affinity: 0,
        unserved: 0,
        auth0By: emptyAuth0By(),
      };
      this.rows.set(key, row);
    }
    countInto(row, outcome);
    if (withEvidence && outcome.evidence !== undefined)
      this.addEvidence(minute.slice(0, 13), outcome.connection, outcome.evidence);
    const { connection, kind, destination, status, reason } = outcome;
    // The newest callback per connection: the existing record is updated, not replaced.
    const seen = this.last.get(connection);
    if (seen === undefined) {
      this.last.set(connection, { connection, at, kind, destination, status, reason });
    } else {
      seen.at = at;
      seen.kind = kind;
      seen.destination = destination;
      seen.status = status;
      seen.reason = reason;
    }
  }

  private addEvidence(hour: string, connection: string, key: EvidenceKey): void {
    const { shape, started, identifiedBy } = key;
    const id = `${hour}\u0000${connection}\u0000${shape}\u0000${started}\u0000${identifiedBy}`;
    const row = this.evidence.get(id);
    if (row === undefined) this.evidence.set(id, { at: hour, connection, shape, started, identifiedBy, logins: 1 });
    else row.logins += 1;
  }
}

let batch: Batch | undefined;
/** The flush that will send the current batch; cleared when it takes the batch. */
let pending: Promise<void> | undefined;

/** The shard (0 … shards − 1) that owns a mark's id: every replay of a mark meets its record there. */
export function markShard(markId: string, shards: number): number {
  return Number.parseInt(markId.slice(0, 8), 16) % shards;
}

export function shardName(index: number): string {
  return `traffic-${index}`;
}

/** `ctx` needs only `waitUntil` (Hono's `c.executionCtx` is narrower than the runtime's ExecutionContext). */
export function recordOutcome(
  env: Env,
  ctx: Pick<ExecutionContext, "waitUntil">,
  outcome: Outcome,
  config: RecorderConfig,
): void {
  batch ??= new Batch();
  batch.add(outcome, Date.now(), config.evidence !== false);
  if (pending === undefined) {
    pending = flushLater(env, config);
    ctx.waitUntil(pending);
  }
}

async function flushLater(env: Env, config: RecorderConfig): Promise<void> {
  // Always yield first: `pending` must be set before this takes the batch.
  const wait = (batch?.startedAt ?? Date.now()) + config.flushMs - Date.now();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
  const sending = batch;
  batch = undefined;
  // Events from here on belong to a new batch with its own flush.
  pending = undefined;
  if (sending === undefined) return;
  const counter = (shard: number) => env.TRAFFIC_COUNTER.get(env.TRAFFIC_COUNTER.idFromName(shardName(shard)));
  const sends: Array<Promise<void>> = [];
  if (sending.rows.size > 0) {
    const shard = Math.floor(Math.random() * config.shards);
    sends.push(
      counter(shard).add([...sending.rows.values()], [...sending.last.values()], [...sending.evidence.values()]),
    );
  }
  // Each marked bounce to the shard that owns its mark's id, where its replays meet it.
  const byShard = new Map<number, MarkedBounce[]>();
  for (const b of sending.marked) {
    const shard = markShard(b.markId, config.shards);
    byShard.set(shard, [...(byShard.get(shard) ?? []), b]);
  }
  for (const [shard, bounces] of byShard) sends.push(counter(shard).spendBounces(bounces));
  const results = await Promise.allSettled(sends);
  for (const r of results) {
    if (r.status === "fulfilled") continue;
    const err: unknown = r.reason;
    log({
      event: "stats-error",
      message: `counter flush failed: ${err instanceof Error ? err.message.slice(0, 200) : "error"}`,
    });
  }
}
