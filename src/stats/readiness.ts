/**
 * Readiness: can the router tell this connection's callbacks apart once it is cut over,
 * judged on the callbacks it really sent (src/stats/evidence.ts) rather than on what its
 * protocol should send (table/routability.ts, the prediction)? Pure; no platform import (the
 * dashboard's bundle runs it too).
 *
 * A recorded login is **identifiable** when the table named its connection (by `connection=`,
 * Audience, Issuer or `iss`), or when affinity named it and its shape is one the table
 * identifies with this route's `match` (saml-acs always; a SAML post with a readable Audience;
 * an encrypted one or WS-Fed with `match.idpEntityId`; OIDC with `iss` or an id_token with
 * `match.oidcIssuer`). An OIDC callback without `iss` never is: after a cut-over it follows
 * affinity, then `unknown`.
 *
 *   ready        every recorded login of the window was identifiable;
 *   not ready    some were not: how many, of which shape, and the fix;
 *   no evidence  none recorded: the prediction (routability) stands.
 * Where the verdict and the prediction disagree (ready but predicted partial, not ready but
 * predicted routable) the evidence wins and `difference` says so.
 *
 * Only shapes the route's protocol really sends are evidence: `/login/callback` is public, so
 * anyone can send a GET naming `connection=` for an Okta route, or a SAML post for an OIDC
 * one. Such logins (and shape `other`, which no IdP sends) are **set aside**: counted in
 * `setAside`, never in the verdict, so a stranger cannot make a connection look ready.
 */
import type { ObservedShape } from "../callback/shape";
import type { RouteInput } from "../table/schema";
import { routabilityOf, SHAPE_LABEL, type RoutabilityLevel } from "../table/routability";
import type { EvidenceRow, IdentifiedHow } from "./evidence";

export type ReadinessVerdict = "ready" | "not ready" | "no evidence";

export interface ShapeReadiness {
  shape: ObservedShape;
  logins: number;
  /** Whether the table identifies this shape for this route (see the module comment). */
  identifiable: boolean;
  /** How the router identified them (`affinity`: the login start named the connection). */
  identifiedBy: Partial<Record<IdentifiedHow, number>>;
  /** Who started them: `auth0` (affinity matched), `elsewhere`, `unknown` (affinity off). */
  started: Partial<Record<"auth0" | "elsewhere" | "unknown", number>>;
}

export interface Readiness {
  verdict: ReadinessVerdict;
  /** Logins of shapes this route's protocol never sends (anyone can send those): not evidence. */
  setAside: number;
  /** The window the evidence covers, in days. */
  days: number;
  logins: number;
  identifiable: number;
  unidentifiable: number;
  /** One sentence with the numbers ("412 logins in 7 days; all identifiable by connection="). */
  summary: string;
  /** What would make the rest identifiable (or safe), when something would. */
  fix?: string;
  shapes: ShapeReadiness[];
  /** The prediction from configuration (routability level). */
  prediction: RoutabilityLevel;
  /** false when evidence and prediction disagree; `difference` then says how. */
  agrees: boolean;
  difference?: string;
}

type RouteFacts = Pick<RouteInput, "connection" | "protocol" | "match">;

const SAML_SHAPES: ReadonlySet<ObservedShape> = new Set([
  "saml-acs",
  "saml-post-without-connection",
  "saml-encrypted-without-connection",
]);
const OIDC_SHAPES: ReadonlySet<ObservedShape> = new Set([
  "oidc-code-with-iss",
  "oidc-code-without-iss",
  "oidc-form-post",
]);

/** Does an IdP of this route's protocol send this shape? (No protocol: any shape but `other`.) */
export function protocolSends(protocol: RouteFacts["protocol"], shape: ObservedShape): boolean {
  switch (protocol) {
    case undefined:
      return shape !== "other";
    case "samlp":
      return SAML_SHAPES.has(shape);
    case "adfs":
    case "wsfed":
      return shape === "wsfed-post";
    case "oidc":
    case "okta":
    case "waad":
    case "google-apps":
    case "other":
      return OIDC_SHAPES.has(shape);
  }
}

/** How the table would identify a shape of this route, or undefined when it cannot. */
function tableIdentifies(shape: ObservedShape, route: RouteFacts): IdentifiedHow | undefined {
  const match = route.match ?? {};
  switch (shape) {
    case "saml-acs":
      return "query";
    case "saml-post-without-connection":
      return "audience";
    case "saml-encrypted-without-connection":
    case "wsfed-post":
      return match.idpEntityId === undefined ? undefined : "issuer";
    case "oidc-code-with-iss":
    case "oidc-form-post":
      return match.oidcIssuer === undefined ? undefined : "iss";
    case "oidc-code-without-iss":
    case "other":
      return undefined;
  }
}

const BY_WORD: Record<IdentifiedHow, string> = {
  query: "connection=",
  audience: "Audience",
  issuer: "Issuer",
  iss: "iss",
  affinity: "affinity",
  none: "nothing",
};

