/**
 * The three parties around the router, on loopback:
 *
 *   Auth0     where the Worker forwards. /login/callback answers like Auth0: several
 *             cookies (one Set-Cookie line each) and a 302 onward to the application
 *             (here its own /app/done page, which lists the cookies it was sent).
 *   new SSO   where migrated callbacks are redirected. Accepts the connections (or
 *             OIDC issuers) it knows with a "signed in at new SSO" page; any other
 *             callback is bounced back exactly like the real provider does:
 *             307 to <worker>/login/callback?<original raw query>&fallback=auth0.
 *   IdP       serves the pages a test puts there: a SAML POST form, or an OIDC
 *             authorization endpoint that redirects to the callback.
 *
 * Each records what it received (RecordingServer).
 */
import { randomBytes } from "node:crypto";
import { escapeHtml, htmlPage, RecordingServer, type Recorded, type Reply } from "./recording-server";

export const AUTH0_CALLBACK_PATH = "/login/callback";
export const AUTH0_APP_PATH = "/app/done";
/** The path of the new provider's callback (settings.defaultTarget). */
export const SSO_CALLBACK_PATH = "/sso/client_e2e/auth0/callback";

export interface IssuedCookie {
  name: string;
  value: string;
  httpOnly: boolean;
}

/** What the Auth0 stand-in answered one /login/callback with. */
export interface Auth0Login {
  request: Recorded;
  cookies: IssuedCookie[];
}

export class Auth0StandIn {
  readonly server: RecordingServer;
  readonly logins: Auth0Login[] = [];
  origin = "";
  /** The custom domain (the Worker) and the IdP: set once they are up, for starting logins. */
  workerOrigin = "";
  idpOrigin = "";

  constructor() {
    this.server = new RecordingServer("Auth0 stand-in", (r) => this.answer(r));
  }

  async start(): Promise<void> {
    this.origin = `http://127.0.0.1:${await this.server.start()}`;
  }

  /** Requests to /login/callback, in arrival order. */
  callbacks(): Recorded[] {
    return this.server.to(AUTH0_CALLBACK_PATH);
  }

  clear(): void {
    this.server.clear();
    this.logins.length = 0;
  }

  /**
   * `/authorize` starts a login the way Auth0 does, to the IdP stand-in at `idp_path`:
   *   kind=oidc       302 with `state` and `redirect_uri` = {worker}/login/callback (no iss comes back)
   *   kind=saml-post  200 auto-post form (SAML HTTP-POST binding): `SAMLRequest` (an AuthnRequest
   *                   with `ID` = id, ACS = {worker}/login/callback?connection=…) and `RelayState` = state
   * The test picks `state` and `id`, so the IdP page it registered can echo them.
   */
  private startLogin(r: Recorded): Reply {
    const q = new URLSearchParams(r.rawQuery ?? "");
    const state = q.get("state") ?? randomBytes(18).toString("base64url");
    const connection = q.get("connection") ?? "";
    const idpUrl = `${this.idpOrigin}${q.get("idp_path") ?? "/oidc/authorize"}`;
    // Auth0's own transaction cookie: the Worker must pass it on untouched.
    const cookies = [`auth0_txn=${randomBytes(9).toString("base64url")}; Path=/; Max-Age=600; HttpOnly; SameSite=Lax`];
    if (q.get("kind") === "saml-post") {
      const acs = `${this.workerOrigin}${AUTH0_CALLBACK_PATH}?connection=${connection}`;
      const authnRequest =
        `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" AssertionConsumerServiceURL="${escapeHtml(acs)}"` +
        ` Destination="${escapeHtml(idpUrl)}" ID="${escapeHtml(q.get("id") ?? "_e2e")}" IssueInstant="${new Date().toISOString()}"` +
        ` ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Version="2.0">` +
        `<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">urn:auth0:e2e-tenant:${escapeHtml(connection)}</saml:Issuer>` +
        `</samlp:AuthnRequest>`;
      return {
        status: 200,
        headers: { "content-type": "text/html; charset=utf-8", "set-cookie": cookies },
        body:
          `<!DOCTYPE html><html><head><title>Working...</title></head><body onload="document.forms[0].submit()">` +
          `<form method="post" name="hiddenform" action="${escapeHtml(idpUrl)}">` +
          `<input type="hidden" name="SAMLRequest" value="${Buffer.from(authnRequest).toString("base64")}">` +
          `<input type="hidden" name="RelayState" value="${escapeHtml(state)}">` +
          `<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit"></noscript>` +
          `</form></body></html>`,
      };
    }
    const authorize = new URLSearchParams({ client_id: "e2e-idp-client", response_type: "code", scope: "openid" });
    authorize.set("redirect_uri", `${this.workerOrigin}${AUTH0_CALLBACK_PATH}`);
    authorize.set("state", state);
    return {
      status: 302,
      headers: { location: `${idpUrl}?${authorize}`, "set-cookie": cookies },
      body: "Found. Redirecting\n",
    };
  }

