/**
 * Bounce marks: the router's signature on its own hand-offs to the new provider, so that
 * only a `fallback=auth0` bounce of a login the router really sent there counts as one, and
 * each hand-off counts at most once (docs/design.md, "Bounce marks"). Anyone can send
 * `…/login/callback?connection=C&fallback=auth0`; only a browser the router redirected for C
 * within the last MARK_TTL_MS carries a mark for C, and each mark is a different one.
 *
 *   Set-Cookie: crb-{connection}={bucket}.{nonce}.{tag}; Max-Age=900; Path=/login/callback; Secure; HttpOnly; SameSite=None
 *
 * (`crb` alone when the redirect named no connection: `unknown: probe` of an unidentified
 * callback). `bucket`: the time bucket the mark was made for, floor(ms / BUCKET_MS) in base
 * 36; `nonce`: NONCE_BYTES random bytes (crypto.getRandomValues) in base64url, one per
 * hand-off; `tag`: the first 12 bytes of HMAC-SHA-256(K, "callback-router/bounce-mark/v2" NUL
 * bucket NUL connection NUL nonce) in base64url (RFC 2104, truncation per §5). K is derived
 * from AFFINITY_SECRET with HKDF-SHA-256 (RFC 5869, info "callback-router/bounce-mark/v2"),
 * so a mark is never an affinity tag nor the other way round. Without AFFINITY_SECRET no mark
 * is made and every bounce is unverified (fail closed: counted apart, never a flag).
 *
 * A valid mark here only says "the router made this for C, recently". That it is counted
 * once is the counters' job: the bounce carries markId (a hash of the nonce, never the
 * cookie) to the TrafficCounter shard that owns that id, which counts it as a bounce the
 * first time and as `fallback-unverified` after (src/stats/counter-do.ts, spent marks).
 *
 * SameSite=None: the bounce is a cross-site request from the provider's host (a 307 or a
 * form POST); Path: the cookie goes with callbacks only. The cookie is not removed by the
 * bounce's answer (that answer is Auth0's, sent on unchanged); it expires on its own.
 *
 * The 307 path stays synchronous: signing is async (WebCrypto), so each isolate keeps a small
 * pool of marks signed in advance per connection, for this bucket and the next
 * (markFromCache takes one and refills the pool off the request path). A redirect that finds
 * the pool empty takes the awaited path (markFor), which signs one.
 */
import { bytesToBase64Url } from "../affinity/base64";
import { constantTimeEqual } from "../affinity/cookie";
import { CALLBACK_PATH } from "../affinity/handles";

/** Cookie name of a mark for `connection` (`crb` when the redirect named none). */
export const MARK_COOKIE = "crb";
/** Marks are made per time bucket; a mark says which. */
export const BUCKET_MS = 5 * 60_000;
/** A mark is honoured at least this long after it was set, at most BUCKET_MS more. */
export const MARK_TTL_MS = 10 * 60_000;
/** The cookie's Max-Age: as long as a mark can be honoured. */
export const MARK_MAX_AGE_SECONDS = (MARK_TTL_MS + BUCKET_MS) / 1000;
/** Bytes of HMAC output kept (96 bits). */
const TAG_BYTES = 12;
/** Random bytes per mark (96 bits): no two hand-offs share one. */
const NONCE_BYTES = 12;
const DOMAIN = "callback-router/bounce-mark/v2";
/** Marks signed in advance per connection for the current bucket (the next gets a quarter). */
const POOL_SIZE = 16;
/** Connections whose pools one isolate keeps (then the pools start over): ~3 KB each. */
const MAX_POOLED_CONNECTIONS = 1_000;