/** Why a shape is not identifiable, as the rest of "N % of callbacks …". */
function notIdentifiable(shape: ObservedShape): { what: string; fix: string } {
  switch (shape) {
    case "oidc-code-without-iss":
      return {
        what: "carried no iss",
        fix: "keep settings.unknown = probe while it is migrated (logins Auth0 starts return to Auth0 through affinity), or have the IdP send iss (RFC 9207) and set match.oidcIssuer",
      };
    case "oidc-code-with-iss":
    case "oidc-form-post":
      return {
        what: `were ${SHAPE_LABEL[shape]} but the route has no match.oidcIssuer`,
        fix: "set match.oidcIssuer to the IdP's issuer",
      };
    case "saml-encrypted-without-connection":
    case "wsfed-post":
      return {
        what: `were ${SHAPE_LABEL[shape]} but the route has no match.idpEntityId`,
        fix: "set match.idpEntityId to the IdP's entity ID",
      };
    default:
      return {
        what: "named no connection the router could read (shape other)",
        fix: "check the IdP's callback URL: it should carry connection= (SAML) or iss (OIDC)",
      };
  }
}

function percent(part: number, whole: number): string {
  const p = (100 * part) / whole;
  return `${p < 1 && p > 0 ? "<1" : Math.round(p)} %`;
}

/** The readiness of `route` from its evidence rows (any `at`; rows of other connections are ignored). */
export function readinessOf(route: RouteFacts, rows: readonly EvidenceRow[], days: number): Readiness {
  const prediction = routabilityOf(route);
  const byShape = new Map<ObservedShape, ShapeReadiness>();
  let setAside = 0;
  for (const r of rows) {
    if (r.connection !== route.connection || r.logins <= 0) continue;
    if (!protocolSends(route.protocol, r.shape)) {
      setAside += r.logins;
      continue;
    }
    let s = byShape.get(r.shape);
    if (s === undefined) {
      s = { shape: r.shape, logins: 0, identifiable: false, identifiedBy: {}, started: {} };
      byShape.set(r.shape, s);
    }
    s.logins += r.logins;
    s.identifiedBy[r.identifiedBy] = (s.identifiedBy[r.identifiedBy] ?? 0) + r.logins;
    s.started[r.started] = (s.started[r.started] ?? 0) + r.logins;
  }
  const shapes = [...byShape.values()].sort((a, b) => b.logins - a.logins);
  for (const s of shapes) {
    // Identified by the table itself: a fact. By affinity: what the table would do with that shape.
    const byTable = Object.keys(s.identifiedBy).some((how) => how !== "affinity" && how !== "none");
    s.identifiable = byTable || tableIdentifies(s.shape, route) !== undefined;
  }
  const logins = shapes.reduce((n, s) => n + s.logins, 0);
  const identifiable = shapes.filter((s) => s.identifiable).reduce((n, s) => n + s.logins, 0);
  const unidentifiable = logins - identifiable;
  const base = { days, logins, identifiable, unidentifiable, shapes, prediction: prediction.level, setAside };
  const aside =
    setAside === 0
      ? ""
      : ` (${setAside} callback${setAside === 1 ? "" : "s"} of a shape ${route.protocol ?? "this protocol"} never sends set aside: anyone can send those)`;
  const window = `${logins} login${logins === 1 ? "" : "s"} in ${days} day${days === 1 ? "" : "s"}${aside}`;

  if (logins === 0) {
    return {
      ...base,
      verdict: "no evidence",
      summary: `no logins recorded in ${days} day${days === 1 ? "" : "s"}${aside}; predicted from configuration: ${prediction.level} — ${prediction.reason}`,
      ...(prediction.fix === undefined ? {} : { fix: prediction.fix }),
      agrees: true,
    };
  }
  if (unidentifiable === 0) {
    const how = new Map<string, number>();
    for (const s of shapes) {
      for (const [by, n] of Object.entries(s.identifiedBy) as Array<[IdentifiedHow, number]>) {
        // Affinity named them: how the table would have.
        const word = BY_WORD[by === "affinity" ? (tableIdentifies(s.shape, route) ?? "none") : by];
        how.set(word, (how.get(word) ?? 0) + n);
      }
    }
    const hows = [...how.entries()].sort((a, b) => b[1] - a[1]);
    const summary =
      hows.length === 1
        ? `${window}; all identifiable by ${hows[0]?.[0] ?? ""}`
        : `${window}; all identifiable: ${hows.map(([w, n]) => `${n} by ${w}`).join(", ")}`;
    const agrees = prediction.level === "routable";
    return {
      ...base,
      verdict: "ready",
      summary,
      agrees,
      ...(agrees
        ? {}
        : {
            difference: `configuration predicted ${prediction.level} (${prediction.reason}); every recorded callback was identifiable, so the evidence says ready`,
          }),
    };
  }
  const missing = shapes.filter((s) => !s.identifiable);
  const parts = missing.map(
    (s) => `${percent(s.logins, logins)} of callbacks (${s.logins}) ${notIdentifiable(s.shape).what}`,
  );
  const fixes = [...new Set(missing.map((s) => notIdentifiable(s.shape).fix))];
  const agrees = prediction.level !== "routable";
  return {
    ...base,
    verdict: "not ready",
    summary: `${window}; ${parts.join("; ")}: after a cut-over those follow affinity, then unknown`,
    fix: fixes.join("; "),
    agrees,
    ...(agrees
      ? {}
      : {
          difference: `configuration predicted routable; ${unidentifiable} of ${logins} recorded callbacks were not identifiable, so the evidence says not ready`,
        }),
  };
}
