/**
 * Forwarding to Auth0: same method, path, query, headers and body (streamed,
 * byte-identical), `redirect: "manual"` so Auth0's 302s reach the browser as
 * they are, and the answer returned untouched (every Set-Cookie separate).
 *
 * Custom-domain mode (AUTH0_CNAME_API_KEY set) follows Auth0's reverse-proxy
 * rules: `cname-api-key` is added, and exactly one end-user IP is passed in
 * `X-Forwarded-For` and `True-Client-IP`, both from `CF-Connecting-IP`.
 * A client can never supply its own `cname-api-key`, `Forwarded` or `X-Forwarded-Host/Proto/Port`.
 *
 * A request is sent once: a SAML response is single-use, so nothing is retried.
 *
 * The target is the Auth0 origin by construction: the path is set on a URL that
 * already holds the origin (the WHATWG pathname setter cannot change the
 * authority), never resolved against it — `new URL("//attacker.example/x", origin)`
 * names another host. The origin is checked again right before `fetch`.
 */
import { PeekableBody } from "../callback/body";
import { ClientGone } from "../client-gone";
import type { Config } from "../config";
import { log } from "../log";
import { errorPage } from "../pages";
import { isAdminLookingPath } from "../request-path";

export interface ForwardOptions {
  /** Path and query to request from the origin (the query may have had fallback removed). */
  pathAndQuery: string;
  body: BodyInit | null;
  /**
   * Settles when reading the client's body failed (src/callback/body.ts, which every forwarded
   * body passes through): the upload is cut and forwardToAuth0 throws ClientGone instead of
   * answering "Auth0 unreachable".
   */
  clientBodyFailed?: Promise<unknown> | undefined;
}

/**
 * Headers a client may send that only the Worker may set: the proxy key, and the
 * proxy-chain headers that would let a client choose the host, scheme or port
 * Auth0 believes it was reached on (RFC 7239 `Forwarded`, the `X-Forwarded-*` trio).
 */
