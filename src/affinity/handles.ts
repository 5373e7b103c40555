/**
 * Transaction handles: the opaque values an IdP echoes from the login start back
 * on the callback, so a callback can be tied to the request that started it.
 *
 *   state         OAuth 2.0 / OIDC (RFC 6749 §4.1.1, §4.1.2), social logins too
 *   RelayState    SAML 2.0 bindings §3.4.3 / §3.5.3 (echoed unchanged)
 *   InResponseTo  SAML 2.0 core §3.2.2: the Response names the AuthnRequest's `ID`
 *   wctx          WS-Federation passive requestor profile (echoed unchanged)
 */

export type HandleKind = "state" | "RelayState" | "InResponseTo" | "wctx";

export interface Handle {
  kind: HandleKind;
  value: string;
}

/** Longer than any handle Auth0 or an IdP emits; anything longer is not recorded or looked up. */
export const MAX_HANDLE_LENGTH = 2048;

export function isUsableHandle(value: string | undefined): value is string {
  return value !== undefined && value.length > 0 && value.length <= MAX_HANDLE_LENGTH;
}

/** The callback's path on this domain: only logins whose answer comes back here are recorded. */
export const CALLBACK_PATH = "/login/callback";

/**
 * True when `raw` names this domain's /login/callback (any query: SAML ACS URLs
 * carry `?connection=`). `origin` is the Worker's own origin, e.g. https://auth.example.com.
 */
export function isOwnCallbackUrl(raw: string, origin: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  return url.origin === origin && url.pathname === CALLBACK_PATH;
}