  private answer(r: Recorded): Reply {
    if (r.path === "/authorize") return this.startLogin(r);
    // Auth0 having a bad moment for one connection: its callbacks answer 503.
    if (r.path === AUTH0_CALLBACK_PATH && /(?:^|&)connection=outage-saml(?:&|$)/.test(r.rawQuery ?? "")) {
      return { status: 503, headers: { "content-type": "text/plain" }, body: "Auth0 stand-in: unavailable\n" };
    }
    if (r.path === AUTH0_CALLBACK_PATH) {
      const id = () => randomBytes(12).toString("base64url");
      // Auth0's session and device cookies, with and without SameSite (its "_compat" twins).
      const cookies: IssuedCookie[] = [
        { name: "auth0", value: id(), httpOnly: true },
        { name: "auth0_compat", value: id(), httpOnly: true },
        { name: "did", value: `s%3Av0%3A${id()}`, httpOnly: true },
        { name: "did_compat", value: `s%3Av0%3A${id()}`, httpOnly: true },
        { name: "e2e_visible", value: id(), httpOnly: false },
      ];
      this.logins.push({ request: r, cookies });
      const attributes: Record<string, string> = {
        auth0: "Path=/; HttpOnly; SameSite=Lax",
        auth0_compat: "Path=/; HttpOnly",
        did: "Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax",
        did_compat: "Path=/; Max-Age=31536000; HttpOnly",
        e2e_visible: "Path=/; SameSite=Lax",
      };
      return {
        status: 302,
        headers: {
          location: `${this.origin}${AUTH0_APP_PATH}`,
          "set-cookie": cookies.map((c) => `${c.name}=${c.value}; ${attributes[c.name] ?? "Path=/"}`),
          "content-type": "text/plain; charset=utf-8",
        },
        body: "Found. Redirecting to the application.\n",
      };
    }
    if (r.path === AUTH0_APP_PATH) {
      const names = (r.headers.cookie ?? "")
        .split(";")
        .map((c) => c.trim().split("=")[0] ?? "")
        .filter((n) => n !== "");
      const list = names.map((n) => `<li><code>${escapeHtml(n)}</code></li>`).join("");
      return {
        status: 200,
        headers: { "content-type": "text/html; charset=utf-8" },
        body: htmlPage(
          "Application",
          `<h1>Application: signed in via Auth0</h1><p>Auth0 finished the login and sent the browser here.</p>` +
            `<p>Cookies this page received (${names.length}):</p><ul>${list}</ul>`,
        ),
      };
    }
    return { status: 404, headers: { "content-type": "text/plain" }, body: "Auth0 stand-in: not found\n" };
  }
}

export class NewSsoStandIn {
  readonly server: RecordingServer;
  /** Where bounced callbacks go back to; set once the Worker is up. */
  workerOrigin = "";
  port = 0;

  constructor(
    private readonly knownConnections: ReadonlySet<string>,
    private readonly knownIssuers: ReadonlySet<string>,
  ) {
    this.server = new RecordingServer("new SSO stand-in", (r) => this.answer(r));
  }

  async start(): Promise<void> {
    this.port = await this.server.start();
  }

  /** Reached as localhost:<port>: a host different from the Worker's and Auth0's. */
  get origin(): string {
    return `http://localhost:${this.port}`;
  }

  callbacks(): Recorded[] {
    return this.server.to(SSO_CALLBACK_PATH);
  }

  clear(): void {
    this.server.clear();
  }

  private answer(r: Recorded): Reply {
    if (r.path !== SSO_CALLBACK_PATH) {
      return { status: 404, headers: { "content-type": "text/plain" }, body: "new SSO stand-in: not found\n" };
    }
    const query = new URLSearchParams(r.rawQuery ?? "");
    const connection = query.get("connection");
    const iss = query.get("iss");
    const known =
      connection !== null ? this.knownConnections.has(connection) : iss !== null && this.knownIssuers.has(iss);
    if (!known) {
      // The real provider's fallback: the same callback on the Auth0 domain, raw query unchanged, plus fallback=auth0.
      const raw = r.rawQuery ?? "";
      return {
        status: 307,
        headers: { location: `${this.workerOrigin}/login/callback?${raw === "" ? "" : `${raw}&`}fallback=auth0` },
      };
    }
    const form = /^application\/x-www-form-urlencoded\b/i.test(r.headers["content-type"] ?? "")
      ? [...new URLSearchParams(r.body.toString("utf8")).keys()]
      : [];
    const who = connection !== null ? `connection ${connection}` : `issuer ${iss ?? ""}`;
    return {
      status: 200,
      headers: { "content-type": "text/html; charset=utf-8" },
      body: htmlPage(
        "New SSO",
        `<h1>Signed in at new SSO</h1><p>${escapeHtml(who)}</p><p><code>${escapeHtml(r.method)} ${escapeHtml(r.path)}</code></p>` +
          `<p>Query parameters: ${escapeHtml([...query.keys()].join(", ") || "(none)")}</p>` +
          `<p>Form fields: ${escapeHtml(form.join(", ") || "(none)")}</p>`,
      ),
    };
  }
}

/** Serves whatever pages the tests register (the IdP side of each flow). */
export class IdpStandIn {
  readonly server: RecordingServer;
  private readonly replies = new Map<string, Reply>();
  port = 0;

  constructor() {
    this.server = new RecordingServer("IdP stand-in", (r) => this.replies.get(r.path) ?? { status: 404, body: "" });
  }

  async start(): Promise<void> {
    this.port = await this.server.start();
  }

  /** Reached as localhost:<port>, so the IdP is another site than the router (as in real life). */
  get origin(): string {
    return `http://localhost:${this.port}`;
  }

  /** Serves `html` at `path`; returns its URL. */
  page(path: string, html: string): string {
    this.replies.set(path, { status: 200, headers: { "content-type": "text/html; charset=utf-8" }, body: html });
    return `${this.origin}${path}`;
  }

  /** Answers `path` with a 302 to `location`; returns its URL. */
  redirect(path: string, location: string): string {
    this.replies.set(path, { status: 302, headers: { location } });
    return `${this.origin}${path}`;
  }
}