/** What a bounce's mark says; only "valid" can count it as a bounce (src/stats/outcome.ts). */
export type MarkCheck =
  /** A mark the router made for this connection, within MARK_TTL_MS. */
  | "valid"
  /** No mark for this connection in the request. */
  | "missing"
  /** The router's mark for this connection, but too old. */
  | "expired"
  /** A cookie of the mark's name that the router did not make for this connection (edited, copied from another, forged, or of the nonce-less v1 format). */
  | "invalid"
  /** No AFFINITY_SECRET: the router cannot make or check marks. */
  | "not-configured";

/** check()'s answer: for a valid mark, which one (markId). */
export interface MarkVerdict {
  check: MarkCheck;
  /** Valid only: hex of the first 16 bytes of SHA-256(nonce); the counters spend it once. */
  markId?: string;
}

/**
 * How long after a bounce its mark's spent record must be kept: a mark checked at t was made
 * for a bucket at most one ahead of t's, so it is honoured until at most t + MARK_TTL_MS + 2
 * buckets; after that the mark is refused as expired anyway.
 */
export const SPENT_KEEP_MS = MARK_TTL_MS + 2 * BUCKET_MS;

const VALUE = /^([0-9a-z]{1,10})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{16})$/;

export function markCookieName(connection: string | undefined): string {
  return connection === undefined ? MARK_COOKIE : `${MARK_COOKIE}-${connection}`;
}

export function bucketOf(ms: number): number {
  return Math.floor(ms / BUCKET_MS);
}

/** The end of the honour of a mark made for `bucket` (ms). */
export function honouredUntil(bucket: number): number {
  return (bucket + 1) * BUCKET_MS + MARK_TTL_MS;
}

/** The marks of one secret: its derived key and each connection's pool of signed marks. */
export class BounceMarks {
  private readonly key: Promise<CryptoKey>;
  /** connection ("" for none) → bucket → Set-Cookie values signed for it, not yet handed out. */
  private readonly pools = new Map<string, Map<number, string[]>>();
  /** Connections whose pool is being refilled. */
  private readonly refilling = new Set<string>();

  constructor(secret: string) {
    this.key = deriveMarkKey(secret);
  }

  /**
   * The Set-Cookie header of a mark for `connection` at `now`, taken from this isolate's pool
   * (synchronous: the 307 path), else undefined. Each mark is handed out once. The pool is
   * refilled off the request path when it runs low, for this bucket and the next, so it does
   * not go cold when a bucket ends.
   */
  markFromCache(connection: string | undefined, now: number): string | undefined {
    const bucket = bucketOf(now);
    const id = connection ?? "";
    const header = this.pools.get(id)?.get(bucket)?.pop();
    const pool = this.pools.get(id);
    if ((pool?.get(bucket)?.length ?? 0) < POOL_SIZE / 2 || (pool?.get(bucket + 1)?.length ?? 0) === 0) {
      this.refill(connection, bucket).catch(() => undefined);
    }
    return header;
  }

  /** The Set-Cookie header of a mark for `connection` at `now`: from the pool, else signed now. */
  async markFor(connection: string | undefined, now: number): Promise<string> {
    return this.markFromCache(connection, now) ?? (await this.sign(connection, bucketOf(now)));
  }

  /**
   * What `cookieHeader` (a request's Cookie header) says of a bounce of `connection` at `now`:
   * "valid" (with the mark's id and honour) when it carries a mark the router made for
   * `connection` that is still honoured. Cost: nothing without a cookie of the mark's name;
   * else one HMAC per such cookie (at most 4 are looked at) and one SHA-256 for a valid one.
   */
  async check(cookieHeader: string | null, connection: string | undefined, now: number): Promise<MarkVerdict> {
    const values = cookieValues(cookieHeader, markCookieName(connection));
    if (values.length === 0) return { check: "missing" };
    let found: MarkCheck = "invalid";
    for (const value of values.slice(0, 4)) {
      const shape = VALUE.exec(value);
      if (shape === null) continue;
      const bucket = Number.parseInt(shape[1] ?? "", 36);
      const nonce = shape[2] ?? "";
      // Made ahead by at most one bucket (another machine's clock); never from further on.
      if (!Number.isSafeInteger(bucket) || bucket > bucketOf(now) + 1) continue;
      if (!constantTimeEqual(shape[3] ?? "", await this.tag(connection, bucket, nonce))) continue;
      if (now >= honouredUntil(bucket)) {
        found = "expired";
        continue;
      }
      return { check: "valid", markId: await markIdOf(nonce) };
    }
    return { check: found };
  }

