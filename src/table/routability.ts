/**
 * Can the router tell a route's callbacks apart, with what the table holds?
 * By protocol (docs/design.md, "Domain facts" and "Who started the login"):
 *
 *   samlp        POSTed to the ACS URL `…/login/callback?connection={name}`: the query names
 *                it. A post without the query (an IdP that drops it) is identified by its
 *                Audience — Auth0's default `urn:auth0:{tenant}:{name}`, or `match.spEntityId`
 *                for a custom SP entity ID — or, when the assertion is encrypted (Audience
 *                unreadable), only by `match.idpEntityId`.
 *   adfs, wsfed  One tenant-wide endpoint and realm: only the token's Issuer
 *                (`match.idpEntityId`) names the connection.
 *   oidc         Redirect URI without `connection=`: only the issuer names it, and only when
 *                the IdP sends it — the RFC 9207 `iss` parameter, or an `id_token` posted
 *                (form_post). A back-channel callback without `iss` is never identified.
 *   okta, waad   Answer with `code` + `state` and no `iss`: never identified by the table.
 *   google-apps  `iss=https://accounts.google.com` only sometimes, and the same for every
 *                Google customer (and Google social login): never identified by the table.
 *
 * An unidentified callback still reaches the right side when Auth0 started the login
 * (transaction affinity sends it back to Auth0); one the new provider started gets
 * the `unknown` policy: `probe` sends it to the new provider, `auth0` to Auth0 (where
 * that login fails). So for a migrated connection with unidentifiable callbacks,
 * `unknown: probe` is what makes logins started at the new provider work.
 */
// Types only: the dashboard's browser bundle runs this module too (no zod there).
import type { Protocol, RouteInput } from "./schema";

/** The callback shapes a protocol's IdPs send (each is one way a real callback arrives). */
export const CALLBACK_SHAPES = [
  "saml-acs",
  "saml-post-without-connection",
  "saml-encrypted-without-connection",
  "wsfed-post",
  "oidc-code-with-iss",
  "oidc-form-post",
  "oidc-code-without-iss",
] as const;
export type CallbackShape = (typeof CALLBACK_SHAPES)[number];

/**
 * The one word for a route's routability, used by every surface (import warnings, GET
 * /routes/{c}, coverage, evaluate, the dashboard, the dev seed output). Judged on the
 * callback shapes its protocol's IdPs usually send (`usual`):
 *   routable    every usual shape is identified by the table (a rarer one may not be: see `fix`);
 *   partial     a usual shape is not identified, but some shape is (e.g. OIDC with `iss`);
 *   unroutable  no shape is identified by the table.
 * Anything but `routable` puts a migrated or rollout route "at risk": some of its logins
 * follow affinity, then the `unknown` policy, not its state.
 */
export type RoutabilityLevel = "routable" | "partial" | "unroutable";

/** What each level means, in one clause (CLI help, import warnings, the dashboard's tooltips). */
export const LEVEL_MEANING: Record<RoutabilityLevel, string> = {
  routable: "its usual callbacks are identified by the table",
  partial: "some of its callbacks are identified, but not all of its usual ones",
  unroutable: "none of its callbacks is identified by the table",
};

/** How an operator would name each callback shape (evaluate's first lines). */
export const SHAPE_LABEL: Record<CallbackShape, string> = {
  "saml-acs": "SAML post with connection=",
  "saml-post-without-connection": "SAML post without connection=",
  "saml-encrypted-without-connection": "encrypted SAML post without connection=",
  "wsfed-post": "WS-Fed post",
  "oidc-code-with-iss": "OIDC GET with iss",
  "oidc-form-post": "OIDC form_post (id_token)",
  "oidc-code-without-iss": "OIDC GET without iss",
};

/** The level of a route with these shapes (see RoutabilityLevel). */
export function levelOf(shapes: readonly ShapeRoutability[]): RoutabilityLevel {
  if (shapes.every((s) => !s.usual || s.identified)) return "routable";
  return shapes.some((s) => s.identified) ? "partial" : "unroutable";
}

export interface ShapeRoutability {
  shape: CallbackShape;
  /** Identified from what the table holds (else: affinity, then the unknown policy). */
  identified: boolean;
  /** How, when identified. */
  by?: "query" | "saml-audience" | "sp-entity-id" | "idp-issuer" | "oidc-issuer";
  /** false for shapes only some IdPs of the protocol send (they do not lower the level below partial). */
  usual: boolean;
}

export interface Routability {
  level: RoutabilityLevel;
  protocol: Protocol | "unknown";
  /** One sentence: why. */
  reason: string;
  /** What would make more of its callbacks identifiable, when something would. */
  fix?: string;
  shapes: ShapeRoutability[];
}

type RouteFacts = Pick<RouteInput, "connection" | "protocol" | "match">;

const SENDS_NO_ISS: Partial<Record<Protocol, string>> = {
  okta: "Okta answers OIDC logins with code + state and no iss",
  waad: "Microsoft Entra ID answers with code + state (+ session_state) and no iss",
  "google-apps":
    "Google sends iss=https://accounts.google.com only sometimes, and the same value for every Google customer",
};

/** The routability of one route (pure; the same for the API, the import, the CLI and the dashboard). */
export function routabilityOf(route: RouteFacts): Routability {
  const described = describe(route);
  return { level: levelOf(described.shapes), ...described };
}

