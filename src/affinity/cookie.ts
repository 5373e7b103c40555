/**
 * The affinity cookies: which transactions Auth0 started in this browser.
 *
 * Why one small cookie per transaction and not one list: the cookies carry
 * `Path=/login/callback` (sent only with callbacks), so the browser never sends
 * them with the Auth0 response that starts a login (/authorize, /u/login/…) — the
 * Worker cannot read a list there to add to it. Each login start therefore sets
 * its own cookie; the browser keeps each for `Max-Age`, and the callback that
 * finishes a transaction deletes its cookie. (docs/design.md, "Transaction affinity".)
 *
 * A handle is never stored: only a tag, the first 6 bytes of
 * HMAC-SHA-256(AFFINITY_SECRET, "callback-router/affinity/v1" NUL kind NUL connection NUL handle)
 * (RFC 2104; truncation as RFC 2104 §5 allows). The connection, when known, is
 * bound into the tag, so a cookie whose connection was edited matches nothing.
 *
 *   Set-Cookie: cra-{slot}={tag}[{tag}][.{connection}]; Max-Age=…; Path=/login/callback; Secure; HttpOnly; SameSite=None
 *
 * `slot`: 4 base64url characters from bytes 6–8 of the first tag (so two
 * transactions rarely share a name); `tag`: 8 base64url characters each.
 * A cookie that does not have this shape, or any but the newest MAX_COOKIES, is ignored.
 *
 * Bound: logins abandoned before their callback leave their cookie for Max-Age. A login
 * start cannot see them (Path), a callback can, oldest first (RFC 6265 §5.4 step 2: equal
 * paths are listed by creation time): its answer also expires all but the newest
 * KEEP_COOKIES (staleCookieNames), at most MAX_EXPIRED_PER_ANSWER at a time.
 */
import { isConnectionName } from "../table/schema";
import { bytesToBase64Url } from "./base64";
import { CALLBACK_PATH, isUsableHandle, type Handle } from "./handles";

export const COOKIE_PREFIX = "cra-";
/** Bytes of HMAC output kept per handle (48 bits). */
export const TAG_BYTES = 6;
const TAG_CHARS = 8;
const SLOT_CHARS = 4;
/**
 * At most this many affinity cookies are read from one request: the newest (the last listed),
 * since the login finishing now is one of the newest and the oldest are the ones its answer
 * expires (staleCookieNames); the others are ignored.
 */
export const MAX_COOKIES = 64;
/** A callback's answer expires the affinity cookies beyond the newest this many (logins in flight in one browser). */
export const KEEP_COOKIES = 32;
/** Expired by one answer at most (about 90 bytes of Set-Cookie each); the next callback goes on. */
export const MAX_EXPIRED_PER_ANSWER = 64;
/** Handles per transaction: SAML records two (RelayState and the AuthnRequest ID). */
export const MAX_TAGS_PER_COOKIE = 2;
/** Connection names longer than this are not put in the cookie (the transaction is still recorded). */
export const MAX_COOKIE_CONNECTION = 64;
const DOMAIN = "callback-router/affinity/v1";

const keys = new Map<string, Promise<CryptoKey>>();

/** The HMAC key for a secret, imported once per isolate. */
export function affinityKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (key === undefined) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    keys.set(secret, key);
  }
  return key;
}

async function hmac(key: CryptoKey, handle: Handle, connection: string | undefined): Promise<Uint8Array> {
  const message = `${DOMAIN}\0${handle.kind}\0${connection ?? ""}\0${handle.value}`;
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message)));
}

/** The tag of one handle: 8 base64url characters. */
export async function tagOf(key: CryptoKey, handle: Handle, connection: string | undefined): Promise<string> {
  return bytesToBase64Url((await hmac(key, handle, connection)).subarray(0, TAG_BYTES));
}

export interface CookieAttributes {
  maxAgeSeconds: number;
}

function attributes(maxAgeSeconds: number): string {
  return `Max-Age=${maxAgeSeconds}; Path=${CALLBACK_PATH}; Secure; HttpOnly; SameSite=None`;
}

/**
 * The Set-Cookie value recording one transaction; undefined when there is no
 * usable handle. Handles beyond MAX_TAGS_PER_COOKIE are dropped.
 */
export async function transactionSetCookie(
  key: CryptoKey,
  handles: readonly Handle[],
  connection: string | undefined,
  options: CookieAttributes,
): Promise<{ name: string; header: string } | undefined> {
  const usable = handles.filter((h) => isUsableHandle(h.value)).slice(0, MAX_TAGS_PER_COOKIE);
  const first = usable[0];
  if (first === undefined) return undefined;
  const bound = connection !== undefined && isCookieConnection(connection) ? connection : undefined;
  const firstMac = await hmac(key, first, bound);
  const name = COOKIE_PREFIX + bytesToBase64Url(firstMac.subarray(TAG_BYTES, TAG_BYTES + 3));
  let value = bytesToBase64Url(firstMac.subarray(0, TAG_BYTES));
  for (const handle of usable.slice(1)) value += await tagOf(key, handle, bound);
  if (bound !== undefined) value += `.${bound}`;
  return { name, header: `${name}=${value}; ${attributes(options.maxAgeSeconds)}` };
}

