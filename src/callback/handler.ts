/**
 * GET/POST /login/callback: gather the facts, read the route, decide, answer.
 * This module only wires the pure parts (facts, candidates, decide) to the
 * I/O (KV store, forwarding, redirect). It never answers with a 500: any
 * unexpected failure sends the callback on to Auth0 unchanged.
 */
import { cookiesToExpire, type AffinityCheck } from "../affinity/callback";
import { expiredSetCookie } from "../affinity/cookie";
import { forwardToAuth0 } from "../auth0/forward";
import { ClientGone } from "../client-gone";
import type { Config } from "../config";
import { log, type CallbackLog } from "../log";
import type { Settings } from "../table/schema";
import { RouteStore, type LoadedSettings, type Lookup } from "../table/store";
import { redirectLocation, targetHost } from "../targets";
import { PeekableBody } from "./body";
import { bounceMarks, type BounceMarks, type MarkCheck, type MarkVerdict } from "./bounce-mark";
import { queryFacts, type CallbackFacts } from "./facts";
import { isFormUrlEncoded } from "./form";
import { fromQueryOnly, type Identification } from "./identify";
import { rawQueryOf, withoutFallback } from "./query";
import { replayableFields } from "./form-replay";
import { autoPostForm, redirect307 } from "./redirect";
import { retiredPage } from "./retired-pages";
import { shapeOf } from "./shape";
import { routeCallback, routeFromCache, type AffinityRequest, type Routed as RoutedCallback } from "./route-callback";

/**
 * `onDecision` sees the same entry the log gets (e.g. to count it); it must
 * not throw or wait — the answer is already decided. `url` is `request.url`
 * parsed (the dispatcher has parsed it already).
 *
 * A callback whose route and settings are fresh in the isolate cache and that needs no body
 * or cookie check (routeFromCache) is answered synchronously when it is a 307: no promise,
 * no microtask. Everything else (and any failure there) takes the awaited path.
 */
export function handleCallback(
  request: Request,
  kv: KVNamespace,
  config: Config,
  onDecision?: (entry: CallbackLog) => void,
  /** `request.url` parsed, when the caller has it already. */
  url: URL = new URL(request.url),
): Response | Promise<Response> {
  const started = Date.now();
  const rawQuery = rawQueryOf(url);
  const facts = queryFacts(rawQuery);
  const store = new RouteStore(kv, config);
  const affinityRequest =
    config.affinity === undefined
      ? undefined
      : { secret: config.affinity.secret, cookieHeader: request.headers.get("cookie") };
  const marks = config.affinity === undefined ? undefined : bounceMarks(config.affinity.secret);
  let cached: Routed | undefined;
  let redirect: Response | undefined;
  try {
    cached = routeFromCache(request.method, facts, store, config, affinityRequest);
    if (cached !== undefined && cached.decision.destination === "new") {
      const mode = cached.settings.status === "found" ? cached.settings.value.redirect : "307";
      // The hand-off's mark, when this isolate has it ready; else the awaited path makes it.
      const mark = marks?.markFromCache(cached.identification.connection, started);
      if (!needsFormAnswer(request, mode) && (marks === undefined || mark !== undefined)) {
        redirect = redirect307(redirectLocation(cached.decision.target, rawQuery), mark);
      }
    }
  } catch {
    // Whatever broke is met again on the awaited path, which fails safe.
    cached = undefined;
    redirect = undefined;
  }
  // Logged and counted once, outside the try: a failure there is not retried on the awaited path.
  if (cached !== undefined && redirect !== undefined) {
    return answered(request, config, cached, redirect, started, onDecision);
  }
  return handleRead(request, store, config, onDecision, url, started, rawQuery, facts, affinityRequest, cached, marks);
}