function describe(route: RouteFacts): Omit<Routability, "level"> {
  const protocol = route.protocol;
  const match = route.match ?? {};
  switch (protocol) {
    case "samlp":
    case undefined:
      return saml(route, protocol === undefined ? "unknown" : "samlp");
    case "adfs":
    case "wsfed": {
      const identified = match.idpEntityId !== undefined;
      return {
        protocol,
        reason: identified
          ? "WS-Fed token Issuer matches match.idpEntityId"
          : "WS-Fed posts to the tenant-wide endpoint and realm: only the token's Issuer can name the connection, and the route has no match.idpEntityId",
        ...(identified
          ? {}
          : { fix: "set match.idpEntityId to the ADFS/IdP issuer (e.g. http://adfs.example.com/adfs/services/trust)" }),
        shapes: [
          identified
            ? { shape: "wsfed-post", identified: true, by: "idp-issuer", usual: true }
            : { shape: "wsfed-post", identified: false, usual: true },
        ],
      };
    }
    case "okta":
    case "waad":
    case "google-apps": {
      const hasIssuer = match.oidcIssuer !== undefined;
      return {
        protocol,
        reason: `${SENDS_NO_ISS[protocol] ?? ""}: its usual callbacks (code + state) are not identified by the table; a login Auth0 started returns to Auth0 (affinity), any other gets the unknown policy`,
        fix: "keep settings.unknown = probe while this connection is migrated, so logins the new provider started reach it",
        shapes: [
          { shape: "oidc-code-without-iss", identified: false, usual: true },
          hasIssuer
            ? { shape: "oidc-form-post", identified: true, by: "oidc-issuer", usual: false }
            : { shape: "oidc-form-post", identified: false, usual: false },
        ],
      };
    }
    case "oidc":
    case "other": {
      const hasIssuer = match.oidcIssuer !== undefined;
      const shapes: ShapeRoutability[] = [
        hasIssuer
          ? { shape: "oidc-code-with-iss", identified: true, by: "oidc-issuer", usual: false }
          : { shape: "oidc-code-with-iss", identified: false, usual: false },
        hasIssuer
          ? { shape: "oidc-form-post", identified: true, by: "oidc-issuer", usual: false }
          : { shape: "oidc-form-post", identified: false, usual: false },
        { shape: "oidc-code-without-iss", identified: false, usual: true },
      ];
      return {
        protocol,
        reason: hasIssuer
          ? "identified only when the IdP sends iss (RFC 9207; Keycloak ≥ 23 does) or posts an id_token; a callback with code + state alone gets affinity, then the unknown policy"
          : "OIDC callbacks carry no connection name and the route has no match.oidcIssuer: none is identified by the table",
        fix: hasIssuer
          ? "keep settings.unknown = probe while this connection is migrated, unless its IdP always sends iss"
          : "set match.oidcIssuer (the discovery document's issuer), and keep settings.unknown = probe while migrated",
        shapes,
      };
    }
  }
}

function saml(route: RouteFacts, protocol: "samlp" | "unknown"): Omit<Routability, "level"> {
  const match = route.match ?? {};
  const byAudience = match.spEntityId !== undefined ? "sp-entity-id" : "saml-audience";
  const byIssuer = match.idpEntityId !== undefined;
  const shapes: ShapeRoutability[] = [
    { shape: "saml-acs", identified: true, by: "query", usual: true },
    { shape: "saml-post-without-connection", identified: true, by: byAudience, usual: false },
    byIssuer
      ? { shape: "saml-encrypted-without-connection", identified: true, by: "idp-issuer", usual: false }
      : { shape: "saml-encrypted-without-connection", identified: false, usual: false },
  ];
  const audience =
    match.spEntityId !== undefined
      ? `its Audience (match.spEntityId ${match.spEntityId})`
      : "its Audience urn:auth0:{tenant}:" + route.connection;
  return {
    protocol,
    reason: byIssuer
      ? `connection= in the ACS URL; a post without it by ${audience}, an encrypted one by its Issuer`
      : `connection= in the ACS URL; a post without it by ${audience} — but an encrypted assertion's Audience is unreadable and the route has no match.idpEntityId`,
    ...(byIssuer
      ? {}
      : {
          fix: "set match.idpEntityId to the IdP's entity ID (needed when the IdP encrypts assertions and drops connection=); a custom SP entity ID needs match.spEntityId",
        }),
    shapes,
  };
}

export interface CoverageReport {
  routes: number;
  byLevel: Record<RoutabilityLevel, number>;
  /** Migrated or rollout routes whose level is not `routable` (their usual callbacks are not all identified). */
  atRisk: Array<{ connection: string; state: string; level: RoutabilityLevel; reason: string; fix?: string }>;
  /** Organizations by how many of their routes are routable. */
  organizations: number;
  byProtocol: Record<string, Record<RoutabilityLevel, number>>;
}

/** The table-wide report (GET {prefix}/coverage). */
export function coverageOf(routes: RouteInput[]): CoverageReport {
  const report: CoverageReport = {
    routes: routes.length,
    byLevel: { routable: 0, partial: 0, unroutable: 0 },
    atRisk: [],
    organizations: new Set(
      routes.flatMap((r) => [...(r.organization === undefined ? [] : [r.organization]), ...(r.organizations ?? [])]),
    ).size,
    byProtocol: {},
  };
  for (const route of routes) {
    const r = routabilityOf(route);
    report.byLevel[r.level]++;
    const perProtocol = (report.byProtocol[r.protocol] ??= { routable: 0, partial: 0, unroutable: 0 });
    perProtocol[r.level]++;
    if (route.state !== "legacy" && r.level !== "routable") {
      report.atRisk.push({
        connection: route.connection,
        state: route.state,
        level: r.level,
        reason: r.reason,
        ...(r.fix === undefined ? {} : { fix: r.fix }),
      });
    }
  }
  return report;
}
