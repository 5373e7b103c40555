/**
 * The callback side of affinity: which handles a /login/callback carries, and
 * whether one of them was recorded in this browser's affinity cookies.
 *
 *   query  `state`, `RelayState`, `wctx`
 *   form   `state` (OIDC form_post), `RelayState` (SAML HTTP-POST), `wctx` (WS-Fed),
 *          and the SAML Response's `InResponseTo` (core §3.2.2), as the callback's
 *          body scan (src/callback/body-scan.ts) read them: `InResponseTo` sits in
 *          the first bytes, RelayState/wctx often after the message, unread.
 */
import { affinityKey, matchTransaction, readTransactionCookies, staleCookieNames, type ReadCookies } from "./cookie";
import { isUsableHandle, type Handle, type HandleKind } from "./handles";

const FIELD_KINDS: readonly HandleKind[] = ["state", "RelayState", "wctx"];

/**
 * What the affinity check found, for the decision and the log line (never a handle).
 * `stale`: the oldest affinity cookies beyond the bound (cookie.ts, staleCookieNames),
 * for the answer to expire whatever it is.
 */
export type AffinityCheck =
  | { outcome: "off" }
  | { outcome: "no-cookie"; ignored: number; stale: string[] }
  | { outcome: "no-handle"; ignored: number; stale: string[] }
  | { outcome: "no-match"; ignored: number; stale: string[] }
  | { outcome: "match"; ignored: number; stale: string[]; connection: string | undefined; cookies: string[] };

export type AffinityOutcome = AffinityCheck["outcome"];

/** Handles named `state`, `RelayState` or `wctx` among decoded name/value pairs (one of each kind: the first). */
export function handlesOfFields(fields: ReadonlyArray<{ name: string; value: string }>): Handle[] {
  const out: Handle[] = [];
  for (const kind of FIELD_KINDS) {
    const value = fields.find((f) => f.name === kind)?.value;
    if (isUsableHandle(value)) out.push({ kind, value });
  }
  return out;
}

/**
 * The handles of a scanned form body (src/callback/body-scan.ts): the fields it
 * read before it stopped, and the SAML Response's `InResponseTo`.
 */
export function handlesOfBody(
  fields: Partial<Record<"state" | "RelayState" | "wctx", string>>,
  inResponseTo: string | undefined,
): Handle[] {
  const handles: Handle[] = [];
  for (const kind of ["state", "RelayState", "wctx"] as const) {
    const value = fields[kind];
    if (isUsableHandle(value)) handles.push({ kind, value });
  }
  if (isUsableHandle(inResponseTo)) handles.push({ kind: "InResponseTo", value: inResponseTo });
  return handles;
}

export interface CallbackAffinityInput {
  secret: string;
  cookieHeader: string | null;
  /** The callback's handles; asked only when an affinity cookie is there (it may scan the body). */
  handles: () => Promise<Handle[]>;
}

/**
 * checkCallbackAffinity's answer when the `Cookie` header holds no usable affinity cookie
 * ("no-cookie", synchronously: no handle, no body, no HMAC); undefined when it holds one
 * (then the handles decide: ask checkCallbackAffinity). A callback without a Cookie header
 * costs one comparison.
 */
export function affinityWithoutCookie(cookieHeader: string | null): AffinityCheck | undefined {
  return cookieHeader === null ? NO_COOKIE : noCookie(readTransactionCookies(cookieHeader));
}

function noCookie(read: ReadCookies): AffinityCheck | undefined {
  if (read.cookies.length > 0) return undefined;
  return { outcome: "no-cookie", ignored: read.malformed + read.overflow, stale: staleCookieNames(read) };
}

/** "no-cookie" of a request without a Cookie header: shared, never mutated. */
const NO_STALE: string[] = [];
Object.freeze(NO_STALE);
const NO_COOKIE: AffinityCheck = Object.freeze({ outcome: "no-cookie", ignored: 0, stale: NO_STALE });

/**
 * Whether Auth0 started this callback's login. The cookie is looked at first:
 * with no affinity cookie, nothing else is read (the body stays unread).
 */
export async function checkCallbackAffinity(input: CallbackAffinityInput): Promise<AffinityCheck> {
  const read = readTransactionCookies(input.cookieHeader);
  const none = noCookie(read);
  if (none !== undefined) return none;
  const ignored = read.malformed + read.overflow;
  const stale = staleCookieNames(read);
  const handles = await input.handles();
  if (handles.length === 0) return { outcome: "no-handle", ignored, stale };
  const match = await matchTransaction(await affinityKey(input.secret), read.cookies, handles);
  if (match === undefined) return { outcome: "no-match", ignored, stale };
  return {
    outcome: "match",
    ignored,
    stale: stale.filter((name) => !match.names.includes(name)),
    connection: match.connection,
    cookies: match.names,
  };
}

/**
 * The affinity cookies a callback's answer expires: the finished transaction's, when it
 * matched and went to Auth0, and the oldest beyond the bound, whatever the answer.
 */
export function cookiesToExpire(check: AffinityCheck | undefined, finishedAtAuth0: boolean): string[] {
  if (check === undefined || check.outcome === "off") return [];
  if (check.outcome === "match" && finishedAtAuth0) return [...check.cookies, ...check.stale];
  return check.stale;
}
