/**
 * A fake WorkOS API (Node, loopback) with the documented shapes:
 *
 * - `GET /connections`: `{ object: "list", data: [connection], list_metadata: { before, after } }`,
 *   cursor pagination by object id (`limit` 1–100, default 10; `after`, `before`; `order`
 *   desc by default), filter `organization_id`;
 * - `GET /sdk/feature-flags`: `{ [slug]: { slug, enabled, default_value, targets } }`;
 * - `GET /events`: `{ object: "list", data: [event], list_metadata: { after } }`, oldest first,
 *   filtered by `events` (comma-separated, or repeated as `events` / `events[]`), `range_start`,
 *   `range_end` (ISO 8601), `organization_id`; `limit` 1–100 (default 10), `after` = an event id.
 *   Each event is `{ object: "event", id, event, data, created_at }`; an SSO one's data is
 *   `{ type: "sso", status, ip_address, user_agent, user_id, email, sso: { organization_id,
 *   connection_id, session_id }, error? }` (workos.com/docs/events, "SSO succeeded / failed").
 *
 * Both want `Authorization: Bearer <key>` for a key registered through the control
 * endpoint (401 otherwise). State is kept per key, so test files running at the same
 * time never see each other's data or behaviours.
 *
 * Control (tests only): `POST /__fake/behaviour {key, ...FakeBehaviour}` sets a key's
 * state; `GET /__fake/requests?key=` lists what that key's requests got.
 */
import http from "node:http";
import { listenOnLoopback } from "./loopback";
import type { FakeBehaviour, FakeConnection, FakeFlag, FakeRequest } from "./workos";
import { listEvents, type Answer, type FakeEvent } from "./workos-events";

interface KeyState {
  connections: FakeConnection[];
  events: FakeEvent[];
  flags: Record<string, FakeFlag>;
  flagsFormat: "keyed" | "list" | "v2";
  rateLimitOnce: string | null;
  failures: number | "always";
  failuresAfter: number;
  malformed: "json" | "types" | null;
  requests: FakeRequest[];
}

function stateFrom(b: FakeBehaviour): KeyState {
  return {
    connections: b.connections ?? [],
    events: b.events ?? [],
    flags: b.flags ?? {},
    flagsFormat: b.flagsFormat ?? "keyed",
    rateLimitOnce: b.rateLimitOnce ?? null,
    failures: b.failures ?? 0,
    failuresAfter: b.failuresAfter ?? 0,
    malformed: b.malformed ?? null,
    requests: [],
  };
}

const CREATED = "2026-01-05T10:00:00.000Z";

function connectionObject(c: FakeConnection): Record<string, unknown> {
  return {
    object: "connection",
    id: c.id,
    organization_id: c.organization_id === undefined ? null : c.organization_id,
    connection_type: c.connection_type ?? "GenericSAML",
    name: c.name,
    state: c.state,
    domains: [],
    created_at: CREATED,
    updated_at: CREATED,
  };
}

const json = (status: number, value: unknown): Answer => ({ status, body: JSON.stringify(value) });

function listConnections(state: KeyState, query: URLSearchParams): Answer {
  const rawLimit = query.get("limit");
  const limit = rawLimit === null ? 10 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    return json(422, { code: "invalid_request_parameters", message: "limit must be between 1 and 100" });
  }
  const org = query.get("organization_id");
  const matching = state.connections.filter((c) => org === null || c.organization_id === org);
  // The array is creation order; WorkOS lists newest first unless order=asc.
  const ordered = query.get("order") === "asc" ? matching : [...matching].reverse();
  const after = query.get("after");
  const before = query.get("before");
  let start = 0;
  let end = ordered.length;
  if (after !== null) {
    const at = ordered.findIndex((c) => c.id === after);
    if (at < 0) return json(422, { code: "invalid_request_parameters", message: "after is not a known object id" });
    start = at + 1;
  } else if (before !== null) {
    const at = ordered.findIndex((c) => c.id === before);
    if (at < 0) return json(422, { code: "invalid_request_parameters", message: "before is not a known object id" });
    end = at;
    start = Math.max(0, end - limit);
  }
  const page = ordered.slice(start, Math.min(end, start + limit));
  const data = page.map(connectionObject);
  if (state.malformed === "types" && data[0] !== undefined) data[0]["state"] = 42;
  return json(200, {
    object: "list",
    data,
    list_metadata: {
      before: start > 0 ? (page[0]?.id ?? null) : null,
      after: start + page.length < ordered.length ? (page[page.length - 1]?.id ?? null) : null,
    },
  });
}

function featureFlags(state: KeyState): Answer {
  const entries = Object.entries(state.flags).map(([slug, flag]) => {
    const entry: Record<string, unknown> = { slug, ...flag };
    if (state.malformed === "types") entry["enabled"] = "yes";
    return [slug, entry] as const;
  });
  if (state.flagsFormat === "list") return json(200, { data: entries.map(([, e]) => e) });
  if (state.flagsFormat === "v2") {
    const flags = Object.fromEntries(
      entries.map(([slug, e]) => [
        slug,
        { slug, enabled: e["enabled"], default_value: e["default_value"], off_value: false, rules: [] },
      ]),
    );
    return json(200, { version: 2, flags });
  }
  return json(200, Object.fromEntries(entries));
}

/** What the fake WorkOS answers a request made with a registered key. */
function answer(state: KeyState, path: string, query: URLSearchParams): Answer {
  if (state.rateLimitOnce !== null) {
    const retryAfter = state.rateLimitOnce;
    state.rateLimitOnce = null;
    return { ...json(429, { message: "Too many requests" }), headers: { "retry-after": retryAfter } };
  }
  if (state.failuresAfter > 0) state.failuresAfter -= 1;
  else if (state.failures === "always" || state.failures > 0) {
    if (state.failures !== "always") state.failures -= 1;
    return json(503, { message: "Service unavailable" });
  }
  if (state.malformed === "json" && (path === "/connections" || path === "/sdk/feature-flags" || path === "/events")) {
    return { status: 200, body: '{"data": [ {"id": "conn_' };
  }
  if (path === "/connections") return listConnections(state, query);
  if (path === "/sdk/feature-flags") return featureFlags(state);
  if (path === "/events") return listEvents(state.events, query, state.malformed === "types");
  return json(404, { message: "Not found" });
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export interface WorkosFake {
  url: string;
  close(): Promise<void>;
}

export async function startWorkosFake(): Promise<WorkosFake> {
  const states = new Map<string, KeyState>();
  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://fake.local");
      const send = (a: Answer) => {
        res.writeHead(a.status, { "content-type": "application/json", ...a.headers });
        res.end(a.body);
      };
      if (url.pathname === "/__fake/behaviour" && req.method === "POST") {
        const { key, ...behaviour } = JSON.parse(await readBody(req)) as FakeBehaviour & { key: string };
        states.set(key, stateFrom(behaviour));
        res.writeHead(204).end();
        return;
      }
      if (url.pathname === "/__fake/requests") {
        send(json(200, states.get(url.searchParams.get("key") ?? "")?.requests ?? []));
        return;
      }
      const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "");
      const state = match?.[1] === undefined ? undefined : states.get(match[1]);
      if (state === undefined) {
        send(json(401, { message: "Unauthorized" }));
        return;
      }
      const a = req.method === "GET" ? answer(state, url.pathname, url.searchParams) : json(405, {});
      state.requests.push({
        method: req.method ?? "",
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        status: a.status,
      });
      send(a);
    })().catch((err: unknown) => {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(err instanceof Error ? err.message : "fake error");
    });
  });
  return listenOnLoopback(server);
}
