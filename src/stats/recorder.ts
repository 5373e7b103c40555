/**
 * Records callback outcomes off the critical path. Each isolate adds to an
 * in-memory batch; one flusher per isolate sends the batch to a random
 * TrafficCounter shard at most `flushMs` after its first event, through
 * `ctx.waitUntil`, so the callback's answer never waits for it.
 *
 * Trade-off: an isolate evicted with an unsent batch loses at most `flushMs`
 * of its own counts. The counters are for watching a migration, not billing.
 */
import type { Env } from "../env";
import { log } from "../log";
import type { CountRow } from "./counter-do";
import { hourOf, type Outcome } from "./outcome";

export interface RecorderConfig {
  shards: number;
  flushMs: number;
}

class Batch {
  readonly rows = new Map<string, CountRow>();
  readonly startedAt = Date.now();

  add(outcome: Outcome, at: number): void {
    const hour = hourOf(at);
    const key = `${hour}\u0000${outcome.connection}`;
    let row = this.rows.get(key);
    if (row === undefined) {
      row = { hour, connection: outcome.connection, auth0: 0, new: 0, fallback: 0, unidentified: 0, errors: 0 };
      this.rows.set(key, row);
    }
    row[outcome.bucket] += 1;
    if (outcome.error) row.errors += 1;
  }
}

let batch: Batch | undefined;
/** The flush that will send the current batch; cleared when it takes the batch. */
let pending: Promise<void> | undefined;

export function shardName(index: number): string {
  return `traffic-${index}`;
}

export function recordOutcome(env: Env, ctx: ExecutionContext, outcome: Outcome, config: RecorderConfig): void {
  batch ??= new Batch();
  batch.add(outcome, Date.now());
  pending ??= flushLater(env, config);
  ctx.waitUntil(pending);
}

async function flushLater(env: Env, config: RecorderConfig): Promise<void> {
  // Always yield first: `pending` must be set before this takes the batch.
  const wait = (batch?.startedAt ?? Date.now()) + config.flushMs - Date.now();
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
  const sending = batch;
  batch = undefined;
  // Events from here on belong to a new batch with its own flush.
  pending = undefined;
  if (sending === undefined || sending.rows.size === 0) return;
  const shard = Math.floor(Math.random() * config.shards);
  try {
    await env.TRAFFIC_COUNTER.get(env.TRAFFIC_COUNTER.idFromName(shardName(shard))).add([...sending.rows.values()]);
  } catch (err) {
    log({
      event: "stats-error",
      message: `counter flush failed: ${err instanceof Error ? err.message.slice(0, 200) : "error"}`,
    });
  }
}
