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
import { affinityKey, matchTransaction, readTransactionCookies, staleCookieNames } from "./cookie";
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
 * Whether Auth0 started this callback's login. The cookie is looked at first:
 * with no affinity cookie, nothing else is read (the body stays unread).
 */
export async function checkCallbackAffinity(input: CallbackAffinityInput): Promise<AffinityCheck> {
  const read = readTransactionCookies(input.cookieHeader);
  const ignored = read.malformed + read.overflow;
  const stale = staleCookieNames(read);
  if (read.cookies.length === 0) return { outcome: "no-cookie", ignored, stale };
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
