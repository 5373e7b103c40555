/**
 * The parties around the router in the autopilot simulation, on loopback (127.0.0.1, port 0):
 *
 *   Auth0         `/authorize` starts an SP-initiated SAML login the way Auth0 does (the
 *                 HTTP-POST binding's auto-post form: SAMLRequest + RelayState, ACS = the
 *                 router's /login/callback), so the router records its handles (affinity);
 *                 `/login/callback` serves every login (302 to the application).
 *   new provider  WorkOS in the router's place: its callback serves a login (200), bounces
 *                 it (307 back to the router's /login/callback with `fallback=auth0`, the raw
 *                 query kept, as WorkOS documents) or fails it (an error page), per connection;
 *                 each served or failed login is an `authentication.sso_succeeded` /
 *                 `authentication.sso_failed` event in its Events API (`GET /events`, WorkOS'
 *                 documented shapes: test/support/workos-fake.ts). A login it did not start
 *                 and cannot serve (one Auth0 started, RelayState `a0-…`) gets the error page.
 *
 * Both count what they answered, so the simulation can say which logins were lost: a
 * callback that reached a destination that could not serve it.
 */
import http from "node:http";
import { listenOnLoopback } from "../../test/support/loopback";
import { listEvents, type FakeEvent } from "../../test/support/workos-events";

export const PROVIDER_CALLBACK_PATH = "/sso/client_sim/auth0/callback";
/** RelayState prefix of the logins Auth0 started (the driver's, so the stand-ins can tell). */
export const AUTH0_RELAY_PREFIX = "a0-";

interface Listening {
  origin: string;
  close(): Promise<void>;
}

async function listen(handler: (req: http.IncomingMessage, body: string) => Answer): Promise<Listening> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let a: Answer;
      try {
        a = handler(req, Buffer.concat(chunks).toString("utf8"));
      } catch (err) {
        a = { status: 500, body: err instanceof Error ? err.message : "stand-in error" };
      }
      res.writeHead(a.status, { "cache-control": "no-store", ...a.headers });
      res.end(a.body);
    });
  });
  const { url, close } = await listenOnLoopback(server);
  return { origin: url, close };
}

