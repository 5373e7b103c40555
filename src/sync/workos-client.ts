/**
 * A small client for the WorkOS endpoints the router reads: `GET /connections`
 * (cursor-paginated) and `GET /sdk/feature-flags` (what the SDK runtime client
 * polls) for the provider sync, and `GET /events` (cursor-paginated) for the
 * autopilot's per-connection login outcomes (src/autopilot/outcomes.ts). Only the
 * management API, the cron trigger and the autopilot call it, never the callback
 * path, so a WorkOS outage only delays a sync or a gate.
 *
 * Every answer is validated; a malformed one fails the whole call with an
 * error naming the field, so a sync never applies part of a listing. Waiting
 * (Retry-After, backoff) is bounded in total, so a sync always ends.
 */
import * as z from "zod";
import { workosConfigFor } from "../config";
import type { EnvVars } from "../env";
import { ProviderState, type ProviderState as ProviderStateType } from "../table/schema";

/** One provider connection, reduced to what the sync uses. */
export interface ProviderConnection {
  id: string;
  name: string;
  state: ProviderStateType;
  organizationId: string | null;
}

/** One feature flag's organization targeting. */
export interface FlagSnapshot {
  slug: string;
  enabled: boolean;
  defaultValue: boolean;
  organizations: Array<{ id: string; enabled: boolean }>;
}

export interface ClientOptions {
  /** Pages of a listing (/connections, /events) followed at most; more fails the call (nothing is applied). */
  maxPages: number;
  /** `limit` per page (WorkOS allows 1–100). */
  pageLimit: number;
  /** Retries after a 5xx or a network error, with exponential backoff. */
  maxRetries: number;
  retryBaseMs: number;
  /** Retries after a 429 (each waits Retry-After). */
  maxRateLimitRetries: number;
  /** Total time one client may spend waiting (Retry-After and backoff together). */
  maxWaitMs: number;
  requestTimeoutMs: number;
  sleep: (ms: number) => Promise<void>;
}

