/**
 * The new provider's own outcome of each connection's logins, for the autopilot's gates.
 *
 * After the router's 307 the browser belongs to the new provider: a login that fails
 * there (an error page, a signature it rejects) never comes back to the router. WorkOS
 * reports each SSO login as an event, so the gates read them from its Events API through
 * the one WorkOS client (src/sync/workos-client.ts: validated answers, bounded pages,
 * retries and Retry-After waits).
 *
 * What WorkOS documents, and this module relies on:
 * - `GET /events?events=…&range_start=…&range_end=…&limit=…&after=…` lists events "up to
 *   30 days old", cursor-paginated (workos.com/docs/reference/events, "List events";
 *   @workos-inc/node `ListEventOptions`: events, rangeStart, rangeEnd, limit, after).
 * - `authentication.sso_succeeded` / `authentication.sso_failed` (workos.com/docs/events,
 *   "Authentication events → SSO succeeded / SSO failed"): `data` is `{ type: "sso", status:
 *   "succeeded" | "failed", ip_address?, user_agent?, user_id?, email?, sso: { organization_id?,
 *   connection_id?, session_id? }, error?: { code, message } }` (the failed event carries
 *   `error`; the generated WorkOS SDKs model `sso.connection_id` as optional, e.g. the Rust
 *   crate's `AuthenticationSSOSucceededDataSSO`). The connection id is WorkOS' `conn_…`, the
 *   route's `providerConnectionId` (from the package import or the provider sync).
 */
import * as z from "zod";
import type { Env } from "../env";
import { type ClientOptions, DEFAULT_CLIENT_OPTIONS, WorkosError, workosClientFor } from "../sync/workos-client";

/** The two event types read, in the order sent. */
export const SSO_OUTCOME_EVENTS = ["authentication.sso_succeeded", "authentication.sso_failed"] as const;

/** WorkOS keeps events for 30 days (its Events API reference). */
export const EVENTS_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** Logins the new provider finished for one connection in the window. */
export interface ConnectionOutcome {
  succeeded: number;
  failed: number;
}

/**
 * The answer for a set of connections over one window.
 *
 * - `available: true`: WorkOS answered for the whole window. Every connection asked about
 *   is in exactly one of `byConnection` (its counts; `{ succeeded: 0, failed: 0 }` means
 *   WorkOS saw no login of it) and `unavailable` (connection → why it has no source, e.g. no
 *   `providerConnectionId`): a connection missing from `byConnection` is UNKNOWN, never 0.
 * - `available: false`: nothing is known for any connection (WorkOS not configured:
 *   `source: null`; WorkOS failed, rate-limited past the wait budget, or answered
 *   something malformed: `source: "workos-events"` and the reason names the field).
 */
export type OutcomeReading =
  | {
      available: true;
      source: "workos-events";
      byConnection: Record<string, ConnectionOutcome>;
      /** Connections with no outcome source, and why. */
      unavailable: Record<string, string>;
      /** SSO events read in the window (all connections). */
      events: number;
      /** Of those, events that name no connection (`data.sso.connection_id` absent): no connection's count has them. */
      unattributed: number;
    }
  | { available: false; source: "workos-events" | null; reason: string };

export interface OutcomeOptions {
  /** Passed to the WorkOS client (page bound, retries, wait budget, request timeout). */
  client: Partial<ClientOptions>;
  /** Total time one reading may take, in ms, waits included; a page is not started after it. */
  deadlineMs: number;
  now: () => number;
}

export const DEFAULT_OUTCOME_OPTIONS: OutcomeOptions = {
  // 50 pages of 100: 5,000 SSO logins in one gate window; more is refused, not judged on part of it.
  client: { maxPages: 50, pageLimit: 100 },
  deadlineMs: 30_000,
  now: () => Date.now(),
};

/** Names the field it refuses: `data.sso.connection_id` (of the event `event_…`). */
const SsoEventData = z.object({
  sso: z
    .object({ connection_id: z.string().min(1).max(128).nullable().optional() })
    .nullable()
    .optional(),
});

/**
 * Reads WorkOS' SSO outcome of `connections` (Auth0 connection names, each with the
 * WorkOS connection id it maps to) for events created in [fromMs, toMs) (epoch ms).
 * Never throws: every failure is an `available: false` reading with its reason.
 * Bounded: at most `client.maxPages` pages and `deadlineMs` (the client's own wait budget
 * and request timeout apply inside that).
 */
