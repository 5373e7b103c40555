/** One autocannon run against one Worker, with every response's latency and status kept. */
import autocannon, { type RequestSpec, type Result } from "autocannon";

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

export interface LoadSpec {
  connections: number;
  expectStatus: number;
  request: RequestSpec;
  /** Builds each request's path; fixed when absent. */
  nextPath?: () => string;
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
    const nextPath = spec.nextPath;
    if (nextPath !== undefined) {
      request.path = nextPath();
      request.setupRequest = (req) => ({ ...req, path: nextPath() });
    }
    const t0 = performance.now();
    const instance = autocannon(
      {
        url: base.origin,
        connections: spec.connections,
        pipelining: 1,
        duration: seconds,
        timeout: 10,
        requests: [request],
      },
      (error, result) => {
        if (error !== null) return reject(error);
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
        });
      },
    );
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