interface Answer {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/** Per connection: what a destination answered. */
export interface Served {
  served: number;
  /** Callbacks it could not serve (an error page): logins lost. */
  failed: number;
  bounced: number;
}

const tally = (map: Map<string, Served>, connection: string): Served => {
  let t = map.get(connection);
  if (t === undefined) map.set(connection, (t = { served: 0, failed: 0, bounced: 0 }));
  return t;
};

const connectionOf = (url: URL) => url.searchParams.get("connection") ?? "(none)";

export interface Auth0 extends Listening {
  /** What Auth0 served per connection (bounced-back logins included). */
  byConnection: Map<string, Served>;
  /** The router, as the ACS host of the logins Auth0 starts; set once it is up. */
  routerOrigin: string;
}

export async function startAuth0(): Promise<Auth0> {
  const byConnection = new Map<string, Served>();
  const self: Auth0 = {
    origin: "",
    close: async () => {},
    byConnection,
    routerOrigin: "",
  };
  const listening = await listen((req, body): Answer => {
    const url = new URL(req.url ?? "/", "http://auth0.local");
    if (url.pathname === "/authorize") {
      const connection = connectionOf(url);
      const id = url.searchParams.get("id") ?? "_sim";
      const state = url.searchParams.get("state") ?? `${AUTH0_RELAY_PREFIX}x`;
      const acs = `${self.routerOrigin}/login/callback?connection=${encodeURIComponent(connection)}`;
      const authnRequest =
        `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" AssertionConsumerServiceURL="${acs}"` +
        ` ID="${id}" IssueInstant="${new Date().toISOString()}" Version="2.0"` +
        ` ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">` +
        `<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">urn:auth0:sim-tenant:${connection}</saml:Issuer>` +
        `</samlp:AuthnRequest>`;
      return {
        status: 200,
        headers: { "content-type": "text/html; charset=utf-8" },
        body:
          `<!DOCTYPE html><html><body onload="document.forms[0].submit()">` +
          `<form method="post" action="https://idp.sim.test/saml/sso">` +
          `<input type="hidden" name="SAMLRequest" value="${Buffer.from(authnRequest).toString("base64")}">` +
          `<input type="hidden" name="RelayState" value="${state}">` +
          `</form></body></html>`,
      };
    }
    if (url.pathname === "/login/callback") {
      const t = tally(byConnection, connectionOf(url));
      t.served++;
      void body;
      return { status: 302, headers: { location: "https://app.sim.test/done" }, body: "" };
    }
    return { status: 404, body: "Auth0 stand-in: not found" };
  });
  self.origin = listening.origin;
  self.close = listening.close;
  return self;
}

export interface NewProvider extends Listening {
  byConnection: Map<string, Served>;
  /** Its Events API's events, oldest first. */
  events: FakeEvent[];
  /** Where a bounce goes back to: the router; set (and reset after a restart) by the simulation. */
  routerOrigin: string;
}

export interface ProviderBehaviour {
  apiKey: string;
  /** Auth0 connection → WorkOS conn_… id (what the provider's events name). */
  connectionIds: ReadonlyMap<string, string>;
  /** Connections whose every login the provider bounces back (fallback=auth0). */
  bounce: ReadonlySet<string>;
  /** Connections whose every login fails at the provider (error page + sso_failed). */
  fail: ReadonlySet<string>;
}

export async function startNewProvider(behaviour: ProviderBehaviour): Promise<NewProvider> {
  const byConnection = new Map<string, Served>();
  const events: FakeEvent[] = [];
  const self: NewProvider = { origin: "", close: async () => {}, byConnection, events, routerOrigin: "" };
  const errorPage = (why: string): Answer => ({
    status: 400,
    headers: { "content-type": "text/html; charset=utf-8" },
    body: `<!DOCTYPE html><title>Sign-in failed</title><h1>Sign-in failed</h1><p>${why}</p>`,
  });
  const listening = await listen((req, body): Answer => {
    const url = new URL(req.url ?? "/", "http://provider.local");
    if (url.pathname === "/events") {
      if (req.headers.authorization !== `Bearer ${behaviour.apiKey}`) {
        return { status: 401, headers: { "content-type": "application/json" }, body: '{"message":"Unauthorized"}' };
      }
      const page = listEvents(events, url.searchParams);
      return { ...page, headers: { "content-type": "application/json", ...page.headers } };
    }
    if (url.pathname !== PROVIDER_CALLBACK_PATH) return { status: 404, body: "provider stand-in: not found" };
    const connection = connectionOf(url);
    const t = tally(byConnection, connection);
    const relayState = new URLSearchParams(body).get("RelayState") ?? "";
    if (relayState.startsWith(AUTH0_RELAY_PREFIX)) {
      // InResponseTo names an AuthnRequest it never issued: it cannot finish this login.
      t.failed++;
      return errorPage("This login was not started here.");
    }
    if (behaviour.bounce.has(connection)) {
      t.bounced++;
      const raw = url.search.slice(1);
      return {
        status: 307,
        headers: { location: `${self.routerOrigin}/login/callback?${raw === "" ? "" : `${raw}&`}fallback=auth0` },
        body: "",
      };
    }
    const failed = behaviour.fail.has(connection);
    const connectionId = behaviour.connectionIds.get(connection);
    events.push({
      event: failed ? "authentication.sso_failed" : "authentication.sso_succeeded",
      ...(connectionId === undefined ? {} : { connection_id: connectionId }),
      created_at: new Date().toISOString(),
    });
    if (failed) {
      t.failed++;
      return errorPage("The SAML response signature is invalid.");
    }
    t.served++;
    return { status: 200, headers: { "content-type": "text/html" }, body: "<h1>Signed in at the new provider</h1>" };
  });
  self.origin = listening.origin;
  self.close = listening.close;
  return self;
}
