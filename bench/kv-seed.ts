/**
 * KV seeding through the seeder Worker (bench/seed-worker.ts), and the
 * snapshot of a seeded KV (saved under .bench/kv-snapshots/, restored when
 * the generated entries are identical).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describeError, firstLine, say, sleep } from "./util";

export const SEED_BATCH = 500;
export const SEED_REQUESTS_IN_FLIGHT = 2;
export const SEED_PUTS_PER_REQUEST = 8;

export interface KvEntry {
  key: string;
  value: string;
}

export async function seedKv(
  seeder: URL,
  binding: string,
  entries: KvEntry[],
  progress: boolean,
): Promise<{ ms: number; retries: number }> {
  const t0 = performance.now();
  let next = 0;
  let written = 0;
  let reported = 0;
  let retries = 0;
  const lane = async (): Promise<void> => {
    while (next < entries.length) {
      const start = next;
      next += SEED_BATCH;
      const batch = entries.slice(start, start + SEED_BATCH);
      const url = new URL(`/seed?ns=${binding}&concurrency=${SEED_PUTS_PER_REQUEST}`, seeder);
      const body = JSON.stringify(batch);
      // A put is idempotent, so a batch whose request failed is simply sent again.
      for (let attempt = 1; ; attempt++) {
        try {
          const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
          const text = await res.text();
          if (res.ok && text === String(batch.length)) break;
          throw new Error(`${res.status} ${text.slice(0, 200)}`);
        } catch (err) {
          if (attempt >= 3) throw new Error(`seeding ${binding} failed at entry ${start}: ${describeError(err)}`);
          retries++;
          say(`  seeding batch at ${start} failed (${firstLine(describeError(err))}), retrying`);
          await sleep(250 * attempt);
        }
      }
      written += batch.length;
      if (progress && written - reported >= entries.length / 4) {
        reported = written;
        const s = (performance.now() - t0) / 1000;
        say(`  seeded ${written}/${entries.length} (${Math.round(written / s)} puts/s)`);
      }
    }
  };
  await Promise.all(Array.from({ length: SEED_REQUESTS_IN_FLIGHT }, lane));
  return { ms: performance.now() - t0, retries };
}

export interface SnapshotMeta {
  entries: number;
  seedMs: number;
  createdAt: string;
}

export function snapshotKey(entries: KvEntry[], miniflareVersion: string): string {
  const hash = createHash("sha256").update(`kv-snapshot v1\0miniflare ${miniflareVersion}\0`);
  for (const e of entries) hash.update(`${e.key}\0${e.value}\n`);
  return hash.digest("hex").slice(0, 16);
}

export function readSnapshotMeta(file: string): SnapshotMeta | undefined {
  try {
    const meta = JSON.parse(readFileSync(file, "utf8")) as Partial<SnapshotMeta>;
    if (typeof meta.entries === "number" && typeof meta.seedMs === "number" && typeof meta.createdAt === "string") {
      return { entries: meta.entries, seedMs: meta.seedMs, createdAt: meta.createdAt };
    }
  } catch {
    // missing or unreadable: no snapshot
  }
  return undefined;
}
