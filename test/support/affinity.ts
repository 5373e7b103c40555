/** Constants the affinity tests share with the global setup (no platform import: loads in Node and workerd). */

/** The AuthnRequest ID the affinity tests have the Auth0 stand-in issue; `saml.spInitiated` answers it. */
export const AFFINITY_REQUEST_ID = "_affinity0123456789abcdef0123456789abcdef";
