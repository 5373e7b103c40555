/**
 * Recording on the pass-through path: when Auth0's answer sends the browser to
 * an IdP (see login-start.ts), the same answer also sets this Worker's affinity
 * cookie. Auth0's status, headers (every Set-Cookie separate, in order) and body
 * bytes are passed on as they are; only one Set-Cookie line is appended.
 *
 * Bodies: a 3xx is decided from its Location alone, its body streams on. A
 * `text/html` 200 is read only when it may be an HTTP-POST-binding form: a
 * declared Content-Length above `htmlScanLimitBytes` is never read; otherwise at
 * most that many bytes are held back while looking — a page that turns out larger
 * is streamed on from what was read, unrecorded. Universal Login pages
 * (hundreds of KB) are therefore never buffered whole.
 */
import { findSamlPostForm } from "./auto-post";
import { transactionSetCookie } from "./cookie";
import { PeekableBody } from "../callback/body";
import { loginStartOfForm, loginStartOfLocation, type LoginStart, type LoginStartContext } from "./login-start";

export interface RecorderOptions {
  key: CryptoKey;
  maxAgeSeconds: number;
  /** The largest HTML page read for a SAML POST-binding form (Auth0's is under 4 KB). */
  htmlScanLimitBytes: number;
  auth0Tenant: string | undefined;
  /**
   * Asked only once a login start was recognised (so ordinary responses cost no
   * settings read): false leaves the response unrecorded (the run-time "off").
   */
  isOn?: () => Promise<boolean>;
}

export interface Recorded {
  response: Response;
  /** The login start recorded, when there was one (for the log: never its handles). */
  start: LoginStart | undefined;
}

/** Default for htmlScanLimitBytes. */
export const HTML_SCAN_LIMIT_BYTES = 16 * 1024;

/**
 * `response` is Auth0's answer to `request`. Never throws for a malformed
 * answer: whatever cannot be read is passed on unrecorded.
 */
export async function recordLoginStart(
  request: Request,
  response: Response,
  options: RecorderOptions,
): Promise<Recorded> {
  if (!mayStartLogin(request, response)) return { response, start: undefined };
  const context: LoginStartContext = { requestUrl: new URL(request.url), auth0Tenant: options.auth0Tenant };

  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get("location");
    if (location === null) return { response, start: undefined };
    const start = await safely(() => loginStartOfLocation(location, context));
    if (start === undefined) return { response, start: undefined };
    return (await withCookie(response, response.body, start, options)) ?? { response, start: undefined };
  }

  const declared = response.headers.get("content-length");
  if (declared !== null && !(Number(declared) <= options.htmlScanLimitBytes)) return { response, start: undefined };

  // The callback body's reader serves here too: what was looked at, then the rest, unchanged.
  // No Content-Length is passed: a gzip page's declared length is not its decoded length.
  const peekable = new PeekableBody(response.body, null);
  // One byte past the limit tells a page of exactly the limit from a longer one.
  const prefix = await peekable.peek(options.htmlScanLimitBytes + 1);
  const body = peekable.forForwarding();
  let start: LoginStart | undefined;
  if (prefix.complete && prefix.bytes.byteLength <= options.htmlScanLimitBytes) {
    const form = findSamlPostForm(new TextDecoder("utf-8").decode(prefix.bytes));
    if (form !== undefined) start = await safely(() => loginStartOfForm(form, context));
  }
  const recorded = start === undefined ? undefined : await withCookie(response, body, start, options);
  return recorded ?? { response: new Response(body, response), start: undefined };
}

/**
 * Whether Auth0's answer can be a login start at all, from its method, status and
 * headers only (no URL parse, no body, no key): a GET/POST answered by a 3xx with a
 * Location, or by a 200 `text/html` page with a body. Everything else passes through
 * at the cost of these checks.
 */
export function mayStartLogin(request: Request, response: Response): boolean {
  if (request.method !== "GET" && request.method !== "POST") return false;
  const status = response.status;
  if (status >= 300 && status < 400) return response.headers.has("location");
  return status === 200 && response.body !== null && isHtml(response.headers.get("content-type"));
}

/** The response with the affinity cookie appended; undefined when nothing is to be recorded. */
async function withCookie(
  response: Response,
  body: BodyInit | null,
  start: LoginStart,
  options: RecorderOptions,
): Promise<Recorded | undefined> {
  if (options.isOn !== undefined && !(await safely(options.isOn))) return undefined;
  const cookie = await safely(() => transactionSetCookie(options.key, start.handles, start.connection, options));
  if (cookie === undefined) return undefined;
  const copy = new Response(body, response);
  copy.headers.append("set-cookie", cookie.header);
  return { response: copy, start };
}

/** Recording is an extra: a failure in it leaves Auth0's answer as it was, never an error. */
async function safely<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch {
    return undefined;
  }
}

function isHtml(contentType: string | null): boolean {
  return contentType?.split(";")[0]?.trim().toLowerCase() === "text/html";
}