  /** Tops up `connection`'s pool: POOL_SIZE marks for `bucket`, a quarter of that for the next. */
  private async refill(connection: string | undefined, bucket: number): Promise<void> {
    const id = connection ?? "";
    if (this.refilling.has(id)) return;
    this.refilling.add(id);
    try {
      let pool = this.pools.get(id);
      if (pool === undefined) {
        if (this.pools.size >= MAX_POOLED_CONNECTIONS) this.pools.clear();
        pool = new Map();
        this.pools.set(id, pool);
      }
      // Only the buckets still handed out are kept (this one and the next).
      for (const old of pool.keys()) if (old < bucket) pool.delete(old);
      for (const [b, size] of [
        [bucket, POOL_SIZE],
        [bucket + 1, POOL_SIZE / 4],
      ] as const) {
        const marks = pool.get(b) ?? [];
        pool.set(b, marks);
        const wanted = size - marks.length;
        if (wanted > 0)
          marks.push(...(await Promise.all(Array.from({ length: wanted }, () => this.sign(connection, b)))));
      }
    } finally {
      this.refilling.delete(id);
    }
  }

  /** A new mark (a fresh nonce) for `connection` and `bucket`, as its Set-Cookie header. */
  private async sign(connection: string | undefined, bucket: number): Promise<string> {
    const nonce = bytesToBase64Url(crypto.getRandomValues(new Uint8Array(NONCE_BYTES)));
    const value = `${bucket.toString(36)}.${nonce}.${await this.tag(connection, bucket, nonce)}`;
    return `${markCookieName(connection)}=${value}; Max-Age=${MARK_MAX_AGE_SECONDS}; Path=${CALLBACK_PATH}; Secure; HttpOnly; SameSite=None`;
  }

  private async tag(connection: string | undefined, bucket: number, nonce: string): Promise<string> {
    const message = new TextEncoder().encode(`${DOMAIN}\0${bucket.toString(36)}\0${connection ?? ""}\0${nonce}`);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await this.key, message));
    return bytesToBase64Url(mac.subarray(0, TAG_BYTES));
  }
}

/** A mark's id: hex of the first 16 bytes of SHA-256 of its nonce (what logs and counters carry). */
async function markIdOf(nonce: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(nonce)));
  return [...digest.subarray(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** HKDF-SHA-256 (RFC 5869) of the secret, info DOMAIN, as an HMAC-SHA-256 signing key. */
async function deriveMarkKey(secret: string): Promise<CryptoKey> {
  const encoder = new TextEncoder();
  const base = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode(DOMAIN) },
    base,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign"],
  );
}

const instances = new Map<string, BounceMarks>();

/** The marks of `secret`, one instance (key, cache) per isolate. */
export function bounceMarks(secret: string): BounceMarks {
  let marks = instances.get(secret);
  if (marks === undefined) {
    marks = new BounceMarks(secret);
    instances.set(secret, marks);
  }
  return marks;
}

/** The values of every cookie named `name` in a Cookie header (RFC 6265 §4.2.1). */
function cookieValues(cookieHeader: string | null, name: string): string[] {
  if (cookieHeader === null || !cookieHeader.includes(name)) return [];
  const values: string[] = [];
  for (const pair of cookieHeader.split(";")) {
    const eq = pair.indexOf("=");
    if (eq !== -1 && pair.slice(0, eq).trim() === name) values.push(pair.slice(eq + 1).trim());
  }
  return values;
}