/** The Set-Cookie value that removes one affinity cookie (same Path, as RFC 6265 §5.3 step 11 needs). */
export function expiredSetCookie(name: string): string {
  return `${name}=; ${attributes(0)}`;
}

function isCookieConnection(name: string): boolean {
  return name.length <= MAX_COOKIE_CONNECTION && isConnectionName(name);
}

export interface TransactionCookie {
  name: string;
  tags: string[];
  connection: string | undefined;
}

export interface ReadCookies {
  cookies: TransactionCookie[];
  /** Affinity cookies that did not have the shape this Worker writes (edited, truncated, foreign). */
  malformed: number;
  /** Affinity cookies older than the newest MAX_COOKIES, not read. */
  overflow: number;
  /**
   * Every distinct cookie name of the shape this Worker writes, read or not, in the order
   * of the header: oldest first (RFC 6265 §5.4 step 2, all having Path=/login/callback).
   */
  names: string[];
}

const VALUE_SHAPE = new RegExp(
  `^((?:[A-Za-z0-9_-]{${TAG_CHARS}}){1,${MAX_TAGS_PER_COOKIE}})(?:\\.([A-Za-z0-9-]{1,${MAX_COOKIE_CONNECTION}}))?$`,
);
const NAME_SHAPE = new RegExp(`^${COOKIE_PREFIX}[A-Za-z0-9_-]{${SLOT_CHARS}}$`);

/** The affinity cookies of a `Cookie` request header (RFC 6265 §4.2.1); other cookies are skipped. */
export function readTransactionCookies(cookieHeader: string | null): ReadCookies {
  const read: ReadCookies = { cookies: [], malformed: 0, overflow: 0, names: [] };
  if (cookieHeader === null) return read;
  const seen = new Set<string>();
  const pairs = cookieHeader.split(";");
  // Listed oldest first (RFC 6265 §5.4 step 2): the ones before the newest MAX_COOKIES are not read.
  let older = -MAX_COOKIES;
  for (const pair of pairs) if (pair.trimStart().startsWith(COOKIE_PREFIX)) older++;
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const name = (eq === -1 ? pair : pair.slice(0, eq)).trim();
    if (!name.startsWith(COOKIE_PREFIX)) continue;
    if (NAME_SHAPE.test(name) && !seen.has(name)) {
      seen.add(name);
      read.names.push(name);
    }
    if (older > 0) {
      older--;
      read.overflow++;
      continue;
    }
    const value = eq === -1 ? "" : pair.slice(eq + 1).trim();
    const shape = NAME_SHAPE.test(name) ? VALUE_SHAPE.exec(value) : null;
    const tags = shape?.[1];
    const connection = shape?.[2];
    if (tags === undefined || (connection !== undefined && !isConnectionName(connection))) {
      read.malformed++;
      continue;
    }
    const list: string[] = [];
    for (let i = 0; i < tags.length; i += TAG_CHARS) list.push(tags.slice(i, i + TAG_CHARS));
    read.cookies.push({ name, tags: list, connection });
  }
  return read;
}

/**
 * The affinity cookies to expire so that at most `keep` remain: the oldest names beyond
 * the newest `keep`, at most MAX_EXPIRED_PER_ANSWER of them. A browser that did not list
 * cookies oldest first would lose other ones; the number left is bounded all the same.
 */
export function staleCookieNames(read: Pick<ReadCookies, "names">, keep = KEEP_COOKIES): string[] {
  const extra = read.names.length - keep;
  return extra <= 0 ? [] : read.names.slice(0, Math.min(extra, MAX_EXPIRED_PER_ANSWER));
}

export interface TransactionMatch {
  /** The recorded connection, when the login start named one. */
  connection: string | undefined;
  /** The cookies that matched (to delete: the transaction is finishing). */
  names: string[];
}

/**
 * Whether any of the callback's handles was recorded in one of the cookies.
 * Cost: one HMAC per (handle, distinct connection among the cookies).
 */
export async function matchTransaction(
  key: CryptoKey,
  cookies: readonly TransactionCookie[],
  handles: readonly Handle[],
): Promise<TransactionMatch | undefined> {
  const usable = handles.filter((h) => isUsableHandle(h.value));
  if (usable.length === 0 || cookies.length === 0) return undefined;
  const byConnection = new Map<string | undefined, TransactionCookie[]>();
  for (const cookie of cookies) {
    const group = byConnection.get(cookie.connection);
    if (group === undefined) byConnection.set(cookie.connection, [cookie]);
    else group.push(cookie);
  }
  for (const [connection, group] of byConnection) {
    const wanted = await Promise.all(usable.map((h) => tagOf(key, h, connection)));
    const names = group
      .filter((c) => c.tags.some((t) => wanted.some((w) => constantTimeEqual(t, w))))
      .map((c) => c.name);
    if (names.length > 0) return { connection, names };
  }
  return undefined;
}

/** Equal-length strings compared without an early exit. */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
