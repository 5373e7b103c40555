/**
 * The load of scenario "mixed" (bench/mixed.ts), run by the load generator's thread
 * (bench/load-thread.ts): each request's kind drawn at random, every response classified
 * by its kind (status, Location of a 307, body bytes the origin saw for a POST). Its
 * options are plain data; the API changes run on the main thread meanwhile.
 */
import autocannon, { type RequestSpec } from "autocannon";
import { samlPostBody, TARGET_HOST } from "./fixtures";
import { countSocketError, Samples } from "./load";
import { KINDS, type ErrorBreakdown, type KindResult, type MixedKind, type MixedLoad } from "./mixed-report";
import { percentile, pickFrom } from "./util";

export const SHARES: Record<MixedKind, number> = { redirect: 0.6, "legacy-post": 0.2, "pass-through": 0.2 };
const LABELS: Record<MixedKind, string> = {
  redirect: "GET callback, migrated at import",
  "legacy-post": "POST callback, legacy at import, SAML form",
  "pass-through": "GET /authorize",
};
export const FORM = "application/x-www-form-urlencoded";

export interface MixedLoadOptions {
  /** The mixed router Worker's origin. */
  base: string;
  connections: number;
  seconds: number;
  /** Connections migrated / legacy at import time (a legacy one's POST body: samlPostBody(connection)). */
  migrated: readonly string[];
  legacy: readonly string[];
  authorizePath: string;
}

function headerValue(headers: Record<string, string | string[]>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/** undefined when `location` is an https URL on the allow-listed target host. */
export function locationProblem(location: string | null | undefined): string | undefined {
  if (location === undefined || location === null) return "307 without Location";
  try {
    const url = new URL(location);
    if (url.protocol === "https:" && url.host === TARGET_HOST) return undefined;
  } catch {
    // not an absolute URL
  }
  return `307 to "${location.slice(0, 120)}"`;
}

function pickKind(): MixedKind {
  const r = Math.random();
  if (r < SHARES.redirect) return "redirect";
  if (r < SHARES.redirect + SHARES["legacy-post"]) return "legacy-post";
  return "pass-through";
}

function requestFactory(o: MixedLoadOptions): (kind: MixedKind) => RequestSpec {
  const pickMigrated = pickFrom(o.migrated);
  const pickLegacy = pickFrom(o.legacy);
  const bodies = new Map(o.legacy.map((c) => [c, samlPostBody(c)]));
  return (kind): RequestSpec => {
    if (kind === "redirect") {
      return { method: "GET", path: `/login/callback?connection=${pickMigrated()}`, headers: {}, body: "" };
    }
    if (kind === "legacy-post") {
      const connection = pickLegacy();
      const body = bodies.get(connection) ?? "";
      return {
        method: "POST",
        path: `/login/callback?connection=${connection}`,
        headers: { "content-type": FORM },
        body,
      };
    }
    return { method: "GET", path: o.authorizePath, headers: {}, body: "" };
  };
}

/** The mixed load for `o.seconds`, every response classified. */
export function runMixedLoad(o: MixedLoadOptions): Promise<MixedLoad> {
  const build = requestFactory(o);
  const overall = new Samples();
  const perKind = new Map(
    KINDS.map((k) => [k, { samples: new Samples(), statusCounts: {} as Record<string, number>, errors: 0 }]),
  );
  const breakdown: ErrorBreakdown = {
    status5xx: 0,
    wrongStatus: 0,
    badLocation: 0,
    unclassified: 0,
    timeouts: 0,
    socketErrors: {},
  };
  const examples: string[] = [];
  let bodyMismatches = 0;
  // onResponse (which sees the headers and the request's per-connection context) runs just
  // before the "response" event (which has the latency) for the same response.
  let classified: { kind: MixedKind; error: boolean } | undefined;

  const classify = (
    kind: MixedKind,
    status: number,
    headers: Record<string, string | string[]>,
  ): string | undefined => {
    if (status >= 500) {
      breakdown.status5xx++;
      return `${kind}: status ${status}`;
    }
    if (kind !== "pass-through" && status === 307) {
      const where = locationProblem(headerValue(headers, "location"));
      if (where !== undefined) breakdown.badLocation++;
      return where === undefined ? undefined : `${kind}: ${where}`;
    }
    if (status !== 200) {
      breakdown.wrongStatus++;
      return `${kind}: status ${status}`;
    }
    return undefined;
  };

  const request: RequestSpec = {
    method: "GET",
    path: o.authorizePath,
    setupRequest: (req, context) => {
      const kind = pickKind();
      const spec = build(kind);
      context["kind"] = kind;
      context["bytes"] = String(Buffer.byteLength(spec.body ?? ""));
      return { ...req, ...spec };
    },
    onResponse: (status, _body, context, headers) => {
      const kind = KINDS.find((k) => k === context["kind"]);
      classified = undefined;
      if (kind === undefined) return;
      const problem = classify(kind, status, headers);
      if (problem !== undefined && examples.length < 8) examples.push(problem);
      if (kind === "legacy-post" && status === 200 && headerValue(headers, "x-received-bytes") !== context["bytes"]) {
        bodyMismatches++;
      }
      classified = { kind, error: problem !== undefined };
    },
  };

  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const socketErrors: Record<string, number> = {};
    const instance = autocannon(
      {
        url: new URL(o.base).origin,
        connections: o.connections,
        pipelining: 1,
        duration: o.seconds,
        timeout: 10,
        requests: [request],
      },
      (error, result) => {
        const elapsedS = (performance.now() - t0) / 1000;
        if (error !== null) return reject(error);
        breakdown.timeouts = result.timeouts;
        breakdown.socketErrors = socketErrors;
        const kinds = {} as Record<MixedKind, KindResult>;
        for (const k of KINDS) {
          const c = perKind.get(k);
          const sorted = c?.samples.sorted() ?? new Float64Array(0);
          kinds[k] = {
            label: LABELS[k],
            requests: sorted.length,
            p50Ms: percentile(sorted, 0.5),
            p99Ms: percentile(sorted, 0.99),
            statusCounts: c?.statusCounts ?? {},
            errors: c?.errors ?? 0,
          };
        }
        const socket = Object.values(socketErrors).reduce((a, b) => a + b, 0);
        const sorted = overall.sorted();
        resolve({
          seconds: elapsedS,
          requests: overall.count,
          reqPerSec: overall.count / elapsedS,
          p50Ms: percentile(sorted, 0.5),
          p99Ms: percentile(sorted, 0.99),
          errors:
            breakdown.status5xx +
            breakdown.wrongStatus +
            breakdown.badLocation +
            breakdown.unclassified +
            breakdown.timeouts +
            socket,
          errorBreakdown: breakdown,
          errorExamples: examples,
          kinds,
          bodyMismatches,
        });
      },
    );
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      overall.add(responseTime);
      const c = classified;
      classified = undefined;
      const kind = c === undefined ? undefined : perKind.get(c.kind);
      if (c === undefined || kind === undefined) {
        breakdown.unclassified++;
        if (examples.length < 8) examples.push(`unclassified response, status ${statusCode}`);
        return;
      }
      kind.samples.add(responseTime);
      kind.statusCounts[statusCode] = (kind.statusCounts[statusCode] ?? 0) + 1;
      if (c.error) kind.errors++;
    });
    instance.on("reqError", (error: Error) => countSocketError(socketErrors, error));
  });
}
