/**
 * Reads the route table from Workers KV for the callback path.
 *
 * - One `get` per key (route:, match:, settings): cost does not grow with the table.
 * - Each isolate remembers what it read for `routeCacheMs`, and KV's own edge
 *   cache holds reads for `kvCacheTtlSeconds`.
 * - A KV error answers with the last value this isolate saw for that key,
 *   however old; with none, the lookup is `unavailable` and the caller sends
 *   the callback to Auth0 (fail safe: unmigrated connections keep working).
 * - Every record is re-validated with the API's schema and its target checked
 *   against the allow-list; a record that fails is `invalid`, never acted on.
 *   That check runs once per record text the isolate reads, not per callback.
 */
import type { Config } from "../config";
import { checkTarget } from "../targets";
import { matchKey, orgKey, routeKey, SETTINGS_KEY, type MatchKind } from "./kv-layout";
import { DEFAULT_SETTINGS, describeIssues, parseStoredSettings, Route, type Settings } from "./schema";

export interface LoadedRoute extends Route {
  /** The checked target; undefined when the route has none (settings.defaultTarget applies). */
  targetUrl: URL | undefined;
}

export interface LoadedSettings extends Settings {
  defaultTargetUrl: URL | undefined;
  /** Why defaultTarget was refused, when it was. */
  defaultTargetProblem: string | undefined;
}

export type Lookup<T> =
  | { status: "found"; value: T; stale: boolean }
  | { status: "absent"; stale: boolean }
  | { status: "invalid"; reason: string; stale: boolean }
  | { status: "unavailable"; error: string };

interface CacheEntry {
  raw: string | null;
  readAt: number;
  /**
   * What `raw` parsed to (schema, allow-list), for the config it was checked
   * against: a cached record is parsed once, not on every callback.
   */
  parsed?: { by: StoreConfig; lookup: Parsed<unknown>; fresh?: Lookup<unknown> };
}

/** A lookup before its `stale` flag, which belongs to each read. */
type Parsed<T> = { status: "found"; value: T } | { status: "absent" } | { status: "invalid"; reason: string };

/** Bounded so a flood of made-up connection names cannot grow an isolate's memory. */
const MAX_CACHE_ENTRIES = 20_000;

export class IsolateCache {
  private readonly entries = new Map<string, CacheEntry>();
  /**
   * The last settings text this isolate parsed said `auth0: retired` (also when the rest of
   * it was refused): kept apart from the entries, which a flood of names can evict, so a
   * retired router that later cannot read its settings still forwards nothing to Auth0.
   */
  retiredSeen = false;

  get(key: string): CacheEntry | undefined {
    return this.entries.get(key);
  }

  set(key: string, entry: CacheEntry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > MAX_CACHE_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  clear(): void {
    this.entries.clear();
    this.retiredSeen = false;
  }
}

/** One per isolate: survives between requests, which is what makes it a cache. */
export const isolateCache = new IsolateCache();

export type StoreConfig = Pick<
  Config,
  "routeCacheMs" | "kvCacheTtlSeconds" | "environment" | "allowedTargetHosts" | "kvReadTimeoutMs"
>;

/** What RouteStore needs of KV: reading one key as text (Workers KV, or table/overlay-kv.ts over it). */
export interface KvReader {
  get(key: string, options: { type: "text"; cacheTtl: number }): Promise<string | null>;
}

export class RouteStore {
  constructor(
    private readonly kv: KvReader,
    private readonly config: StoreConfig,
    private readonly cache: IsolateCache = isolateCache,
    private readonly now: () => number = Date.now,
  ) {}

  /** The isolate's copy of `key` while it is younger than `routeCacheMs`, else undefined; never reads KV. */
  private fresh(key: string): CacheEntry | undefined {
    const cached = this.cache.get(key);
    return cached !== undefined && this.now() - cached.readAt < this.config.routeCacheMs ? cached : undefined;
  }

  /** The raw text under `key`, or null; through the isolate cache, with the stale fallback. */
  private async read(
    key: string,
  ): Promise<{ ok: true; entry: CacheEntry; stale: boolean } | { ok: false; error: string }> {
    const cached = this.cache.get(key);
    const now = this.now();
    if (cached !== undefined && now - cached.readAt < this.config.routeCacheMs) {
      return { ok: true, entry: cached, stale: false };
    }
    try {
      const raw = await withTimeout(
        this.kv.get(key, { type: "text", cacheTtl: this.config.kvCacheTtlSeconds }),
        this.config.kvReadTimeoutMs,
      );
      // The same text as before keeps what it parsed to.
      const entry: CacheEntry = { raw, readAt: now };
      if (cached?.parsed !== undefined && cached.raw === raw) entry.parsed = cached.parsed;
      this.cache.set(key, entry);
      return { ok: true, entry, stale: false };
    } catch (err) {
      if (cached !== undefined) return { ok: true, entry: cached, stale: true };
      return { ok: false, error: err instanceof Error ? err.message.slice(0, 200) : "KV read failed" };
    }
  }

