/** What every scenario module builds on: the tables, fixed request paths, and detailed checks. */
import { CacheSimulation } from "../cache-sim";
import { TARGET_HOST } from "../fixtures";
import { check } from "../load";
import { ROUTE_CACHE_SECONDS } from "../settings";
import type { Tables } from "../tables";

export const FORM = { "content-type": "application/x-www-form-urlencoded" };

export const AUTHORIZE_PATH =
  "/authorize?client_id=x&response_type=code&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback" +
  "&scope=openid%20profile%20email&state=bench-state-1234567890&nonce=bench-nonce-0987654321";

/** GET callbacks: each request's path is this + a connection (Scenario.paths). */
export const CALLBACK_PREFIX = "/login/callback?connection=";

/** An OIDC-style callback's query after `connection=` (code and state, as an IdP sends them back). */
export const CODE_AND_STATE = "code=bench-code-4f9c2a7e1d3b5a60&state=bench-state-1234567890";

export class ScenarioContext {
  /** Mirrors of the routers' isolate caches, for the hit-rate estimate. */
  readonly cacheSmall = new CacheSimulation(ROUTE_CACHE_SECONDS * 1000);
  readonly cacheSmallNoEvidence = new CacheSimulation(ROUTE_CACHE_SECONDS * 1000);
  readonly cacheBig = new CacheSimulation(ROUTE_CACHE_SECONDS * 1000);
  readonly noCacheSmall = new CacheSimulation(0);
  readonly noCacheBig = new CacheSimulation(0);

  constructor(readonly tables: Tables) {}

  /** GET callbacks for `connections` must be 307s to the allow-listed target host, query kept. */
  async checkRedirects(base: URL, connections: string[], cache: CacheSimulation): Promise<string[]> {
    const problems: string[] = [];
    for (const connection of connections) {
      cache.access(connection, undefined);
      const url = new URL(`/login/callback?connection=${connection}`, base);
      const problem = await check(url, { method: "GET" }, 307, (res) => {
        const location = res.headers.get("location") ?? "";
        return location.startsWith(`https://${TARGET_HOST}/`) && location.endsWith(`connection=${connection}`)
          ? undefined
          : `connection ${connection}: Location "${location}"`;
      });
      if (problem !== undefined) problems.push(problem);
    }
    return problems;
  }
}

/** The origin's answer says how many body bytes reached it (and, when given, which path and query). */
export function forwarded(expectBytes: number, expectPathAndQuery?: string) {
  return (res: Response): string | undefined => {
    if (res.headers.get("x-received-bytes") !== String(expectBytes)) {
      return `origin received ${res.headers.get("x-received-bytes")} body bytes, expected ${expectBytes}`;
    }
    const got = res.headers.get("x-received-url");
    if (expectPathAndQuery !== undefined && got !== expectPathAndQuery) {
      return `origin was asked for "${got}", expected "${expectPathAndQuery}"`;
    }
    return undefined;
  };
}

export function only(problems: Array<string | undefined>): string[] {
  return problems.filter((p): p is string => p !== undefined);
}

export function sample(pick: () => string, n: number): string[] {
  return Array.from({ length: n }, pick);
}
