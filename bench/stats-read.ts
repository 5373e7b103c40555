/**
 * "stats": how fast GET /stats answers with 10 000 real connections × 24 h of counts
 * (issue 22: bounded storage, /stats stays fast).
 *
 * On router-import (its admin, its TrafficCounter shards): the routes of the "import"
 * scenario (imported here when it did not run), then one count row per connection per
 * hour for the last 24 h (one minute of each hour, some logins to each side, a few
 * bounces), sent to the 8 shards in batches as isolates flush them (through the seeder
 * Worker). Then GET /stats (the default window: 24 h, 1h steps, the first page of 100)
 * STATS_READS times one after another, and once with limit=1000; the median is the figure.
 */
import { ADMIN_PREFIX, AdminApi, describeAnswer } from "./admin-api";
import { generateTable } from "./fixtures";
import { fmt, median, say } from "./util";

export interface StatsRead {
  connections: number;
  hours: number;
  rowsSeeded: number;
  seedMs: number;
  reads: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** The default page's answer size, bytes. */
  bytes: number;
  connectionsTotal: number;
  /** The median of each phase the API reports (Server-Timing), ms. */
  phases: Record<string, number>;
  /** One read with limit=1000: time and size. */
  bigPageMs: number;
  bigPageBytes: number;
}

const HOURS = 24;
const SHARDS = 8;
const BATCH = 5_000;
const STATS_READS = 15;

export async function measureStatsRead(
  base: URL,
  seeder: URL,
  adminToken: string,
  connections: number,
): Promise<StatsRead> {
  const api = new AdminApi(base, adminToken);
  const table = generateTable(connections);
  const status = await api.call("GET", "/status");
  const routes = (status.json as { routes?: Record<string, number> } | undefined)?.routes ?? {};
  if (Object.values(routes).reduce((a, b) => a + b, 0) < connections) {
    say(`stats: importing ${connections} routes`);
    const imported = await api.call("POST", "/import?mode=replace", table.file);
    if (imported.status !== 200) throw new Error(`stats: POST /import answered ${describeAnswer(imported)}`);
  }
  const names = table.file.routes.map((r) => r.connection);
  const now = Date.now();
  const rows = [];
  for (let h = 0; h < HOURS; h++) {
    const at = new Date(now - h * 3_600_000).toISOString().slice(0, 16);
    for (const [i, connection] of names.entries()) {
      const auth0 = (i + h) % 3;
      const sent = (i * 7 + h) % 5;
      const auth0By = { killSwitch: 0, shadow: 0, affinity: 0, route: auth0, invalid: 0, unavailable: 0, other: 0 };
      rows.push({
        at,
        connection,
        auth0,
        new: sent,
        fallback: sent > 3 ? 1 : 0,
        unidentified: 0,
        errors: 0,
        affinity: 0,
        auth0By,
      });
    }
  }
  say(`stats: seeding ${rows.length} counter rows (${connections} connections × ${HOURS} h) into ${SHARDS} shards`);
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += BATCH) {
    const url = new URL(`/counters?shard=traffic-${(i / BATCH) % SHARDS}`, seeder);
    const res = await fetch(url, { method: "POST", body: JSON.stringify(rows.slice(i, i + BATCH)) });
    if (!res.ok) throw new Error(`stats: seeding counters answered ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  }
  const seedMs = performance.now() - t0;

  const phases = new Map<string, number[]>();
  const read = async (query: string): Promise<{ ms: number; bytes: number; total: number }> => {
    const t = performance.now();
    const res = await fetch(new URL(`${ADMIN_PREFIX}/stats${query}`, base), {
      headers: { authorization: `Bearer ${adminToken}` },
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    const ms = performance.now() - t;
    if (res.status !== 200) throw new Error(`stats: GET /stats${query} answered ${res.status} ${text.slice(0, 300)}`);
    // The API's own phases (Server-Timing: sums, flags, report, last-seen).
    for (const part of (res.headers.get("server-timing") ?? "").split(",")) {
      const m = /^\s*([\w-]+);dur=(\d+(?:\.\d+)?)/.exec(part);
      if (m?.[1] !== undefined) phases.set(m[1], [...(phases.get(m[1]) ?? []), Number(m[2])]);
    }
    const report = JSON.parse(text) as { connectionsTotal?: number };
    return { ms, bytes: text.length, total: report.connectionsTotal ?? 0 };
  };
  await read("");
  await read("");
  const times: number[] = [];
  let last = { ms: 0, bytes: 0, total: 0 };
  for (let i = 0; i < STATS_READS; i++) {
    last = await read("");
    times.push(last.ms);
  }
  const phaseMedians = Object.fromEntries([...phases].map(([name, values]) => [name, median(values)]));
  const big = await read("?limit=1000");
  const result: StatsRead = {
    connections,
    hours: HOURS,
    rowsSeeded: rows.length,
    seedMs,
    reads: STATS_READS,
    medianMs: median(times),
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
    bytes: last.bytes,
    connectionsTotal: last.total,
    phases: phaseMedians,
    bigPageMs: big.ms,
    bigPageBytes: big.bytes,
  };
  say(`stats: GET /stats median ${fmt(result.medianMs, 0)} ms over ${STATS_READS} reads`);
  return result;
}

/** The report line. */
export function statsReadLine(s: StatsRead): string {
  return (
    `GET /stats with ${s.connections} connections × ${s.hours} h (${s.rowsSeeded} counter rows in 8 shards): ` +
    `median ${fmt(s.medianMs, 0)} ms (min ${fmt(s.minMs, 0)}, max ${fmt(s.maxMs, 0)}, ${s.reads} reads), ` +
    `${fmt(s.bytes / 1024, 1)} KiB for the first page of 100 of ${s.connectionsTotal}; ` +
    `limit=1000: ${fmt(s.bigPageMs, 0)} ms, ${fmt(s.bigPageBytes / 1024, 1)} KiB; ` +
    `API phases (median ms): ${Object.entries(s.phases)
      .map(([name, ms]) => `${name} ${fmt(ms, 0)}`)
      .join(", ")}`
  );
}
