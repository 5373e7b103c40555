/**
 * A real HTTP server standing in for Auth0 (Node, loopback only). It answers
 * every request with what it received — method, raw URL, headers, body length
 * and SHA-256 — so tests can prove bytes arrived unchanged. The request header
 * `x-test-origin` picks a behaviour for fault tests.
 */
import { createHash, randomBytes } from "node:crypto";
import { deflateRawSync, gzipSync } from "node:zlib";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  method: string;
  url: string;
  headers: Record<string, string | string[]>;
  bodyLength: number;
  bodySha256: string;
  /** The body as text when it is small (≤ 64 KiB). */
  bodyText: string | null;
}

export interface RunningServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

function collectHeaders(req: http.IncomingMessage): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? "").toLowerCase();
    const value = req.rawHeaders[i + 1] ?? "";
    const prior = out[name];
    if (prior === undefined) out[name] = value;
    else out[name] = Array.isArray(prior) ? [...prior, value] : [prior, value];
  }
  return out;
}

export interface OriginOptions {
  /**
   * SP metadata documents by connection: `GET /samlp/metadata?connection={name}` answers the
   * document's bytes (as Auth0 does, `text/xml`), and 404 for a name not listed.
   */
  metadata?: Record<string, string>;
}

export async function startOriginServer(options: OriginOptions = {}): Promise<RunningServer> {
  const sockets = new Set<import("node:net").Socket>();
  /** Every request but the stand-in's own /__stand-in/ ones (GET /__stand-in/total answers it). */
  let total = 0;
  /** Requests seen per `x-test-id` header, so tests can prove nothing was retried. */
  const seen = new Map<string, number>();
  /** Requests whose body arrived to its end (a cut upload never gets there). */
  const completed = new Map<string, number>();
  /** Stalled answers ("big-page-stalled") waiting for /__stand-in/release?id=…, by x-test-id. */
  const waiting = new Map<string, () => void>();
  const released = new Set<string>();
  // Cloudflare's edge admits URLs up to 16 KiB and headers up to 32 KiB; Node's 16 KiB
  // default would make the stand-in, not the Worker, refuse the largest ones.
  const server = http.createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    const releaseOf = /^\/__stand-in\/release\?id=([\w-]+)$/.exec(req.url ?? "");
    if (releaseOf !== null) {
      const id = releaseOf[1] ?? "";
      released.add(id);
      waiting.get(id)?.();
      res.writeHead(204);
      res.end();
      return;
    }
    const countOf = /^\/__stand-in\/count\?id=([\w-]+)$/.exec(req.url ?? "");
    if (countOf !== null) {
      res.writeHead(200, { "content-type": "application/json" });
      const id = countOf[1] ?? "";
      res.end(JSON.stringify({ requests: seen.get(id) ?? 0, completeBodies: completed.get(id) ?? 0 }));
      return;
    }
    if (req.url === "/__stand-in/total") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ requests: total }));
      return;
    }
    total += 1;
    const metadataOf = /^\/samlp\/metadata\?connection=([\w-]+)$/.exec(req.url ?? "");
    if (metadataOf !== null && options.metadata !== undefined) {
      const doc = options.metadata[metadataOf[1] ?? ""];
      res.writeHead(doc === undefined ? 404 : 200, { "content-type": "text/xml; charset=utf-8" });
      res.end(doc ?? "Not found");
      return;
    }
    const testId = req.headers["x-test-id"];
    if (typeof testId === "string") seen.set(testId, (seen.get(testId) ?? 0) + 1);
    const hash = createHash("sha256");
    const chunks: Buffer[] = [];
    let length = 0;
    req.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
      if (length <= 64 * 1024) chunks.push(chunk);
    });
    req.on("end", () => {
      if (typeof testId === "string") completed.set(testId, (completed.get(testId) ?? 0) + 1);
      const received: Received = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: collectHeaders(req),
        bodyLength: length,
        bodySha256: hash.digest("hex"),
        bodyText: length <= 64 * 1024 ? Buffer.concat(chunks).toString("latin1") : null,
      };
      const behaviour = String(req.headers["x-test-origin"] ?? "");
      const json = JSON.stringify(received);
      switch (behaviour) {
        case "hang":
          return; // never answers; the Worker's timeout must fire
        case "status-503":
          res.writeHead(503, { "content-type": "text/plain" });
          res.end("auth0 stand-in: unavailable");
          return;
        case "slow-body":
          // Answers at once, then takes longer than the tests' AUTH0_TIMEOUT_MS (300 ms) to end its body.
          res.writeHead(200, { "content-type": "text/plain" });
          res.write("started-");
          setTimeout(() => res.end("and-finished"), 700);
          return;
        case "close-mid-body":
          res.writeHead(200, { "content-type": "text/plain", "content-length": "100000" });
          res.write("partial");
          setTimeout(() => res.socket?.destroy(), 20);
          return;
        case "cookies":
          res.writeHead(302, [
            ["location", "https://app.example.com/after-login"],
            ["set-cookie", "auth0=abc; Path=/; HttpOnly; Secure; SameSite=None"],
            ["set-cookie", "auth0_compat=abc; Path=/; HttpOnly; Secure"],
            ["set-cookie", "did=s%3Av0%3A123; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT; HttpOnly"],
            ["content-type", "application/json"],
          ]);
          res.end(json);
          return;
        case "login-start":
          answerLoginStart(req, res);
          return;
        case "gzip-page": {
          // A small HTML page sent gzip-compressed, as Auth0 sends pages to browsers that accept it.
          const html = Buffer.from(
            `<!DOCTYPE html><html><body><p>${"Compressed page. ".repeat(200)}</p></body></html>`,
          );
          const gz = gzipSync(html);
          res.writeHead(200, {
            "content-type": "text/html; charset=utf-8",
            "content-encoding": "gzip",
            "content-length": String(gz.byteLength),
            "x-plain-sha256": createHash("sha256").update(html).digest("hex"),
          });
          res.end(gz);
          return;
        }
        case "big-page-stalled": {
          // A Universal Login-sized page: 32 KiB now, the other 168 KiB once the test releases it.
          const id = String(testId ?? "");
          const declared = req.headers["x-test-length"] === "declared";
          res.writeHead(200, [
            ["content-type", "text/html; charset=utf-8"],
            ...(declared ? [["content-length", String(BIG_PAGE.byteLength)] as [string, string]] : []),
            ...AUTH0_COOKIES.map((c) => ["set-cookie", c] as [string, string]),
          ]);
          res.write(BIG_PAGE.subarray(0, 32 * 1024));
          const finish = () => res.end(BIG_PAGE.subarray(32 * 1024));
          if (released.has(id)) finish();
          else waiting.set(id, finish);
          return;
        }
        default:
          res.writeHead(200, { "content-type": "application/json", "x-origin": "auth0-stand-in" });
          res.end(req.method === "HEAD" ? undefined : json);
      }
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port with nothing listening: connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Auth0's own cookies as a login start sets them (the Worker must pass them on byte for byte). */
export const AUTH0_COOKIES = [
  "auth0=s%3Av1.gadzZXNzaW9ugqZoYW5kbGXEQHV6; Path=/; Expires=Tue, 01 Dec 2026 12:00:00 GMT; HttpOnly; Secure; SameSite=None",
  "auth0_compat=s%3Av1.gadzZXNzaW9ugqZoYW5kbGXEQHV6; Path=/; Expires=Tue, 01 Dec 2026 12:00:00 GMT; HttpOnly; Secure",
  "did=s%3Av0%3A8f1c2e3a-1b2c-4d5e-8f90-123456789abc.XyZ; Max-Age=31557600; Path=/; Expires=Wed, 01 Dec 2027 18:00:00 GMT; HttpOnly; Secure; SameSite=None",
];

/** 200 KiB of Universal-Login-like HTML (deterministic, so its hash is known). */
export const BIG_PAGE = Buffer.from(
  `<!DOCTYPE html><html><head><title>Log in</title></head><body>${'<div class="ulp-padding">x</div>'.repeat(6600)}`.padEnd(
    200 * 1024 - 14,
    " ",
  ) + "</body></html>",
);

/**
 * Answers like Auth0 starting a login (`x-test-origin: login-start`), by the query's `kind`:
 *   oidc | social    302 to the IdP's authorize endpoint with state and redirect_uri = {domain}/login/callback
 *   saml-redirect    302 with a deflated SAMLRequest and RelayState (HTTP-Redirect binding)
 *   saml-post        200 text/html auto-post form with SAMLRequest and RelayState (HTTP-POST binding)
 *   wsfed            302 with wa=wsignin1.0, wtrealm and wctx
 *   app              302 back to the application with code and the application's state (not a login start)
 * `domain` (default https://auth.example.com) is the custom domain; `connection` is echoed into the ACS URL;
 * `state` and `id` fix the handles (else random).
 * The handles it made are in the `x-test-handles` response header (JSON), for the test to replay.
 */
function answerLoginStart(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://stand-in");
  const kind = url.searchParams.get("kind") ?? "oidc";
  const domain = url.searchParams.get("domain") ?? "https://auth.example.com";
  const connection = url.searchParams.get("connection") ?? "acme-saml";
  const callback = `${domain}/login/callback`;
  const state = url.searchParams.get("state") ?? randomBytes(24).toString("base64url");
  const id = url.searchParams.get("id") ?? `_${randomBytes(20).toString("hex")}`;
  const acs = `${callback}?connection=${connection}`;
  const authnRequest =
    `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" AssertionConsumerServiceURL="${acs}"` +
    ` Destination="https://idp.acme.test/sso" ID="${id}" IssueInstant="${new Date().toISOString()}"` +
    ` ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Version="2.0">` +
    `<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">urn:auth0:example-tenant:${connection}</saml:Issuer>` +
    `</samlp:AuthnRequest>`;
  const cookies = AUTH0_COOKIES.map((c) => ["set-cookie", c] as [string, string]);
  const handles = JSON.stringify({ state, relayState: state, id, wctx: state });
  const redirect = (location: string) => {
    res.writeHead(302, [["location", location], ["x-test-handles", handles], ...cookies]);
    res.end("Found. Redirecting");
  };
  switch (kind) {
    case "oidc":
    case "social": {
      const idp =
        kind === "social"
          ? "https://accounts.google.com/o/oauth2/auth"
          : "https://login.microsoftonline.com/0000-tenant/oauth2/v2.0/authorize";
      const q = new URLSearchParams({ client_id: "idp-client", response_type: "code", scope: "openid profile email" });
      q.set("redirect_uri", callback);
      q.set("state", state);
      return redirect(`${idp}?${q}`);
    }
    case "saml-redirect": {
      const q = new URLSearchParams({
        SAMLRequest: deflateRawSync(authnRequest).toString("base64"),
        RelayState: state,
      });
      return redirect(`https://idp.acme.test/sso?${q}`);
    }
    case "wsfed": {
      const q = new URLSearchParams({ wa: "wsignin1.0", wtrealm: "urn:auth0:example-tenant", wctx: state });
      return redirect(`https://adfs.hooli.test/adfs/ls/?${q}`);
    }
    case "app":
      return redirect(`https://app.example.com/callback?code=app-code&state=${state}`);
    case "saml-post": {
      const html =
        `<!DOCTYPE html><html><head><title>Working...</title></head><body onload="document.forms[0].submit()">` +
        `<form method="post" name="hiddenform" action="https://idp.acme.test/sso">` +
        `<input type="hidden" name="SAMLRequest" value="${Buffer.from(authnRequest).toString("base64")}">` +
        `<input type="hidden" name="RelayState" value="${state}">` +
        `<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit"></noscript>` +
        `</form></body></html>`;
      res.writeHead(200, [
        ["content-type", "text/html; charset=utf-8"],
        ["content-length", String(Buffer.byteLength(html))],
        ["x-test-handles", handles],
        ...cookies,
      ]);
      res.end(html);
      return;
    }
    default:
      res.writeHead(400, { "content-type": "text/plain" });
      res.end(`unknown kind ${kind}`);
  }
}
