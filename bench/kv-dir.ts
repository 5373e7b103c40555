/**
 * Miniflare's KV is SQLite plus one blob file per value. It is kept on tmpfs
 * when there is one, in a directory of our own (removed at the end, also on
 * exits that skip the async cleanup), so a seeded KV can be snapshotted.
 */
import { accessSync, constants as fsConstants, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface KvDir {
  /** Where Miniflare keeps KV: <root>/kv, with <root> its resourcePersistencePath. */
  persist: string;
  /** Where it lives, for the report. */
  storage: string;
  remove(): void;
}

export function makeKvDir(): KvDir {
  let base = os.tmpdir();
  try {
    accessSync("/dev/shm", fsConstants.W_OK);
    base = "/dev/shm";
  } catch {
    // keep the default temp directory
  }
  const root = mkdtempSync(path.join(base, "callback-router-bench-"));
  const persist = path.join(root, "kv");
  mkdirSync(persist, { recursive: true });
  const remove = (): void => rmSync(root, { recursive: true, force: true });
  process.on("exit", remove);
  return { persist, storage: base === "/dev/shm" ? "/dev/shm (tmpfs)" : base, remove };
}