/** handleCallback's awaited path: reads what the cache did not have, the body if needed, forwards. */
async function handleRead(
  request: Request,
  store: RouteStore,
  config: Config,
  onDecision: ((entry: CallbackLog) => void) | undefined,
  url: URL,
  started: number,
  rawQuery: string,
  queried: CallbackFacts,
  affinityRequest: AffinityRequest | undefined,
  cached: Routed | undefined,
  marks: BounceMarks | undefined,
): Promise<Response> {
  const body = new PeekableBody(request.body, request.headers.get("content-length"));
  let routed: Routed;

  try {
    routed =
      cached ??
      (await routeCallback(
        { method: request.method, contentType: request.headers.get("content-type"), body },
        queried,
        store,
        config,
        affinityRequest,
      ));
  } catch (err) {
    // Fail safe: whatever broke, the callback still reaches Auth0 (once it is retired, a 503 page instead).
    const retired = config.auth0Retired || store.retiredSeen();
    routed = {
      facts: queried,
      identification: fromQueryOnly(queried),
      settings: { status: "unavailable", error: "not read" },
      decision: retired
        ? { destination: "page", reason: "route-table-unavailable", page: "unavailable" }
        : { destination: "auth0", reason: "route-table-unavailable" },
      affinity: undefined,
      problem: `unexpected: ${err instanceof Error ? err.message.slice(0, 200) : "error"}`,
    };
  }
  const { facts, settings, decision } = routed;
  // A bounce counts as one only with the router's mark of its hand-off (bounce-mark.ts).
  if (facts.fallback) {
    const verdict: MarkVerdict =
      marks === undefined
        ? { check: "not-configured" }
        : await marks
            .check(request.headers.get("cookie"), routed.identification.connection, started)
            .catch((): MarkVerdict => ({ check: "invalid" }));
    routed.fallbackMark = verdict.check;
    routed.fallbackMarkId = verdict.markId;
  }

  let response: Response;
  try {
    // The client went away while its body was read: nothing is sent on (src/client-gone.ts).
    if (body.sourceError !== undefined) throw body.sourceError.error;
    if (decision.destination === "new") {
      const mode = settings.status === "found" ? settings.value.redirect : "307";
      const mark = await marks?.markFor(routed.identification.connection, started).catch(() => undefined);
      response = await answerNew(request, redirectLocation(decision.target, rawQuery), mode, body, config, mark);
    } else if (decision.destination === "page") {
      // Auth0 is retired: nothing is forwarded, and the body is never read.
      const message = settings.status === "found" ? settings.value.bounceMessage : undefined;
      response = retiredPage(request, decision, message);
    } else {
      const query = facts.fallback ? withoutFallback(rawQuery) : rawQuery;
      const forwarded = await body.forwardable();
      response = await forwardToAuth0(request, config, {
        pathAndQuery: query === "" ? url.pathname : `${url.pathname}?${query}`,
        body: forwarded,
        clientBodyFailed: body.sourceFailed(),
      });
    }
  } catch (err) {
    if (body.sourceError === undefined || err instanceof ClientGone) throw err;
    throw new ClientGone("while its body was read", body.sourceError.error);
  }
  return answered(request, config, routed, response, started, onDecision);
}

/**
 * The routing outcome and, when the table could not be used as written (or routing failed), why;
 * for a `fallback=auth0` callback, what its bounce mark said.
 */
type Routed = RoutedCallback & { problem?: string; fallbackMark?: MarkCheck; fallbackMarkId?: string | undefined };