export const DEFAULT_CLIENT_OPTIONS: ClientOptions = {
  maxPages: 100,
  pageLimit: 100,
  maxRetries: 2,
  retryBaseMs: 250,
  maxRateLimitRetries: 3,
  maxWaitMs: 10_000,
  requestTimeoutMs: 10_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** WorkOS failed, refused us, or answered something we cannot use. */
export class WorkosError extends Error {
  constructor(
    message: string,
    /** The response field at fault (e.g. `data.3.state`), for a malformed answer. */
    readonly field?: string,
  ) {
    super(message);
    this.name = "WorkosError";
  }
}

const Connection = z.object({
  id: z.string().min(1).max(128),
  name: z.string().max(1000),
  state: ProviderState,
  organization_id: z.string().min(1).max(128).nullable().optional(),
});

const ConnectionsPage = z.object({
  data: z.array(Connection),
  list_metadata: z.object({ after: z.string().min(1).max(256).nullable() }),
});

/** One event of `GET /events`, its payload left to the caller to validate. */
export interface WorkosEvent {
  id: string;
  /** The event type, e.g. `authentication.sso_failed`. */
  event: string;
  data: Record<string, unknown>;
  /** ISO 8601. */
  createdAt: string;
}

const Event = z.object({
  id: z.string().min(1).max(256),
  event: z.string().min(1).max(200),
  data: z.record(z.string(), z.unknown()),
  created_at: z.iso.datetime({ offset: true }),
});

const EventsPage = z.object({
  data: z.array(Event),
  // WorkOS documents only `after` in an event list's metadata (it pages forward).
  list_metadata: z.object({
    after: z
      .string()
      .min(1)
      .max(256)
      .nullable()
      .optional()
      .transform((a) => a ?? null),
  }),
});

const FlagEntry = z.object({
  slug: z.string().optional(),
  enabled: z.boolean(),
  default_value: z.boolean(),
  targets: z.object({
    organizations: z.array(z.object({ id: z.string().min(1).max(128), enabled: z.boolean() })),
    users: z.array(z.unknown()).optional(),
  }),
});

export class WorkosClient {
  private readonly options: ClientOptions;
  private waitedMs = 0;

  constructor(
    private readonly baseUrl: URL,
    private readonly apiKey: string,
    options: Partial<ClientOptions> = {},
  ) {
    this.options = { ...DEFAULT_CLIENT_OPTIONS, ...options };
  }

  /** Every connection, following `list_metadata.after` until it is null. */
  async listConnections(): Promise<ProviderConnection[]> {
    const byId = new Map<string, ProviderConnection>();
    await this.eachPage("/connections", new URLSearchParams(), ConnectionsPage, "connections", (page) => {
      for (const c of page.data) {
        // A page boundary can shift while we read; an id seen twice is the same connection.
        if (!byId.has(c.id)) {
          byId.set(c.id, { id: c.id, name: c.name, state: c.state, organizationId: c.organization_id ?? null });
        }
      }
    });
    return [...byId.values()];
  }

  /**
   * Every event of the given types created in [rangeStart, rangeEnd), from `GET /events`
   * (WorkOS API reference, "Events → List events": `events` filter, `range_start` /
   * `range_end` ISO 8601, `limit` 1–100, `after` = the last event id of the previous page,
   * answered as `{ object: "list", data: [event], list_metadata: { after } }` with each
   * event `{ object: "event", id, event, data, created_at }`). `events` is sent as one
   * comma-separated value, as @workos-inc/node does (its query goes through
   * URLSearchParams, which joins an array with commas). An event id seen twice (a page
   * boundary that moved) is kept once. More than `maxPages` pages fail the whole call.
   */
  async listEvents(types: readonly string[], rangeStart: Date, rangeEnd: Date): Promise<WorkosEvent[]> {
    const query = new URLSearchParams({
      events: types.join(","),
      range_start: rangeStart.toISOString(),
      range_end: rangeEnd.toISOString(),
    });
    const byId = new Map<string, WorkosEvent>();
    await this.eachPage("/events", query, EventsPage, "events", (page) => {
      for (const e of page.data) {
        if (!byId.has(e.id)) byId.set(e.id, { id: e.id, event: e.event, data: e.data, createdAt: e.created_at });
      }
    });
    return [...byId.values()];
  }

  /**
   * Reads `path` page by page (`limit`, then `after` = the previous page's
   * `list_metadata.after`) until the cursor is null, validating each page with `schema`.
   */
  private async eachPage<P extends { list_metadata: { after: string | null } }>(
    path: string,
    baseQuery: URLSearchParams,
    schema: z.ZodType<P>,
    things: string,
    onPage: (page: P) => void,
  ): Promise<void> {
    const cursors = new Set<string>();
    let after: string | null = null;
    for (let page = 0; page < this.options.maxPages; page++) {
      const query = new URLSearchParams(baseQuery);
      query.set("limit", String(this.options.pageLimit));
      if (after !== null) query.set("after", after);
      const body = await this.getJson(path, query);
      const parsed = schema.safeParse(body);
      if (!parsed.success) throw malformed(`GET ${path}`, parsed.error);
      onPage(parsed.data);
      after = parsed.data.list_metadata.after;
      if (after === null) return;
      if (cursors.has(after)) throw new WorkosError(`GET ${path}: the cursor "${after}" came back twice`);
      cursors.add(after);
    }
    throw new WorkosError(
      `GET ${path}: more than ${this.options.maxPages} pages of ${this.options.pageLimit} ${things}; stopped without applying anything`,
    );
  }

  /**
   * One flag from `GET /sdk/feature-flags`. Read as an object keyed by slug (what
   * the SDK runtime client reads), or as `{ data: [{ slug, ... }] }`.
   */
  async getFeatureFlag(slug: string): Promise<FlagSnapshot> {
    const body = await this.getJson("/sdk/feature-flags", undefined);
    if (!isRecord(body)) throw new WorkosError("GET /sdk/feature-flags: the body is not a JSON object", "(body)");
    // A keyed flag may itself be called "version" or "data"; its value is then an object.
    if (typeof body["version"] === "number") {
      throw new WorkosError(
        `GET /sdk/feature-flags: answered the rule-based format version ${body["version"]}, which this sync does not read`,
        "version",
      );
    }
    let entry: unknown;
    let path: string;
    const list = body["data"];
    if (Array.isArray(list)) {
      const index = list.findIndex((e) => isRecord(e) && e["slug"] === slug);
      entry = list[index];
      path = `data.${index}`;
    } else {
      entry = body[slug];
      path = slug;
    }
    if (entry === undefined) {
      throw new WorkosError(
        `WorkOS has no feature flag "${slug}" (settings.provider.flagSlug)`,
        "settings.provider.flagSlug",
      );
    }
    const parsed = FlagEntry.safeParse(entry);
    if (!parsed.success) throw malformed("GET /sdk/feature-flags", parsed.error, path);
    return {
      slug,
      enabled: parsed.data.enabled,
      defaultValue: parsed.data.default_value,
      organizations: parsed.data.targets.organizations,
    };
  }

  private async getJson(path: string, query: URLSearchParams | undefined): Promise<unknown> {
    const url = new URL(this.baseUrl.pathname.replace(/\/$/, "") + path, this.baseUrl);
    if (query !== undefined) url.search = query.toString();
    const what = `GET ${path}`;
    let failures = 0;
    let rateLimited = 0;
    for (;;) {
      let response: Response;
      try {
        response = await fetch(url, {
          headers: { authorization: `Bearer ${this.apiKey}`, accept: "application/json" },
          signal: AbortSignal.timeout(this.options.requestTimeoutMs),
        });
      } catch (err) {
        if (failures >= this.options.maxRetries) {
          throw new WorkosError(
            `${what}: WorkOS could not be reached after ${failures + 1} attempts (${describe(err)})`,
          );
        }
        await this.wait(this.backoff(failures++), what);
        continue;
      }
      if (response.status === 429) {
        await response.body?.cancel();
        if (rateLimited >= this.options.maxRateLimitRetries) {
          throw new WorkosError(`${what}: WorkOS rate-limited ${rateLimited + 1} requests in a row (429)`);
        }
        const delay = retryAfterMs(response.headers.get("retry-after")) ?? this.backoff(rateLimited);
        rateLimited++;
        await this.wait(delay, what, "Retry-After");
        continue;
      }
      if (response.status >= 500) {
        await response.body?.cancel();
        if (failures >= this.options.maxRetries) {
          throw new WorkosError(`${what}: WorkOS answered ${response.status} ${failures + 1} times`);
        }
        await this.wait(this.backoff(failures++), what);
        continue;
      }
      if (response.status === 401 || response.status === 403) {
        await response.body?.cancel();
        throw new WorkosError(`${what}: WorkOS refused WORKOS_API_KEY (${response.status})`);
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw new WorkosError(`${what}: WorkOS answered ${response.status}`);
      }
      const text = await response.text();
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new WorkosError(`${what}: the body is not JSON`, "(body)");
      }
    }
  }

  private backoff(attempt: number): number {
    // ±20 % jitter, so many isolates retrying at once do not stay in step.
    return Math.round(this.options.retryBaseMs * 2 ** attempt * (0.8 + Math.random() * 0.4));
  }

  private async wait(ms: number, what: string, reason = "backoff"): Promise<void> {
    if (this.waitedMs + ms > this.options.maxWaitMs) {
      throw new WorkosError(
        `${what}: WorkOS asked for a ${Math.ceil(ms / 1000)} s wait (${reason}), beyond the ${this.options.maxWaitMs / 1000} s one read may wait in total`,
      );
    }
    this.waitedMs += ms;
    await this.options.sleep(ms);
  }
}

/** Retry-After as delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export type ClientSetup =
  { ok: true; client: WorkosClient } | { ok: false; variable: "WORKOS_API_KEY" | "WORKOS_API_URL"; reason: string };

/** The client for this env, or which variable stops it (config/workos.ts). */
export function workosClientFor(env: EnvVars, options: Partial<ClientOptions> = {}): ClientSetup {
  const config = workosConfigFor(env);
  if (!config.ok) return config;
  return { ok: true, client: new WorkosClient(config.config.apiUrl, config.config.apiKey, options) };
}

function malformed(what: string, error: z.ZodError, prefix = ""): WorkosError {
  const issue = error.issues[0];
  const path = [prefix, ...(issue?.path.map(String) ?? [])].filter((p) => p !== "").join(".") || "(body)";
  return new WorkosError(`${what}: malformed answer at ${path}: ${issue?.message ?? "invalid"}`, path);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message.slice(0, 200) : "network error";
}
