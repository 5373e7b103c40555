/**
 * The client went away while the Worker was still reading its request body (a tab
 * closed, a network dropped, a proxy gave up). Nobody is waiting for the answer, so it
 * is not a router error: src/app.ts logs `client-gone`, counts nothing, and answers 499
 * ("client closed request", nginx's convention) with no body.
 *
 * How it is told apart (workerd): reading the request body rejects — `Error: Network
 * connection lost.`, `retryable: true` — and a fetch whose upload or answer fails rejects
 * with the very same error (`remote: true` too) when Auth0 resets or refuses the
 * connection, and `request.signal` does not fire on such a hang-up (not even with the
 * `enable_request_signal` flag, in local workerd). So the error is never read for this:
 * only a failed read of the client's own body stream is. Every forwarded body therefore
 * passes through src/callback/body.ts (PeekableBody): a short one (≤ 64 KiB declared) is
 * read before the fetch, a longer or chunked one is piped through a stream the Worker owns,
 * whose source failing is the client's hang-up (the fetch is cut and ClientGone thrown) and
 * whose destination failing is Auth0's. That holds for a callback whose body was never
 * needed for routing (named by its query) and for a pass-through POST alike
 * (src/auth0/forward.ts, forwardRequestToAuth0).
 */

/** What reached the Worker's read of the request body when the client left. */
export class ClientGone extends Error {
  override readonly name = "ClientGone";

  constructor(
    readonly during: string,
    cause: unknown,
  ) {
    super(`the client closed the connection ${during}`, { cause });
  }
}

/** Status for the log line and the answer nobody reads (nginx's 499 "client closed request"). */
export const CLIENT_CLOSED_REQUEST = 499;

/** The answer to a client that is gone: no page, no body. */
export function clientGoneResponse(): Response {
  return new Response(null, { status: CLIENT_CLOSED_REQUEST, headers: { "cache-control": "no-store" } });
}
