/** The part of autocannon 9's programmatic API the benchmark uses (the package ships no types). */
declare module "autocannon" {
  import type { EventEmitter } from "node:events";

  export interface RequestSpec {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    /** Called before every request; returns the request to send. */
    setupRequest?: (request: RequestSpec, context: Record<string, unknown>) => RequestSpec | null | undefined;
    /**
     * Called with each response to this request before the instance's "response" event; `context`
     * is the one setupRequest saw for it (per connection), header names are as the server sent them.
     */
    onResponse?: (
      status: number,
      body: string,
      context: Record<string, unknown>,
      headers: Record<string, string | string[]>,
    ) => void;
  }

  export interface Options {
    url: string;
    connections?: number;
    duration?: number;
    pipelining?: number;
    /** Seconds before a request counts as timed out. */
    timeout?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    requests?: RequestSpec[];
  }

  export interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p99: number;
  }

  export interface Result {
    requests: Histogram & { sent: number };
    latency: Histogram;
    errors: number;
    timeouts: number;
    non2xx: number;
    resets: number;
    mismatches: number;
    /** Seconds. */
    duration: number;
    statusCodeStats: Record<string, { count: number }>;
  }

  export interface Instance extends EventEmitter {
    stop(): void;
    on(
      event: "response",
      listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void,
    ): this;
    on(event: "reqError", listener: (error: Error) => void): this;
    on(event: "done", listener: (result: Result) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  function autocannon(options: Options, callback: (error: Error | null, result: Result) => void): Instance;
  export default autocannon;
}

/**
 * autocannon's own aggregation (the public aggregateResult starts the per-second request
 * histogram empty): off Node's main thread autocannon hands back the raw result of its
 * `workers` mode, histograms base64-encoded, and leaves aggregating to the caller.
 */
declare module "autocannon/lib/aggregateResult.js" {
  import type { Options, Result } from "autocannon";

  function aggregateResult(
    results: unknown,
    opts: Options,
    histograms: { requests: unknown; throughput: unknown },
  ): Result;
  export default aggregateResult;
}

declare module "autocannon/lib/histUtil.js" {
  const histUtil: { decodeHist(encoded: string | null): unknown };
  export default histUtil;
}
