/** Small helpers shared by the benchmark modules: progress lines, numbers, processes. */
import { spawn } from "node:child_process";

// performance.now() counts from process start, so the total includes loading tsx, wrangler and miniflare.
export function elapsed(): string {
  return `${(performance.now() / 1000).toFixed(1)}s`;
}

export function say(message: string): void {
  console.log(`[${elapsed().padStart(6)}] ${message}`);
}

export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause === undefined ? "" : ` (cause: ${describeError(err.cause)})`;
  return `${err.stack ?? err.message}${cause}`;
}

export function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}

export function pickFrom<T>(items: readonly T[]): () => T {
  if (items.length === 0) throw new Error("nothing to pick from");
  return () => items[Math.floor(Math.random() * items.length)] as T;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? NaN;
}

/** The median of a few numbers (the mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

export function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "-";
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function addCounts(into: Record<string, number>, from: Record<string, number> | Map<string, number>): void {
  const entries = from instanceof Map ? from.entries() : Object.entries(from);
  for (const [key, n] of entries) into[key] = (into[key] ?? 0) + n;
}

/** A left-aligned first column and right-aligned others, padded to the widest cell. */
export function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
}

export function runCommand(command: string, commandArgs: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, { stdio: ["ignore", "ignore", "pipe"], cwd });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${commandArgs.join(" ")} exited with ${code}: ${stderr.slice(0, 500)}`));
    });
  });
}
