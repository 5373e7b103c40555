/**
 * The callback side of affinity: which handles a /login/callback carries, and
 * whether one of them was recorded in this browser's affinity cookies.
 *
 *   query  `state`, `RelayState`, `wctx`
 *   form   `state` (OIDC form_post), `RelayState` (SAML HTTP-POST), `wctx` (WS-Fed),
 *          and the SAML Response's `InResponseTo` (core §3.2.2), read from the start
 *          of `SAMLResponse` — the root element's attribute, so a prefix is enough
 *          even when the whole message is far larger than the scan limit.
 */
import { parseFormBody } from "../callback/form";
import { decodeComponent } from "../callback/query";
import { SaxesParser, type SaxesTagNS } from "saxes";
import { base64ToBytes } from "./base64";
import { affinityKey, matchTransaction, readTransactionCookies } from "./cookie";
import { isUsableHandle, type Handle, type HandleKind } from "./handles";

const FIELD_KINDS: readonly HandleKind[] = ["state", "RelayState", "wctx"];

/** What the affinity check found, for the decision and the log line (never a handle). */
export type AffinityCheck =
  | { outcome: "off" }
  | { outcome: "no-cookie"; ignored: number }
  | { outcome: "no-handle"; ignored: number }
  | { outcome: "no-match"; ignored: number }
  | { outcome: "match"; ignored: number; connection: string | undefined; cookies: string[] };

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

/** How much of a SAMLResponse is decoded to read its root element (base64 characters). */
const SAML_PREFIX_CHARS = 8 * 1024;

/**
 * The handles in a form body prefix: its complete fields, and `InResponseTo`
 * from the start of `SAMLResponse` even when that field was cut off.
 */
export function handlesOfFormBody(bytes: Uint8Array, complete: boolean): Handle[] {
  const handles = handlesOfFields(parseFormBody(bytes, complete));
  const samlResponse = fieldPrefix(bytes, "SAMLResponse", SAML_PREFIX_CHARS);
  const id = samlResponse === undefined ? undefined : inResponseToOf(samlResponse);
  if (isUsableHandle(id)) handles.push({ kind: "InResponseTo", value: id });
  return handles;
}

/** The decoded start (≤ maxChars raw characters) of the first field `name`, even when cut off. */
export function fieldPrefix(bytes: Uint8Array, name: string, maxChars: number): string | undefined {
  const text = new TextDecoder("latin1").decode(bytes.subarray(0, Math.min(bytes.byteLength, 2 * maxChars + 4096)));
  let start = 0;
  for (;;) {
    const end = text.indexOf("&", start);
    const segment = end === -1 ? text.slice(start) : text.slice(start, end);
    if (segment.startsWith(`${name}=`)) {
      // Drop a percent-escape the cut may have split, then decode.
      const raw = segment.slice(name.length + 1, name.length + 1 + maxChars).replace(/%[0-9A-Fa-f]?$/, "");
      return decodeComponent(raw);
    }
    if (end === -1) return undefined;
    start = end + 1;
  }
}

const SAML2_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol";
class Found extends Error {}

/** `InResponseTo` of a base64 SAML Response, from its start; undefined when absent or unreadable. */
export function inResponseToOf(base64Prefix: string): string | undefined {
  const compact = base64Prefix.replace(/[\r\n\t ]/g, "");
  const bytes = base64ToBytes(compact.slice(0, compact.length - (compact.length % 4)));
  if (bytes === undefined) return undefined;
  const text = new TextDecoder("utf-8").decode(bytes).replace(/^\s+/, "");
  let value: string | undefined;
  const parser = new SaxesParser({ xmlns: true, position: false });
  parser.on("doctype", () => {
    throw new Error("a DOCTYPE is not allowed");
  });
  parser.on("opentag", (tag: SaxesTagNS) => {
    if (tag.uri === SAML2_PROTOCOL && tag.local === "Response") {
      const attribute = tag.attributes["InResponseTo"];
      if (attribute !== undefined && attribute.uri === "") value = attribute.value.trim();
    }
    throw new Found();
  });
  try {
    parser.write(text);
  } catch (err) {
    if (!(err instanceof Found)) return undefined;
  }
  return value === "" ? undefined : value;
}

export interface CallbackAffinityInput {
  secret: string;
  cookieHeader: string | null;
  queryFields: ReadonlyArray<{ name: string; value: string }>;
  /** The form body's prefix, read only when the query carries no handle. */
  formBody: (() => Promise<{ bytes: Uint8Array; complete: boolean } | undefined>) | undefined;
}

/**
 * Whether Auth0 started this callback's login. The cookie is looked at first:
 * with no affinity cookie, nothing else is read (the body stays unread).
 */
export async function checkCallbackAffinity(input: CallbackAffinityInput): Promise<AffinityCheck> {
  const read = readTransactionCookies(input.cookieHeader);
  const ignored = read.malformed + read.overflow;
  if (read.cookies.length === 0) return { outcome: "no-cookie", ignored };
  let handles = handlesOfFields(input.queryFields);
  if (handles.length === 0 && input.formBody !== undefined) {
    const body = await input.formBody();
    if (body !== undefined) handles = handlesOfFormBody(body.bytes, body.complete);
  }
  if (handles.length === 0) return { outcome: "no-handle", ignored };
  const match = await matchTransaction(await affinityKey(input.secret), read.cookies, handles);
  if (match === undefined) return { outcome: "no-match", ignored };
  return { outcome: "match", ignored, connection: match.connection, cookies: match.names };
}