  /**
   * `parse(raw)` once per cached text and config; the result (and its not-stale lookup, which
   * every callback within `routeCacheMs` gets) is shared, so never mutated.
   */
  private parsedOnce<T>(entry: CacheEntry, stale: boolean, parse: (raw: string | null) => Parsed<T>): Lookup<T> {
    let parsed = entry.parsed;
    if (parsed === undefined || parsed.by !== this.config) {
      parsed = { by: this.config, lookup: parse(entry.raw) };
      entry.parsed = parsed;
    }
    if (stale) return { ...(parsed.lookup as Parsed<T>), stale };
    parsed.fresh ??= { ...parsed.lookup, stale: false };
    return parsed.fresh as Lookup<T>;
  }

  async route(connection: string): Promise<Lookup<LoadedRoute>> {
    const read = await this.read(routeKey(connection));
    if (!read.ok) return { status: "unavailable", error: read.error };
    return this.parsedOnce(read.entry, read.stale, (raw) => this.parseRoute(connection, raw));
  }

  /**
   * What `route(connection)` answers, when the isolate's copy is fresh (younger than
   * `routeCacheMs`): synchronously, without a KV read or a promise. Undefined otherwise
   * (then ask `route`). The callback's hot path (src/callback/route-callback.ts).
   */
  cachedRoute(connection: string): Lookup<LoadedRoute> | undefined {
    const entry = this.fresh(routeKey(connection));
    return entry === undefined ? undefined : this.parsedOnce(entry, false, (raw) => this.parseRoute(connection, raw));
  }

  private parseRoute(connection: string, raw: string | null): Parsed<LoadedRoute> {
    if (raw === null) return { status: "absent" };
    const parsed = Route.safeParse(safeJson(raw));
    if (!parsed.success) return { status: "invalid", reason: describeIssues(parsed.error).join("; ") };
    const route = parsed.data;
    if (route.connection !== connection) {
      return { status: "invalid", reason: `record names connection "${route.connection}"` };
    }
    let targetUrl: URL | undefined;
    if (route.target !== undefined) {
      const target = checkTarget(route.target, this.config);
      if (!target.ok) return { status: "invalid", reason: target.reason };
      targetUrl = target.url;
    }
    return { status: "found", value: { ...route, targetUrl } };
  }

  /** The connection a `match` index entry names. */
  async matched(kind: MatchKind, value: string): Promise<Lookup<string>> {
    const key = matchKey(kind, value);
    // KV keys are at most 512 bytes; a longer value cannot have been indexed.
    if (new TextEncoder().encode(key).byteLength > 512) return { status: "absent", stale: false };
    const read = await this.read(key);
    if (!read.ok) return { status: "unavailable", error: read.error };
    const raw = read.entry.raw;
    if (raw === null) return { status: "absent", stale: read.stale };
    return { status: "found", value: raw, stale: read.stale };
  }

  /** The connections of one organization (the `org:` index; used by /evaluate). */
  async organizationConnections(organization: string): Promise<Lookup<string[]>> {
    const read = await this.read(orgKey(organization));
    if (!read.ok) return { status: "unavailable", error: read.error };
    const raw = read.entry.raw;
    if (raw === null) return { status: "absent", stale: read.stale };
    const value = safeJson(raw);
    if (!Array.isArray(value) || !value.every((v): v is string => typeof v === "string")) {
      return { status: "invalid", reason: "org index is not a list of connection names", stale: read.stale };
    }
    return { status: "found", value, stale: read.stale };
  }

  /** Settings; absent means the defaults. An older `mode: passthrough` reads as the kill switch on (table/schema.ts). */
  async settings(): Promise<Lookup<LoadedSettings>> {
    const read = await this.read(SETTINGS_KEY);
    if (!read.ok) return { status: "unavailable", error: read.error };
    return this.parsedOnce(read.entry, read.stale, (raw) => this.parseSettings(raw));
  }

  /** What `settings()` answers when the isolate's copy is fresh, synchronously; else undefined (see cachedRoute). */
  cachedSettings(): Lookup<LoadedSettings> | undefined {
    const entry = this.fresh(SETTINGS_KEY);
    return entry === undefined ? undefined : this.parsedOnce(entry, false, (raw) => this.parseSettings(raw));
  }

  /** The last settings this isolate parsed said Auth0 is retired (see IsolateCache.retiredSeen). */
  retiredSeen(): boolean {
    return this.cache.retiredSeen;
  }

  private parseSettings(raw: string | null): Parsed<LoadedSettings> {
    const json = raw === null ? DEFAULT_SETTINGS : safeJson(raw);
    const parsed = parseStoredSettings(json);
    this.cache.retiredSeen = saysRetired(json);
    if (!parsed.success) return { status: "invalid", reason: describeIssues(parsed.error).join("; ") };
    const settings = parsed.data;
    let defaultTargetUrl: URL | undefined;
    let defaultTargetProblem: string | undefined;
    if (settings.defaultTarget !== undefined) {
      const target = checkTarget(settings.defaultTarget, this.config);
      if (target.ok) defaultTargetUrl = target.url;
      else defaultTargetProblem = target.reason;
    }
    return { status: "found", value: { ...settings, defaultTargetUrl, defaultTargetProblem } };
  }
}

/** A slow KV read must not hold a sign-in: past `ms` it counts as failed. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`KV read took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A settings document says `auth0: retired`, whether or not the rest of it is valid. */
function saysRetired(json: unknown): boolean {
  return typeof json === "object" && json !== null && (json as Record<string, unknown>)["auth0"] === "retired";
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
