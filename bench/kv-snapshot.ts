/**
 * Seeding the 100 000-route KV takes a minute or more (Miniflare writes each
 * value as a Durable Object transaction plus a blob file). The seeded KV is
 * saved under .bench/kv-snapshots/ and restored on later runs when the
 * generated entries (and Miniflare's version) are identical.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { readSnapshotMeta, snapshotKey, type KvEntry, type SnapshotMeta } from "./kv-seed";
import { ROOT, SNAPSHOT_DIR } from "./settings";
import { describeError, firstLine, runCommand, say } from "./util";

export interface Seeding {
  entries: number;
  /** Seeding time in this run, or the original seeding time of the restored snapshot. */
  ms: number;
  retries: number;
  restoredFromSnapshot: boolean;
  restoreMs: number;
  snapshotSavedMs: number;
  snapshot: string;
}

export class KvSnapshot {
  private readonly tar: string;
  private readonly metaFile: string;
  readonly seeding: Seeding;

  constructor(
    entries: KvEntry[],
    miniflareVersion: string,
    private readonly kvPersist: string,
  ) {
    const id = snapshotKey(entries, miniflareVersion);
    this.tar = path.join(SNAPSHOT_DIR, `${id}.tar.gz`);
    this.metaFile = path.join(SNAPSHOT_DIR, `${id}.json`);
    this.seeding = {
      entries: entries.length,
      ms: 0,
      retries: 0,
      restoredFromSnapshot: false,
      restoreMs: 0,
      snapshotSavedMs: 0,
      snapshot: path.relative(ROOT, this.tar),
    };
  }

  /** Unpacks the snapshot into the KV directory when there is one; true when it did. */
  async restore(fresh: boolean): Promise<boolean> {
    const meta = fresh ? undefined : readSnapshotMeta(this.metaFile);
    if (meta === undefined || !existsSync(this.tar)) return false;
    const t0 = performance.now();
    await runCommand("tar", ["-xzf", this.tar, "-C", this.kvPersist]);
    this.seeding.restoredFromSnapshot = true;
    this.seeding.restoreMs = performance.now() - t0;
    this.seeding.ms = meta.seedMs;
    say(
      `restored the seeded ${this.seeding.entries}-entry KV from ${this.seeding.snapshot} in ` +
        `${(this.seeding.restoreMs / 1000).toFixed(1)} s (seeding it took ${(meta.seedMs / 1000).toFixed(1)} s on ` +
        `${meta.createdAt}; --fresh-kv to seed again)`,
    );
    return true;
  }

  /** After workerd has exited (its files are complete): keeps a freshly seeded KV for the next run. */
  async saveIfSeeded(): Promise<void> {
    if (this.seeding.restoredFromSnapshot || this.seeding.ms <= 0) return;
    try {
      const t0 = performance.now();
      mkdirSync(SNAPSHOT_DIR, { recursive: true });
      for (const old of readdirSync(SNAPSHOT_DIR)) rmSync(path.join(SNAPSHOT_DIR, old), { force: true });
      await runCommand("tar", ["-czf", `${this.tar}.partial`, "-C", this.kvPersist, "."]);
      renameSync(`${this.tar}.partial`, this.tar);
      const meta: SnapshotMeta = {
        entries: this.seeding.entries,
        seedMs: Math.round(this.seeding.ms),
        createdAt: new Date().toISOString(),
      };
      writeFileSync(this.metaFile, `${JSON.stringify(meta)}\n`);
      this.seeding.snapshotSavedMs = performance.now() - t0;
      say(
        `saved the seeded KV to ${this.seeding.snapshot} in ${(this.seeding.snapshotSavedMs / 1000).toFixed(1)} s ` +
          "(reused by the next run)",
      );
    } catch (err) {
      say(`could not save the KV snapshot: ${firstLine(describeError(err))}`);
    }
  }
}
