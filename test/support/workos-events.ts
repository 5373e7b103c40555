/**
 * WorkOS' Events API in the fake WorkOS (./workos-fake.ts) and the simulation's provider
 * stand-in (scripts/sim/stand-ins.ts): `GET /events` → `{ object: "list", data: [event],
 * list_metadata: { after } }`, oldest first, filtered by `events` (comma-separated, or repeated
 * as `events` / `events[]`), `range_start`, `range_end` (ISO 8601), `organization_id`;
 * `limit` 1–100 (default 10), `after` = an event id. Each event is `{ object: "event", id,
 * event, data, created_at }`; an SSO one's data is `{ type: "sso", status, ip_address,
 * user_agent, user_id, email, sso: { organization_id, connection_id, session_id }, error? }`
 * (workos.com/docs/events, "SSO succeeded / failed"). Plain TypeScript: no Node or Workers types.
 */

/** One SSO login outcome the Events API lists (its id defaults to event_<8-digit index>). */
export interface FakeEvent {
  id?: string;
  event: "authentication.sso_succeeded" | "authentication.sso_failed";
  /** WorkOS' conn_… id; absent: the event names no connection. */
  connection_id?: string;
  organization_id?: string;
  /** ISO 8601. */
  created_at: string;
}

export type Answer = { status: number; body: string; headers?: Record<string, string> };

const json = (status: number, value: unknown): Answer => ({ status, body: JSON.stringify(value) });

/** An event as WorkOS sends it (the SSO payload of workos.com/docs/events). */
export function eventObject(e: FakeEvent, index: number): Record<string, unknown> {
  const failed = e.event === "authentication.sso_failed";
  return {
    object: "event",
    id: e.id ?? eventId(index),
    event: e.event,
    data: {
      type: "sso",
      status: failed ? "failed" : "succeeded",
      ip_address: "192.0.2.1",
      user_agent: "Mozilla/5.0",
      user_id: null,
      email: null,
      sso: {
        organization_id: e.organization_id ?? null,
        ...(e.connection_id === undefined ? {} : { connection_id: e.connection_id }),
        session_id: `sso_session_${String(index).padStart(6, "0")}`,
      },
      ...(failed
        ? { error: { code: "signature_verification_failed", message: "The SAML response signature is invalid." } }
        : {}),
    },
    created_at: e.created_at,
  };
}

export const eventId = (index: number) => `event_${String(index).padStart(8, "0")}`;

/**
 * One page of `GET /events` over `events` (oldest first), as WorkOS answers it; `corrupt`
 * puts a number where the first event's `data.sso.connection_id` belongs. Also the
 * simulation's provider stand-in's Events API (scripts/sim/stand-ins.ts).
 */
export function listEvents(events: readonly FakeEvent[], query: URLSearchParams, corrupt = false): Answer {
  const rawLimit = query.get("limit");
  const limit = rawLimit === null ? 10 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    return json(422, { code: "invalid_request_parameters", message: "limit must be between 1 and 100" });
  }
  const types = new Set([...query.getAll("events"), ...query.getAll("events[]")].flatMap((v) => v.split(",")));
  if (types.size === 0) return json(422, { code: "invalid_request_parameters", message: "events is required" });
  const start = query.get("range_start");
  const end = query.get("range_end");
  const startMs = start === null ? -Infinity : Date.parse(start);
  const endMs = end === null ? Infinity : Date.parse(end);
  if (Number.isNaN(startMs) || Number.isNaN(endMs)) {
    return json(422, { code: "invalid_request_parameters", message: "range_start and range_end must be ISO 8601" });
  }
  const org = query.get("organization_id");
  const all = events.map((e, i) => ({ e, object: eventObject(e, i) }));
  const matching = all.filter(({ e }) => {
    const at = Date.parse(e.created_at);
    return types.has(e.event) && at >= startMs && at < endMs && (org === null || e.organization_id === org);
  });
  const after = query.get("after");
  let from = 0;
  if (after !== null) {
    const at = matching.findIndex(({ object }) => object["id"] === after);
    if (at < 0) return json(422, { code: "invalid_request_parameters", message: "after is not a known event id" });
    from = at + 1;
  }
  const page = matching.slice(from, from + limit).map(({ object }) => object);
  if (corrupt && page[0] !== undefined) {
    (page[0]["data"] as { sso: Record<string, unknown> }).sso["connection_id"] = 42;
  }
  const last = page[page.length - 1];
  return json(200, {
    object: "list",
    data: page,
    list_metadata: { after: from + page.length < matching.length && last !== undefined ? last["id"] : null },
  });
}