const CLIENT_FORBIDDEN = ["cname-api-key", "forwarded", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port"];
/** Replaced by the one true client IP in custom-domain mode. */
const CLIENT_IP_HEADERS = ["x-forwarded-for", "true-client-ip", "x-real-ip"];

export function forwardHeaders(incoming: Headers, config: Pick<Config, "cnameApiKey">): Headers {
  const headers = new Headers(incoming);
  // The origin's own host is what fetch sends; the custom domain's Host would be wrong there.
  headers.delete("host");
  for (const name of CLIENT_FORBIDDEN) headers.delete(name);
  if (config.cnameApiKey !== undefined) {
    for (const name of CLIENT_IP_HEADERS) headers.delete(name);
    headers.set("cname-api-key", config.cnameApiKey);
    const clientIp = incoming.get("cf-connecting-ip");
    if (clientIp !== null && clientIp !== "") {
      headers.set("x-forwarded-for", clientIp);
      headers.set("true-client-ip", clientIp);
    }
  }
  return headers;
}

/**
 * `origin` + `pathAndQuery` ("/path?query", as the Worker received it) as one URL
 * on that origin, or undefined when `pathAndQuery` does not start with "/". The
 * path is set on a URL that already holds the origin, so whatever it holds
 * (`//host`, `/\host`, dot segments, `@`) the authority stays the origin's;
 * forwardToAuth0 still asserts that right before its fetch.
 */
export function auth0Url(origin: URL, pathAndQuery: string): URL | undefined {
  if (!pathAndQuery.startsWith("/")) return undefined;
  const queryAt = pathAndQuery.indexOf("?");
  const url = new URL(origin.origin);
  url.pathname = queryAt === -1 ? pathAndQuery : pathAndQuery.slice(0, queryAt);
  if (queryAt !== -1) url.search = pathAndQuery.slice(queryAt);
  return url;
}

/**
 * An admin-looking path's Authorization is taken for a management API credential, whatever
 * its value: Auth0 never gets it. (src/app.ts also removes a recognised admin credential on
 * every path.)
 */
function withoutAuthorizationOnAdminPath(headers: Headers, pathname: string): Headers {
  if (isAdminLookingPath(pathname)) headers.delete("authorization");
  return headers;
}

export async function forwardToAuth0(
  request: Request,
  config: Pick<Config, "auth0Origin" | "cnameApiKey" | "auth0TimeoutMs">,
  options: ForwardOptions,
): Promise<Response> {
  const url = auth0Url(config.auth0Origin, options.pathAndQuery);
  // Checked right before the fetch: a target off the Auth0 origin is never requested.
  if (url === undefined || url.origin !== config.auth0Origin.origin) {
    log({
      event: "forward-refused",
      message: "the forward target is not the Auth0 origin; nothing was sent",
      path: new URL(request.url).pathname.slice(0, 200),
    });
    return errorPage(
      request,
      400,
      "Request refused",
      "The router refused to forward this request. Please start signing in again from your application.",
    );
  }
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  // A body still streaming from the client through PeekableBody's pipe: when reading the
  // client's side fails, the upload is cut (an abort) and the forward throws ClientGone.
  const clientBodyFailed = hasBody ? options.clientBodyFailed : undefined;
  const controller = clientBodyFailed === undefined ? undefined : new AbortController();
  let clientLeft: { error: unknown } | undefined;
  if (controller !== undefined) {
    void clientBodyFailed?.then((error) => {
      clientLeft = { error };
      controller.abort();
    });
  }
  // The timeout covers waiting for Auth0's answer to begin; a started body streams on. It
  // races the fetch rather than aborting it through a signal: a fetch given a signal costs
  // workerd ~25–50 µs of CPU per request even when the signal never fires (bench/README.md,
  // "Forwards"), and a signal still armed would cut a body that streams on (AbortSignal.timeout
  // does: test/forward-headers.test.ts "streams on … however long its body takes"). A fetch
  // that lost the race is dropped with the request; its late answer is never used.
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => {
      timedOut = true;
      controller?.abort();
      resolve(TIMED_OUT);
    }, config.auth0TimeoutMs);
  });
  try {
    const answer = fetch(url.href, {
      method: request.method,
      headers: withoutAuthorizationOnAdminPath(forwardHeaders(request.headers, config), url.pathname),
      body: hasBody ? options.body : null,
      redirect: "manual",
      ...(controller === undefined ? {} : { signal: controller.signal }),
    });
    const first = await Promise.race([answer, timeout]);
    if (first !== TIMED_OUT) return first;
    // Lost the race: whatever the fetch does later is nobody's business (nor an uncaught rejection).
    answer.catch(() => undefined);
    throw new Error("timed out");
  } catch (err) {
    if (clientLeft !== undefined) throw new ClientGone("while its body was sent on to Auth0", clientLeft.error);
    log({
      event: "auth0-error",
      message: timedOut
        ? `Auth0 origin did not answer within ${config.auth0TimeoutMs} ms`
        : `Auth0 origin unreachable: ${err instanceof Error ? err.message.slice(0, 200) : "fetch failed"}`,
      path: new URL(request.url).pathname,
    });
    return timedOut
      ? errorPage(
          request,
          504,
          "Sign-in service timed out",
          "The sign-in service (Auth0) did not answer in time. Please start signing in again from your application.",
        )
      : errorPage(
          request,
          502,
          "Sign-in service unreachable",
          "The sign-in service (Auth0) could not be reached. Please start signing in again from your application.",
        );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * forwardToAuth0 of `request` as it came (pass-through, a misconfigured router's fail-safe),
 * its body through PeekableBody: a short body is read first, a longer one streams through a
 * pipe that tells the client's hang-up from Auth0's failure. A client that stops sending its
 * body throws ClientGone (src/client-gone.ts), never "Auth0 unreachable".
 */
export async function forwardRequestToAuth0(
  request: Request,
  config: Pick<Config, "auth0Origin" | "cnameApiKey" | "auth0TimeoutMs">,
  pathAndQuery: string,
): Promise<Response> {
  if (request.body === null) return forwardToAuth0(request, config, { pathAndQuery, body: null });
  const body = new PeekableBody(request.body, request.headers.get("content-length"));
  let forwarded: BodyInit | null;
  try {
    forwarded = await body.forwardable();
  } catch (err) {
    throw new ClientGone("while its body was read", err);
  }
  return forwardToAuth0(request, config, { pathAndQuery, body: forwarded, clientBodyFailed: body.sourceFailed() });
}

/** What the timeout's promise resolves to (never a Response). */
const TIMED_OUT = Symbol("timed out");
