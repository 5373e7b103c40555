/**
 * One autocannon run against one Worker, with every response's latency and status kept.
 * `npm run bench` calls it on the load generator's own thread (bench/load-thread.ts);
 * `bench:profile` and `bench:affinity` call it in-process. A run's LoadSpec is plain data,
 * so it can be posted to that thread.
 */
import autocannon, { type Options, type RequestSpec, type Result } from "autocannon";
import aggregateResult from "autocannon/lib/aggregateResult.js";
import histUtil from "autocannon/lib/histUtil.js";

/** Latencies in milliseconds, grown as needed. */
export class Samples {
  private data = new Float64Array(1 << 12);
  count = 0;

  add(ms: number): void {
    if (this.count === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.count++] = ms;
  }

  sorted(): Float64Array {
    return this.data.slice(0, this.count).sort();
  }
}

/** Each request's path: `prefix` + one of `choices`, drawn at random per request. */
export interface PathChoices {
  prefix: string;
  choices: readonly string[];
}

/** Grown as needed, like Samples. */
class PickLog {
  private index = new Uint32Array(1 << 12);
  private atMs = new Float64Array(1 << 12);
  private count = 0;

  add(i: number): void {
    if (this.count === this.index.length) {
      const index = new Uint32Array(this.index.length * 2);
      index.set(this.index);
      this.index = index;
      const atMs = new Float64Array(this.atMs.length * 2);
      atMs.set(this.atMs);
      this.atMs = atMs;
    }
    this.index[this.count] = i;
    this.atMs[this.count++] = Date.now();
  }

  done(): Picks {
    return { count: this.count, index: this.index.slice(0, this.count), atMs: this.atMs.slice(0, this.count) };
  }
}

export interface LoadSpec {
  connections: number;
  expectStatus: number;
  /** Method, path, headers and body only (no hooks: they cannot cross threads). */
  request: RequestSpec;
  /** Each request's path; `request.path` for every request when absent. */
  paths?: PathChoices;
}

/** Which of `paths.choices` each request used, and when it was built (Date.now(), ms), in order. */
export interface Picks {
  count: number;
  index: Uint32Array;
  atMs: Float64Array;
}

export interface RunStats {
  responses: number;
  seconds: number;
  /** Ascending. */
  latencies: Float64Array;
  statusCounts: Record<string, number>;
  wrongStatus: number;
  status5xx: number;
  timeouts: number;
  socketErrors: Record<string, number>;
  autocannon: Result;
  /** CPU time (user + system, µs) of the thread that ran autocannon, over the run. */
  generatorCpuUs: number;
  /** With `paths` only. */
  picks?: Picks;
}

/**
 * autocannon's result as it gives it on the main thread. Off the main thread (the load
 * generator's thread) it hands back its raw result: the histograms base64-encoded, for its
 * `workers` mode's parent to aggregate. This aggregates it the way autocannon does there,
 * with the run's own per-second request and throughput histograms.
 */
export function aggregated(result: Result, options: Options): Result {
  const raw = result as unknown as Partial<Record<"latencies" | "requests" | "throughput", unknown>>;
  if (typeof raw.latencies !== "string") return result;
  return aggregateResult(result, options, {
    requests: histUtil.decodeHist(raw.requests as string),
    throughput: histUtil.decodeHist(raw.throughput as string),
  });
}

/** Counts socket errors by code; autocannon counts timeouts itself. */
export function countSocketError(into: Record<string, number>, error: Error): void {
  if (error.message === "request timed out") return;
  const code = (error as NodeJS.ErrnoException).code ?? error.message;
  into[code] = (into[code] ?? 0) + 1;
}

export function runLoad(base: URL, spec: LoadSpec, seconds: number): Promise<RunStats> {
  return new Promise((resolve, reject) => {
    const latencies = new Samples();
    let wrongStatus = 0;
    let status5xx = 0;
    const statusCounts: Record<string, number> = {};
    const socketErrors: Record<string, number> = {};
    const request: RequestSpec = { ...spec.request };
    const picks = spec.paths === undefined ? undefined : new PickLog();
    if (spec.paths !== undefined && picks !== undefined) {
      const { prefix, choices } = spec.paths;
      if (choices.length === 0) return reject(new Error("paths: no choices"));
      const nextPath = (): string => {
        const i = Math.floor(Math.random() * choices.length);
        picks.add(i);
        return `${prefix}${choices[i] ?? ""}`;
      };
      request.path = nextPath();
      request.setupRequest = (req) => ({ ...req, path: nextPath() });
    }
    const t0 = performance.now();
    const cpu0 = process.threadCpuUsage();
    const options: Options = {
      url: base.origin,
      connections: spec.connections,
      pipelining: 1,
      duration: seconds,
      timeout: 10,
      requests: [request],
    };
    const instance = autocannon(options, (error, raw) => {
      if (error !== null) return reject(error);
      const cpu = process.threadCpuUsage(cpu0);
      const result = aggregated(raw, options);
      resolve({
        responses: latencies.count,
        seconds: (performance.now() - t0) / 1000,
        latencies: latencies.sorted(),
        statusCounts,
        wrongStatus,
        status5xx,
        timeouts: result.timeouts,
        socketErrors,
        autocannon: result,
        generatorCpuUs: cpu.user + cpu.system,
        ...(picks === undefined ? {} : { picks: picks.done() }),
      });
    });
    // Every response, whatever its status (autocannon's own latency figures are whole milliseconds).
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      latencies.add(responseTime);
      const key = String(statusCode);
      statusCounts[key] = (statusCounts[key] ?? 0) + 1;
      if (statusCode !== spec.expectStatus) wrongStatus++;
      if (statusCode >= 500) status5xx++;
    });
    instance.on("reqError", (error: Error) => countSocketError(socketErrors, error));
  });
}

/** One request, checked in detail (status, then `extra`); a problem's description, or undefined. */
export async function check(
  url: URL,
  init: RequestInit,
  expectStatus: number,
  extra: (res: Response) => string | undefined,
): Promise<string | undefined> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, redirect: "manual" });
  } catch (err) {
    // A pooled keep-alive connection that workerd closed while idle (between scenarios)
    // resets on reuse; that is the client's pool, not the Worker: ask once more on a new one.
    if (!(err instanceof TypeError)) throw err;
    res = await fetch(url, { ...init, redirect: "manual" });
  }
  await res.arrayBuffer();
  if (res.status !== expectStatus) {
    return `${init.method ?? "GET"} ${url.pathname}${url.search.slice(0, 80)}: status ${res.status}, expected ${expectStatus}`;
  }
  return extra(res);
}
