/**
 * Forwarding to Auth0: same method, path, query, headers and body (streamed,
 * byte-identical), `redirect: "manual"` so Auth0's 302s reach the browser as
 * they are, and the answer returned untouched (every Set-Cookie separate).
 *
 * Custom-domain mode (AUTH0_CNAME_API_KEY set) follows Auth0's reverse-proxy
 * rules: `cname-api-key` is added, and exactly one end-user IP is passed in
 * `X-Forwarded-For` and `True-Client-IP`, both from `CF-Connecting-IP`.
 * A client can never supply its own `cname-api-key`.
 *
 * A request is sent once: a SAML response is single-use, so nothing is retried.
 */
import type { Config } from "../config";
import { log } from "../log";
import { errorPage } from "../pages";

export interface ForwardOptions {
  /** Path and query to request from the origin (the query may have had fallback removed). */
  pathAndQuery: string;
  body: BodyInit | null;
}

/** Headers a client may send that only the Worker may set. */
const CLIENT_FORBIDDEN = ["cname-api-key"];
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

export async function forwardToAuth0(
  request: Request,
  config: Pick<Config, "auth0Origin" | "cnameApiKey" | "auth0TimeoutMs">,
  options: ForwardOptions,
): Promise<Response> {
  const url = new URL(options.pathAndQuery, config.auth0Origin);
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  const controller = new AbortController();
  // The timeout covers waiting for Auth0's answer to begin; a started body streams on.
  const timer = setTimeout(() => controller.abort(), config.auth0TimeoutMs);
  try {
    return await fetch(url.toString(), {
      method: request.method,
      headers: forwardHeaders(request.headers, config),
      body: hasBody ? options.body : null,
      redirect: "manual",
      signal: controller.signal,
    });
  } catch (err) {
    const timedOut = controller.signal.aborted;
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