export async function readProviderOutcomes(
  env: Env,
  connections: ReadonlyArray<{ connection: string; providerConnectionId?: string }>,
  fromMs: number,
  toMs: number,
  options: Partial<OutcomeOptions> = {},
): Promise<OutcomeReading> {
  const opts = { ...DEFAULT_OUTCOME_OPTIONS, ...options };
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs) || fromMs >= toMs) {
    return { available: false, source: null, reason: `the window [${fromMs}, ${toMs}) is empty or not a time` };
  }
  if (fromMs < opts.now() - EVENTS_RETENTION_MS) {
    return {
      available: false,
      source: "workos-events",
      reason: `the window starts ${new Date(fromMs).toISOString()}, before the 30 days WorkOS keeps events`,
    };
  }
  const deadline = opts.now() + opts.deadlineMs;
  const setup = workosClientFor(env, {
    ...opts.client,
    // The client's own wait budget never outlasts the reading's deadline.
    maxWaitMs: Math.min(opts.client.maxWaitMs ?? DEFAULT_CLIENT_OPTIONS.maxWaitMs, opts.deadlineMs),
    requestTimeoutMs: Math.min(
      opts.client.requestTimeoutMs ?? DEFAULT_CLIENT_OPTIONS.requestTimeoutMs,
      opts.deadlineMs,
    ),
  });
  if (!setup.ok) return { available: false, source: null, reason: `${setup.variable} ${setup.reason}` };
  const { mapped, unavailable } = mapConnections(connections);
  if (mapped.size === 0) {
    return {
      available: false,
      source: null,
      reason:
        connections.length === 0
          ? "no connection to read"
          : `none of the ${connections.length} connections has a providerConnectionId (import the WorkOS package or run the provider sync)`,
    };
  }
  try {
    const events = await withDeadline(
      setup.client.listEvents(SSO_OUTCOME_EVENTS, new Date(fromMs), new Date(toMs)),
      deadline - opts.now(),
    );
    const byConnection: Record<string, ConnectionOutcome> = {};
    for (const name of mapped.values()) byConnection[name] = { succeeded: 0, failed: 0 };
    let unattributed = 0;
    let read = 0;
    for (const e of events) {
      const outcome = outcomeOf(e.event);
      if (outcome === null) continue; // another type: not asked for
      const parsed = SsoEventData.safeParse(e.data);
      if (!parsed.success) {
        const path = ["data", ...(parsed.error.issues[0]?.path.map(String) ?? [])].join(".");
        return {
          available: false,
          source: "workos-events",
          reason: `GET /events: malformed answer at ${path} of event ${e.id}: ${parsed.error.issues[0]?.message ?? "invalid"}`,
        };
      }
      read++;
      const id = parsed.data.sso?.connection_id ?? null;
      if (id === null) {
        unattributed++;
        continue;
      }
      const name = mapped.get(id);
      if (name !== undefined) (byConnection[name] as ConnectionOutcome)[outcome]++;
    }
    return { available: true, source: "workos-events", byConnection, unavailable, events: read, unattributed };
  } catch (err) {
    const reason = err instanceof WorkosError ? err.message : `unexpected: ${describe(err)}`;
    return { available: false, source: "workos-events", reason };
  }
}

/** conn id → Auth0 connection, and the connections left without a source. */
function mapConnections(connections: ReadonlyArray<{ connection: string; providerConnectionId?: string }>): {
  mapped: Map<string, string>;
  unavailable: Record<string, string>;
} {
  const unavailable: Record<string, string> = {};
  const byId = new Map<string, string[]>();
  for (const { connection, providerConnectionId } of connections) {
    const id = providerConnectionId?.trim() ?? "";
    if (id === "") {
      unavailable[connection] = "no providerConnectionId: WorkOS' events cannot be matched to this connection";
      continue;
    }
    byId.set(id, [...(byId.get(id) ?? []), connection]);
  }
  const mapped = new Map<string, string>();
  for (const [id, names] of byId) {
    const [only] = names;
    if (names.length === 1 && only !== undefined) {
      mapped.set(id, only);
      continue;
    }
    // Two routes on one WorkOS connection: its events cannot be split between them.
    for (const name of names) {
      unavailable[name] = `providerConnectionId ${id} is shared with ${names.filter((n) => n !== name).join(", ")}`;
    }
  }
  return { mapped, unavailable };
}

function outcomeOf(type: string): keyof ConnectionOutcome | null {
  if (type === "authentication.sso_succeeded") return "succeeded";
  if (type === "authentication.sso_failed") return "failed";
  return null;
}

async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new WorkosError(`GET /events: no complete answer within ${Math.round(ms / 1000)} s`)),
      Math.max(0, ms),
    );
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message.slice(0, 200) : "error";
}
