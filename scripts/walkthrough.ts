/**
 * The curl lines `npm run dev` prints (and docs/operations.md, "Trying it locally", shows):
 * each walks through one routing case of routes.json against the demo origins, and prints
 * one line that shows its claim — the status, the redirect target or the demo origin's
 * `x-demo-outcome` header (scripts/demo-origins.ts), and how many redirects it took.
 * e2e/doc-paths.e2e.ts keeps the docs' copy equal to these.
 */
const SAML = `-d 'SAMLResponse=PHNhbWxwOlJlc3BvbnNlLz4%3D&RelayState=demo'`;
/** One answer: its status, and where it redirects or what the demo origin did. */
const ONE = `-sS -o /dev/null -w '%{http_code} %{redirect_url}%header{x-demo-outcome}\\n'`;
/** Followed to the end: the last status, the number of redirects, what the last demo origin did. */
const FOLLOWED = `-sSL -o /dev/null -w '%{http_code} after %{num_redirects} redirect(s): %header{x-demo-outcome}\\n'`;

export interface CurlCase {
  /** What the line shows, as printed above it (may span lines). */
  claim: string[];
  command: string;
}

/** The cases, for a router on `origin` (e.g. http://localhost:8787) seeded with routes.json. */
export function curlCases(origin: string): CurlCase[] {
  const cb = `${origin}/login/callback`;
  return [
    {
      claim: ["1. Migrated SAML POST (acme-saml): 307 to the new SSO on localhost:8789"],
      command: `curl ${ONE} -X POST '${cb}?connection=acme-saml' ${SAML}`,
    },
    {
      claim: ["2. The same, followed (curl re-POSTs on a 307): accepted by the new SSO after 1 redirect"],
      command: `curl ${FOLLOWED} '${cb}?connection=acme-saml' ${SAML}`,
    },
    {
      claim: ["3. Legacy (globex-saml): forwarded to the Auth0 demo, which finishes the login (two cookies)"],
      command: `curl ${ONE} -X POST '${cb}?connection=globex-saml' ${SAML}`,
    },
    {
      claim: [
        "4. Fallback (umbrella-saml, unknown to the new SSO): 307 there, 307 back with",
        "   fallback=auth0, then forwarded to the Auth0 demo with fallback removed (2 redirects).",
        "   The jar sends the router's bounce mark (cookie crb-umbrella-saml, set on its 307) back",
        "   on the bounce, as a browser does: logged fallbackMark valid, counted in",
        "   /stats/umbrella-saml's fallback (without the jar: missing, not counted)",
      ],
      command: `curl ${FOLLOWED} -c /tmp/callback-router-bounce.jar -b /tmp/callback-router-bounce.jar '${cb}?connection=umbrella-saml' ${SAML}`,
    },
    {
      claim: ["5. OIDC callback identified by iss (hooli-oidc, a Keycloak): 307 to the new SSO, which accepts it"],
      command: `curl ${FOLLOWED} '${cb}?code=abc&state=xyz&iss=https%3A%2F%2Fsso.hooli.example%2Frealms%2Fhooli'`,
    },
    {
      claim: ["6. Any other path passes through to the Auth0 demo"],
      command: `curl ${ONE} '${origin}/u/login?state=demo'`,
    },
    {
      claim: [
        "7. Transaction affinity: a login Auth0 starts (/authorize → demo IdP; the Worker sets its",
        "   cookie on the way) comes back without iss and finishes at Auth0 in 2 redirects, never",
        "   via the new SSO (log reason auth0-transaction). routes.json has unknown: auth0, which",
        "   sends such a callback to Auth0 anyway; after `npm run routes -- settings --unknown probe`",
        "   it still takes 2 (without affinity: 4, through the new SSO's bounce)",
      ],
      command: `curl ${FOLLOWED} -c /tmp/callback-router.jar -b /tmp/callback-router.jar '${origin}/authorize?client_id=demo'`,
    },
  ];
}

/** The cases as printed: `# claim` lines, then the command, a blank line between cases. */
export function curlLines(origin: string): string {
  return curlCases(origin)
    .map((c) => `${c.claim.map((line) => `# ${line}`).join("\n")}\n${c.command}`)
    .join("\n\n");
}