/** Expires what affinity says to, then logs the callback's one line and counts it. */
function answered(
  request: Request,
  config: Config,
  routed: Routed,
  answer: Response,
  started: number,
  onDecision: ((entry: CallbackLog) => void) | undefined,
): Response {
  const { facts, identification, settings, decision, affinity } = routed;
  const problem = "problem" in routed ? routed.problem : problemOf(settings, identification);
  let response = answer;
  // A finishing transaction's affinity cookie has done its job; the oldest beyond the bound go too.
  if (affinity !== undefined) {
    const expire = cookiesToExpire(affinity, decision.destination === "auth0");
    if (expire.length > 0) response = withExpiredCookies(response, expire);
  }

  const entry: CallbackLog = {
    event: "callback",
    method: request.method,
    connection: identification.connection ?? null,
    identifiedBy: identification.identifiedBy,
    bodyScan: facts.bodyScan,
    shape: shapeOf(request.method, facts),
    decision: decision.destination,
    reason: decision.reason,
    mode: settings.status === "found" ? settings.value.mode : undefined,
    // Absent unless true (JSON.stringify leaves an undefined field out).
    killSwitch: settings.status === "found" && settings.value.killSwitch.on ? true : undefined,
    fallback: facts.fallback ? true : undefined,
    fallbackMark: routed.fallbackMark,
    fallbackMarkId: routed.fallbackMarkId,
    targetHost:
      decision.destination === "new"
        ? targetHost(decision.target)
        : decision.destination === "auth0"
          ? config.auth0Origin.host
          : null,
    status: response.status,
    durationMs: Date.now() - started,
  };
  // A bounced login nobody could sign in (Auth0 retired): a failed login, flagged apart.
  if (decision.destination === "page" && decision.page === "unserved") entry.unserved = true;
  if (decision.destination === "auth0" && decision.shadowOf !== undefined) {
    entry.shadowDecision = "new";
    entry.shadowTargetHost = decision.shadowOf.target.host;
  }
  const route = identification.route;
  if (
    (route !== undefined && route.status !== "unavailable" && route.stale) ||
    (settings.status !== "unavailable" && settings.stale)
  ) {
    entry.staleTable = true;
  }
  if (problem !== undefined) entry.problem = problem;
  if (affinity !== undefined) {
    entry.affinity = affinity.outcome;
    if (affinity.outcome !== "off" && affinity.ignored > 0) entry.affinityIgnored = affinity.ignored;
  }
  log(entry);
  try {
    onDecision?.(entry);
  } catch (err) {
    log({
      event: "stats-error",
      message: `recording failed: ${err instanceof Error ? err.message.slice(0, 200) : "error"}`,
    });
  }
  return response;
}

/** Why the table could not be used as written, for the log line (never request content). */
function problemOf(settings: Lookup<LoadedSettings>, identification: Identification): string | undefined {
  if (settings.status === "unavailable") return `route table unreadable: ${settings.error}`;
  if (settings.status === "invalid") return `settings refused: ${settings.reason}`;
  const route = identification.route;
  if (route?.status === "unavailable") return `route table unreadable: ${route.error}`;
  if (route?.status === "invalid") return `route refused: ${route.reason}`;
  if (settings.status === "found" && settings.value.defaultTargetProblem !== undefined) {
    return `settings.defaultTarget refused: ${settings.value.defaultTargetProblem}`;
  }
  return undefined;
}

/** The "form" answer needs the POST's body (an auto-submitting form of its fields); else a 307. */
function needsFormAnswer(request: Request, mode: Settings["redirect"]): boolean {
  return mode === "form" && request.method === "POST" && isFormUrlEncoded(request.headers.get("content-type"));
}

async function answerNew(
  request: Request,
  location: string,
  mode: Settings["redirect"],
  body: PeekableBody,
  config: Config,
  mark: string | undefined,
): Promise<Response> {
  if (needsFormAnswer(request, mode)) {
    const peek = await body.peek(config.bodyScanLimitBytes);
    const fields = replayableFields(peek.bytes, peek.complete);
    if (fields !== undefined) return autoPostForm(location, fields, mark);
  }
  return redirect307(location, mark);
}

/** Auth0's answer with Set-Cookie lines appended that expire `names`; Auth0's own headers and body unchanged. */
function withExpiredCookies(response: Response, names: readonly string[]): Response {
  try {
    const copy = new Response(response.body, response);
    for (const name of names) copy.headers.append("set-cookie", expiredSetCookie(name));
    return copy;
  } catch {
    // A status a Response cannot be rebuilt with: the cookie simply expires on its own.
    return response;
  }
}
