/**
 * The shape of a callback as it arrived (table/routability.ts's CallbackShape): what the
 * request carried that could name its connection, read from the facts the router gathered
 * anyway (src/callback/facts.ts). Pure and cheap (a few comparisons): the router puts it on
 * each callback's log line, and the counters keep it per connection and hour as evidence of
 * what each connection's IdP really sends (src/stats/evidence.ts, docs/storage.md).
 */
// Nothing from facts.ts: the log line's type and the dashboard's bundle read this module.
import { CALLBACK_SHAPES, type CallbackShape } from "../table/routability";

/** What shapeOf reads of src/callback/facts.ts's CallbackFacts. */
export interface ShapeFacts {
  connection: { kind: "none" | "one" | "many" | "invalid" };
  bodyScan: string;
  samlEncrypted?: boolean;
  oidcIssuers: readonly string[];
}

/** A callback shape, or `other`: none of them (a GET naming a connection, an unreadable post, …). */
export type ObservedShape = CallbackShape | "other";

export const OBSERVED_SHAPES: readonly ObservedShape[] = [...CALLBACK_SHAPES, "other"];

/**
 * The shape of a callback with these facts:
 *   POST with one `connection=`                       saml-acs (the ACS URL)
 *   POST, SAML Response, assertion encrypted          saml-encrypted-without-connection
 *   POST, SAML Response otherwise                     saml-post-without-connection
 *   POST, WS-Fed `wresult`                            wsfed-post
 *   POST with an `id_token` (form_post)               oidc-form-post
 *   GET without `connection=`, with / without `iss`   oidc-code-with-iss / oidc-code-without-iss
 *   anything else                                     other
 * A POST whose body was not scanned (the decision needed no scan) is `other`.
 */
export function shapeOf(method: string, facts: ShapeFacts): ObservedShape {
  if (method === "GET") {
    if (facts.connection.kind !== "none") return "other";
    return facts.oidcIssuers.length > 0 ? "oidc-code-with-iss" : "oidc-code-without-iss";
  }
  if (method !== "POST") return "other";
  if (facts.connection.kind === "one") return "saml-acs";
  if (facts.connection.kind !== "none") return "other";
  switch (facts.bodyScan) {
    case "saml":
      return facts.samlEncrypted === true ? "saml-encrypted-without-connection" : "saml-post-without-connection";
    case "wsfed":
      return "wsfed-post";
    case "id_token":
      return "oidc-form-post";
    default:
      return "other";
  }
}
