/**
 * The writer's write-through to KV, the edge-read replica the callback router reads.
 * The outbox (outbox.ts) holds the keys a change queued, in the change's own
 * transaction; this writes them. One flush runs at a time; writes of one key are
 * chained, so the last write to land is the latest value; an entry is settled only if
 * it did not change meanwhile. The settings key goes first (flushSettings writes it at
 * once, beside any flush; a batch writes it before its routes). Failed writes stay
 * queued and the Durable Object's alarm retries them.
 */
import { log } from "../log";
import { SETTINGS_KEY } from "../table/kv-layout";
import type { TableDb } from "./table-db";

/** KV writes done inside one request; the rest go to the alarm. */
const FLUSH_BATCH = 500;
const FLUSH_PARALLELISM = 25;
const RETRY_MS = 2_000;

export class KvWriteThrough {
  private flushQueue: Promise<unknown> = Promise.resolve();
  /** KV writes in flight, by key (writeKey). */
  private readonly writing = new Map<string, Promise<boolean>>();

  constructor(
    private readonly db: TableDb,
    private readonly kv: KVNamespace,
    /** For the alarm that writes what one request did not. */
    private readonly storage: DurableObjectStorage,
  ) {}

  /**
   * A settings change (the kill switch above all) reaches KV at once: the
   * settings key is written now, not behind route writes still queued from an
   * import; those are left to the alarm, set to run right away. Returns how
   * many keys are still queued.
   */
  async flushSettings(): Promise<number> {
    await this.writeKey(SETTINGS_KEY);
    const left = this.db.outbox.pendingCount();
    if (left > 0) await this.storage.setAlarm(Date.now());
    return left;
  }

  /** Writes queued keys to KV (one flush at a time); returns how many are still queued. */
  flush(): Promise<number> {
    const run = this.flushQueue.then(() => this.flushOnce());
    this.flushQueue = run.catch(() => undefined);
    return run;
  }

  private async flushOnce(): Promise<number> {
    const batch = this.db.outbox.pending(FLUSH_BATCH);
    let failed = false;
    let i = 0;
    // The settings key heads the batch (Outbox.pending) and is written before any route:
    // an import's settings are live before its routes are.
    if (batch[0]?.key === SETTINGS_KEY) {
      failed = !(await this.writeKey(SETTINGS_KEY));
      i = 1;
    }
    for (; i < batch.length; i += FLUSH_PARALLELISM) {
      const written = await Promise.all(batch.slice(i, i + FLUSH_PARALLELISM).map(({ key }) => this.writeKey(key)));
      if (written.includes(false)) failed = true;
    }
    const left = this.db.outbox.pendingCount();
    // More queued: the next batch at once (a 10 000-route import is 20+ batches); after a
    // failed KV write, a pause before trying again.
    if (left > 0) await this.storage.setAlarm(Date.now() + (failed ? RETRY_MS : 0));
    return left;
  }

  /**
   * Writes `key`'s current value to KV, after any write of the same key still
   * in flight, so the last write to land is the latest value (flushSettings
   * runs beside a batch). False when KV refused it (it stays queued).
   */
  private writeKey(key: string): Promise<boolean> {
    // A failed earlier write (a storage read that threw) must not skip this one, and the
    // clean-up must not leave a rejection unhandled: both run on either outcome.
    const write = () => this.putKey(key);
    const run = (this.writing.get(key) ?? Promise.resolve(true)).then(write, write);
    this.writing.set(key, run);
    const forget = () => {
      if (this.writing.get(key) === run) this.writing.delete(key);
    };
    run.then(forget, forget);
    return run;
  }

  private async putKey(key: string): Promise<boolean> {
    // Read together, with no await between: the value and the change it settles.
    const seq = this.db.outbox.seqOf(key);
    if (seq === undefined) return true;
    const value = this.db.kvValue(key);
    try {
      if (value === null) await this.kv.delete(key);
      else await this.kv.put(key, value);
      this.db.outbox.settle(key, seq);
      return true;
    } catch (err) {
      log({
        event: "kv-error",
        message: `KV write of ${key.split(":")[0]} key failed: ${err instanceof Error ? err.message.slice(0, 200) : "error"}`,
      });
      return false;
    }
  }
}
