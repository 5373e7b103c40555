/**
 * Recognises an authentication request Auth0 sends the browser off with, in a
 * response the Worker passes through, and takes its handles out.
 *
 * Only requests whose answer comes back to THIS domain's /login/callback count:
 *   OAuth 2.0 / OIDC  `state` + `redirect_uri` = {origin}/login/callback (RFC 6749 §4.1.1)
 *   SAML 2.0          `SAMLRequest` (an AuthnRequest; its ACS URL, when given, is ours)
 *                     + `RelayState`; HTTP-Redirect (Location) or HTTP-POST (HTML form)
 *   WS-Federation     `wa=wsignin1.0` + `wctx` (`wreply`, when given, is ours)
 * Auth0's redirects back to an application (`code` + the application's own
 * `state`, no `redirect_uri`) are never recorded, nor a redirect within this host.
 */
import { isConnectionName } from "../table/schema";
import type { AutoPostForm } from "./auto-post";
import { isOwnCallbackUrl, isUsableHandle, type Handle } from "./handles";
import { readAuthnRequest, type SamlBinding } from "./saml-request";

export type LoginProtocol = "oauth2" | "saml" | "wsfed";

export interface LoginStart {
  protocol: LoginProtocol;
  /** Where the browser is sent: a Location redirect or an auto-posted form. */
  binding: SamlBinding;
  /** 1 or 2 handles (SAML: RelayState and the AuthnRequest ID). */
  handles: Handle[];
  /** The Auth0 connection, when the login start says it; undefined otherwise. */
  connection: string | undefined;
  /** The IdP's host (for logs: never a handle). */
  idpHost: string;
}

export interface LoginStartContext {
  /** The request Auth0 answered (its `connection` query parameter names the connection). */
  requestUrl: URL;
  /** AUTH0_TENANT: an SP entity ID `urn:auth0:{tenant}:{name}` names connection {name}. */
  auth0Tenant: string | undefined;
}

/** The login start in a 3xx `Location`; undefined when it is not one to record. */
export async function loginStartOfLocation(
  location: string,
  context: LoginStartContext,
): Promise<LoginStart | undefined> {
  const target = elsewhere(location, context.requestUrl);
  if (target === undefined) return undefined;
  const params = target.searchParams;
  const origin = context.requestUrl.origin;
  const idpHost = target.host;

  const samlRequest = single(params, "SAMLRequest");
  if (samlRequest !== undefined) {
    return samlStart(samlRequest, single(params, "RelayState"), "redirect", idpHost, context);
  }

  if (single(params, "wa") === "wsignin1.0") {
    const wctx = single(params, "wctx");
    const wreply = single(params, "wreply");
    if (!isUsableHandle(wctx) || (wreply !== undefined && !isOwnCallbackUrl(wreply, origin))) return undefined;
    return {
      protocol: "wsfed",
      binding: "redirect",
      handles: [{ kind: "wctx", value: wctx }],
      connection: connectionParam(context.requestUrl),
      idpHost,
    };
  }

  const state = single(params, "state");
  const redirectUri = single(params, "redirect_uri");
  if (isUsableHandle(state) && redirectUri !== undefined && isOwnCallbackUrl(redirectUri, origin)) {
    return {
      protocol: "oauth2",
      binding: "redirect",
      handles: [{ kind: "state", value: state }],
      connection: connectionParam(context.requestUrl),
      idpHost,
    };
  }
  return undefined;
}

/** The login start in an HTTP-POST binding form; undefined when it is not one to record. */
export async function loginStartOfForm(
  form: AutoPostForm,
  context: LoginStartContext,
): Promise<LoginStart | undefined> {
  const target = elsewhere(form.action, context.requestUrl);
  const samlRequest = form.fields.get("SAMLRequest");
  if (target === undefined || samlRequest === undefined) return undefined;
  return samlStart(samlRequest, form.fields.get("RelayState"), "post", target.host, context);
}

async function samlStart(
  samlRequest: string,
  relayState: string | undefined,
  binding: SamlBinding,
  idpHost: string,
  context: LoginStartContext,
): Promise<LoginStart | undefined> {
  const request = await readAuthnRequest(samlRequest, binding);
  if (request === undefined) return undefined;
  const acs = request.assertionConsumerServiceUrl;
  if (acs !== undefined && !isOwnCallbackUrl(acs, context.requestUrl.origin)) return undefined;
  const handles: Handle[] = [];
  if (isUsableHandle(relayState)) handles.push({ kind: "RelayState", value: relayState });
  if (isUsableHandle(request.id)) handles.push({ kind: "InResponseTo", value: request.id });
  if (handles.length === 0) return undefined;
  const connection =
    connectionParam(context.requestUrl) ??
    (acs !== undefined ? connectionParam(new URL(acs)) : undefined) ??
    connectionOfEntityId(request.issuer, context.auth0Tenant);
  return { protocol: "saml", binding, handles, connection, idpHost };
}

/** An absolute http(s) URL on another host than the request's; undefined otherwise. */
function elsewhere(raw: string, requestUrl: URL): URL | undefined {
  let url: URL;
  try {
    url = new URL(raw, requestUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  return url.host === requestUrl.host ? undefined : url;
}

/** The one value of `name`; undefined when absent or repeated (a repeated handle is ambiguous). */
function single(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name);
  return values.length === 1 ? values[0] : undefined;
}

function connectionParam(url: URL): string | undefined {
  const values = url.searchParams.getAll("connection");
  const name = values.length === 1 ? values[0] : undefined;
  return name !== undefined && isConnectionName(name) ? name : undefined;
}

/** Auth0's default SP entity ID is `urn:auth0:{tenant}:{connection}` (docs/design.md). */
export function connectionOfEntityId(entityId: string | undefined, tenant: string | undefined): string | undefined {
  if (entityId === undefined) return undefined;
  const match = /^urn:auth0:([A-Za-z0-9-]+):([A-Za-z0-9-]+)$/.exec(entityId);
  if (match === null) return undefined;
  if (tenant !== undefined && match[1]?.toLowerCase() !== tenant.toLowerCase()) return undefined;
  const name = match[2];
  return name !== undefined && isConnectionName(name) ? name : undefined;
}
