/** A minimal client for the router's management API (Bearer ADMIN_TOKEN), for the benchmark. */
import { describeError, firstLine, sleep } from "./util";

export const ADMIN_PREFIX = "/__router/v1";

export interface ApiAnswer {
  /** 0: no answer (network error or timeout). */
  status: number;
  ms: number;
  json: unknown;
  error?: string;
}

export class AdminApi {
  constructor(
    private readonly base: URL,
    private readonly token: string,
  ) {}

  async call(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    const t0 = performance.now();
    try {
      const res = await fetch(new URL(`${ADMIN_PREFIX}${path}`, this.base), {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
      return { status: res.status, ms: performance.now() - t0, json };
    } catch (err) {
      return { status: 0, ms: performance.now() - t0, json: undefined, error: firstLine(describeError(err)) };
    }
  }

  /** Waits until the RouteTableWriter has no KV write pending (GET /status); the time waited. */
  async waitKvSettled(timeoutMs: number): Promise<number> {
    const t0 = performance.now();
    for (;;) {
      const answer = await this.call("GET", "/status");
      const pending = (answer.json as { kvPending?: unknown } | undefined)?.kvPending;
      if (answer.status === 200 && pending === 0) return performance.now() - t0;
      if (performance.now() - t0 > timeoutMs) {
        throw new Error(`KV writes still pending after ${timeoutMs} ms (GET /status: ${answer.status}, ${pending})`);
      }
      await sleep(250);
    }
  }
}

/** A short description of an answer that was not the expected one. */
export function describeAnswer(answer: ApiAnswer): string {
  return `${answer.status} ${answer.error ?? JSON.stringify(answer.json).slice(0, 200)}`;
}
