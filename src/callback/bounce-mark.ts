/**
 * Bounce marks: the router's signature on its own hand-offs to the new provider, so that
 * only a `fallback=auth0` bounce of a login the router really sent there counts as one
 * (docs/design.md, "Bounce marks"). Anyone can send `…/login/callback?connection=C&fallback=auth0`;
 * only a browser the router redirected for C within the last MARK_TTL_MS carries C's mark.
 *
 *   Set-Cookie: crb-{connection}={bucket}.{tag}; Max-Age=900; Path=/login/callback; Secure; HttpOnly; SameSite=None
 *
 * (`crb` alone when the redirect named no connection: `unknown: probe` of an unidentified
 * callback). `bucket`: the time bucket the mark was made in, floor(ms / BUCKET_MS) in
 * base 36; `tag`: the first 12 bytes of HMAC-SHA-256(K, "callback-router/bounce-mark/v1"
 * NUL bucket NUL connection) in base64url (RFC 2104, truncation per §5). K is derived from
 * AFFINITY_SECRET with HKDF-SHA-256 (RFC 5869, info "callback-router/bounce-mark/v1"), so
 * a mark is never an affinity tag nor the other way round. Without AFFINITY_SECRET no mark is
 * made and every bounce is unverified (fail closed: counted apart, never a flag).
 *
 * SameSite=None: the bounce is a cross-site request from the provider's host (a 307 or a
 * form POST); Path: the cookie goes with callbacks only. The cookie is not removed by the
 * bounce's answer (that answer is Auth0's, sent on unchanged); it expires on its own.
 *
 * The 307 path stays synchronous: a mark is the same for every redirect of one connection
 * within a bucket, so it is computed once per isolate, connection and bucket, and the next
 * bucket's mark is computed in advance with the current one (markFromCache). A redirect
 * that finds no mark ready takes the awaited path (markFor).
 */
import { bytesToBase64Url } from "../affinity/base64";
import { constantTimeEqual } from "../affinity/cookie";
import { CALLBACK_PATH } from "../affinity/handles";

/** Cookie name of a mark for `connection` (`crb` when the redirect named none). */
export const MARK_COOKIE = "crb";
/** Marks are made per time bucket: a mark is the same for all redirects of a connection within one. */
export const BUCKET_MS = 5 * 60_000;
/** A mark is honoured at least this long after it was set, at most BUCKET_MS more. */
export const MARK_TTL_MS = 10 * 60_000;
/** The cookie's Max-Age: as long as a mark can be honoured. */
export const MARK_MAX_AGE_SECONDS = (MARK_TTL_MS + BUCKET_MS) / 1000;
/** Bytes of HMAC output kept (96 bits). */
const TAG_BYTES = 12;
const DOMAIN = "callback-router/bounce-mark/v1";
/** Connections whose marks one isolate keeps (then the cache starts over). */
const MAX_CACHED_CONNECTIONS = 10_000;

/** What a bounce's mark says; only "valid" counts it as a bounce (src/stats/outcome.ts). */
export type MarkCheck =
  /** A mark the router made for this connection, within MARK_TTL_MS. */
  | "valid"
  /** No mark for this connection in the request. */
  | "missing"
  /** The router's mark for this connection, but too old. */
  | "expired"
  /** A cookie of the mark's name that the router did not make for this connection (edited, copied from another, forged). */
  | "invalid"
  /** No AFFINITY_SECRET: the router cannot make or check marks. */
  | "not-configured";

const VALUE = /^([0-9a-z]{1,10})\.([A-Za-z0-9_-]{16})$/;

export function markCookieName(connection: string | undefined): string {
  return connection === undefined ? MARK_COOKIE : `${MARK_COOKIE}-${connection}`;
}

export function bucketOf(ms: number): number {
  return Math.floor(ms / BUCKET_MS);
}

/** The marks of one secret: its derived key and the marks computed so far. */
export class BounceMarks {
  private readonly key: Promise<CryptoKey>;
  /** connection ("" for none) → bucket → Set-Cookie value. */
  private readonly cache = new Map<string, Map<number, string>>();

  constructor(secret: string) {
    this.key = deriveMarkKey(secret);
  }

  /**
   * The Set-Cookie header of the mark for `connection` at `now`, when this isolate has it
   * ready (synchronous: the 307 path), else undefined — and it is computed for the next
   * redirect. Each mark handed out has the next bucket's computed too, so the cache does
   * not go cold when a bucket ends.
   */
  markFromCache(connection: string | undefined, now: number): string | undefined {
    const bucket = bucketOf(now);
    const marks = this.cache.get(connection ?? "");
    const header = marks?.get(bucket);
    if (header === undefined || !marks?.has(bucket + 1)) {
      this.markFor(connection, now).catch(() => undefined);
    }
    return header;
  }

  /** The Set-Cookie header of the mark for `connection` at `now` (and the next bucket's, made in advance). */
  async markFor(connection: string | undefined, now: number): Promise<string> {
    const bucket = bucketOf(now);
    const [header] = await Promise.all([this.compute(connection, bucket), this.compute(connection, bucket + 1)]);
    return header;
  }

  /**
   * Whether `cookieHeader` (a request's Cookie header) carries a mark the router made for
   * `connection` that is still honoured at `now`. Cost: nothing without a cookie of the
   * mark's name; else one HMAC per such cookie (at most 4 are looked at).
   */
  async check(cookieHeader: string | null, connection: string | undefined, now: number): Promise<MarkCheck> {
    const values = cookieValues(cookieHeader, markCookieName(connection));
    if (values.length === 0) return "missing";
    let found: MarkCheck = "invalid";
    for (const value of values.slice(0, 4)) {
      const shape = VALUE.exec(value);
      if (shape === null) continue;
      const bucket = Number.parseInt(shape[1] ?? "", 36);
      // Made ahead by at most one bucket (another machine's clock); never from further on.
      if (!Number.isSafeInteger(bucket) || bucket > bucketOf(now) + 1) continue;
      if (!constantTimeEqual(shape[2] ?? "", await this.tag(connection, bucket))) continue;
      if (now >= (bucket + 1) * BUCKET_MS + MARK_TTL_MS) {
        found = "expired";
        continue;
      }
      return "valid";
    }
    return found;
  }

  private async compute(connection: string | undefined, bucket: number): Promise<string> {
    const id = connection ?? "";
    let marks = this.cache.get(id);
    const cached = marks?.get(bucket);
    if (cached !== undefined) return cached;
    const header = `${markCookieName(connection)}=${bucket.toString(36)}.${await this.tag(connection, bucket)}; Max-Age=${MARK_MAX_AGE_SECONDS}; Path=${CALLBACK_PATH}; Secure; HttpOnly; SameSite=None`;
    if (marks === undefined) {
      if (this.cache.size >= MAX_CACHED_CONNECTIONS) this.cache.clear();
      marks = new Map();
      this.cache.set(id, marks);
    }
    marks.set(bucket, header);
    // Only the buckets still handed out are kept (this one and the next).
    for (const old of marks.keys()) if (old < bucket - 1) marks.delete(old);
    return header;
  }

  private async tag(connection: string | undefined, bucket: number): Promise<string> {
    const message = new TextEncoder().encode(`${DOMAIN}\0${bucket.toString(36)}\0${connection ?? ""}`);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", await this.key, message));
    return bytesToBase64Url(mac.subarray(0, TAG_BYTES));
  }
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
