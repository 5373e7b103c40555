/**
 * Bench-only helper Worker: writes a batch of KV entries from inside workerd.
 * Miniflare's Node-side KV proxy (getKVNamespace().put) costs a round trip
 * per key; a batch POSTed here costs one request per few hundred keys.
 *
 *   POST /seed?ns=<binding>&concurrency=<n>   body: [{ "key": ..., "value": ... }, ...]
 *
 * And a batch of traffic-counter rows, as an isolate's flush would send them
 * (bench/stats-read.ts), to one TrafficCounter shard:
 *
 *   POST /counters?shard=traffic-<n>          body: [CountRow, ...] (src/stats/rows.ts)
 */
interface CounterShards {
  idFromName(name: string): unknown;
  get(id: unknown): { add(rows: unknown[]): Promise<void> };
}
interface KvWriter {
  put(key: string, value: string): Promise<void>;
}

interface Entry {
  key: string;
  value: string;
}

function isEntries(value: unknown): value is Entry[] {
  return (
    Array.isArray(value) &&
    value.every(
      (e: unknown) =>
        typeof e === "object" &&
        e !== null &&
        typeof (e as Record<string, unknown>).key === "string" &&
        typeof (e as Record<string, unknown>).value === "string",
    )
  );
}

export default {
  async fetch(request: Request, env: Record<string, KvWriter | undefined>): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/counters") {
      const shards = (env as unknown as { TRAFFIC_COUNTER?: CounterShards }).TRAFFIC_COUNTER;
      const rows: unknown = await request.json();
      if (shards === undefined || !Array.isArray(rows))
        return new Response("no TRAFFIC_COUNTER, or not [rows]", { status: 400 });
      const shard = shards.get(shards.idFromName(url.searchParams.get("shard") ?? "traffic-0"));
      await shard.add(rows);
      return new Response(String(rows.length));
    }
    const kv = env[url.searchParams.get("ns") ?? ""];
    if (request.method !== "POST" || url.pathname !== "/seed" || kv === undefined) {
      return new Response("POST /seed?ns=<KV binding>", { status: 400 });
    }
    const entries: unknown = await request.json();
    if (!isEntries(entries)) return new Response("body must be [{key, value}]", { status: 400 });
    const concurrency = Math.max(1, Math.min(64, Number(url.searchParams.get("concurrency") ?? "8") || 8));
    let next = 0;
    const writer = async (): Promise<void> => {
      while (next < entries.length) {
        const entry = entries[next++];
        if (entry !== undefined) await kv.put(entry.key, entry.value);
      }
    };
    try {
      await Promise.all(Array.from({ length: concurrency }, writer));
    } catch (err) {
      return new Response(`put failed: ${err instanceof Error ? err.message : String(err)}`, { status: 500 });
    }
    return new Response(String(entries.length));
  },
};
