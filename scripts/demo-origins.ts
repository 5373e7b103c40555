/**
 * Two stand-in origins for local development, on loopback only:
 *
 *   "Auth0 (demo)"   127.0.0.1:8788  where the Worker forwards (AUTH0_ORIGIN in wrangler.toml)
 *   "New SSO (demo)" 127.0.0.1:8789  where migrated callbacks are redirected
 *                                    (settings.defaultTarget in routes.json, reached as localhost:8789)
 *
 * Each answers with what it received, so a curl or a browser shows what the
 * Worker passed on and what it changed. The new SSO "knows" a few connections;
 * any other callback is bounced back to the Worker with `fallback=auth0`, the
 * way the real provider does.
 *
 *   npx tsx scripts/demo-origins.ts      (scripts/dev.ts starts them in-process)
 *
 * Env: DEMO_AUTH0_PORT, DEMO_SSO_PORT, DEMO_SSO_CONNECTIONS (comma-separated),
 * DEMO_SSO_ISSUERS (comma-separated OIDC issuers), DEMO_WORKER_ORIGIN.
 * Changing a port also needs wrangler.toml / routes.json changed to match.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { escapeHtml } from "../src/pages";

export interface DemoOptions {
  auth0Port: number;
  ssoPort: number;
  /** Connections the new SSO accepts, by `connection` parameter. */
  ssoConnections: ReadonlySet<string>;
  /** OIDC issuers the new SSO accepts when there is no `connection` parameter. */
  ssoIssuers: ReadonlySet<string>;
  /** Where bounced callbacks go back to (the Worker). */
  workerOrigin: string;
}

export function demoOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): DemoOptions {
  const list = (raw: string | undefined, fallback: string) =>
    new Set(
      (raw ?? fallback)
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    );
  return {
    auth0Port: Number(env.DEMO_AUTH0_PORT ?? 8788),
    ssoPort: Number(env.DEMO_SSO_PORT ?? 8789),
    ssoConnections: list(env.DEMO_SSO_CONNECTIONS, "acme-saml,hooli-oidc,stark-saml"),
    ssoIssuers: list(env.DEMO_SSO_ISSUERS, "https://sso.hooli.example/realms/hooli"),
    workerOrigin: (env.DEMO_WORKER_ORIGIN ?? "http://localhost:8787").replace(/\/+$/, ""),
  };
}

export interface DemoOrigins {
  close(): Promise<void>;
}

export async function startDemoOrigins(options: DemoOptions = demoOptionsFromEnv()): Promise<DemoOrigins> {
  const auth0 = await listen("Auth0 (demo)", options.auth0Port, auth0Handler(options));
  try {
    const sso = await listen("New SSO (demo)", options.ssoPort, ssoHandler(options));
    return { close: async () => void (await Promise.all([close(auth0), close(sso)])) };
  } catch (err) {
    await close(auth0);
    throw err;
  }
}

// ---------------------------------------------------------------------------
// What arrived

interface Received {
  method: string;
  path: string;
  rawQuery: string;
  query: URLSearchParams;
  /** Fields of an application/x-www-form-urlencoded body; undefined for any other request. */
  form: URLSearchParams | undefined;
  /** Any other body: its size and type, never its content. */
  otherBody: string | undefined;
  cnameApiKey: boolean;
  xForwardedFor: string | undefined;
  trueClientIp: string | undefined;
  /** Shown as its scheme only: lets a reader check that no admin credential reaches Auth0. */
  authorization: string | undefined;
  /** Cookie names only (e.g. that the affinity cookie cra-… never reaches Auth0). */
  cookieNames: string[];
}

/** Enough for any SAMLResponse; a bigger body is cut (this is a demo, not a parser). */
const BODY_LIMIT = 1024 * 1024;

async function receive(req: http.IncomingMessage): Promise<Received> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Read the whole body before answering, so a client still sending never sees a reset.
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= BODY_LIMIT) chunks.push(chunk);
  }
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const rawQuery = q === -1 ? "" : url.slice(q + 1);
  const type = req.headers["content-type"] ?? "";
  const isForm = /^application\/x-www-form-urlencoded\b/i.test(type);
  const header = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  };
  return {
    method: req.method ?? "GET",
    path: q === -1 ? url : url.slice(0, q),
    rawQuery,
    query: new URLSearchParams(rawQuery),
    form: isForm ? new URLSearchParams(Buffer.concat(chunks).toString("utf8")) : undefined,
    otherBody: !isForm && size > 0 ? `${size} bytes (${type || "no content-type"})` : undefined,
    cnameApiKey: req.headers["cname-api-key"] !== undefined,
    xForwardedFor: header("x-forwarded-for"),
    trueClientIp: header("true-client-ip"),
    authorization: header("authorization"),
    cookieNames: (header("cookie") ?? "")
      .split(";")
      .map((c) => c.trim().split("=")[0] ?? "")
      .filter((n) => n !== ""),
  };
}

/** Long values (a SAMLResponse) are shortened so the page stays readable. */
function shorten(value: string): string {
  return value.length > 60 ? `${value.slice(0, 40)}… (${value.length} chars)` : value;
}

// ---------------------------------------------------------------------------
// The two origins

interface Answer {
  status: number;
  /** One line: what this origin did with the request (also the log outcome). */
  outcome: string;
  headers?: Record<string, string | string[]>;
}

type Handler = (received: Received) => Answer;

/**
 * Auth0 (demo). Besides /login/callback it starts an OIDC login the way Auth0 does, to
 * show transaction affinity: `/authorize` → 302 to a demo IdP (this same server on
 * 127.0.0.1, another host than the Worker's) with `state` and `redirect_uri` =
 * {worker}/login/callback; the IdP's `/demo-idp/authorize` answers at once with
 * `code` + `state` and no `iss`, like Entra ID or Okta.
 */
const auth0Handler =
  (options: DemoOptions): Handler =>
  (r) => {
    if (r.path === "/authorize") {
      const query = new URLSearchParams({
        client_id: "demo-idp-client",
        response_type: "code",
        scope: "openid profile",
        redirect_uri: `${options.workerOrigin}/login/callback`,
        state: randomBytes(18).toString("base64url"),
      });
      return {
        status: 302,
        outcome: "login started: sent to the demo IdP",
        headers: { location: `http://127.0.0.1:${options.auth0Port}/demo-idp/authorize?${query}` },
      };
    }
    if (r.path === "/demo-idp/authorize") {
      const back = new URL(r.query.get("redirect_uri") ?? `${options.workerOrigin}/login/callback`);
      back.search = new URLSearchParams({ code: "demo-code", state: r.query.get("state") ?? "" }).toString();
      return {
        status: 302,
        outcome: "demo IdP: signed in, back to the callback",
        headers: { location: back.toString() },
      };
    }
    return callbackAnswer(r);
  };

function callbackAnswer(r: Received): Answer {
  if (r.path !== "/login/callback") return { status: 200, outcome: "served (not a callback)" };
  // Two cookies, like Auth0's session + device cookies: they must reach the browser as two headers.
  const id = () => randomBytes(9).toString("base64url");
  return {
    status: 200,
    outcome: `login finished, two session cookies set${connectionOf(r)}${r.query.has("fallback") ? ", fallback=auth0 still in the query" : ""}`,
    headers: {
      "set-cookie": [
        `auth0=${id()}; Path=/; HttpOnly; SameSite=Lax`,
        `did=${id()}; Path=/; Max-Age=31536000; SameSite=Lax`,
      ],
    },
  };
}

function ssoHandler(options: DemoOptions): Handler {
  return (r) => {
    if (!r.path.endsWith("/callback"))
      return { status: 404, outcome: "not found (the new SSO demo serves only …/callback)" };
    const connection = r.query.get("connection");
    const iss = r.query.get("iss");
    if (connection !== null ? options.ssoConnections.has(connection) : iss !== null && options.ssoIssuers.has(iss)) {
      return { status: 200, outcome: `accepted by the new SSO${connectionOf(r)}` };
    }
    // The real provider's fallback: same callback on the Auth0 domain, raw query unchanged, plus fallback=auth0.
    const query = r.rawQuery === "" ? "fallback=auth0" : `${r.rawQuery}&fallback=auth0`;
    return {
      status: 307,
      outcome: `unknown to the new SSO${connectionOf(r)}: bounced back with fallback=auth0`,
      headers: { location: `${options.workerOrigin}/login/callback?${query}` },
    };
  };
}

/** " (connection x)" for outcome lines; control characters dropped so a request cannot forge log lines. */
function connectionOf(r: Received): string {
  const connection = r.query.get("connection");
  const iss = r.query.get("iss");
  const label = connection !== null ? `connection ${connection}` : iss !== null ? `iss ${iss}` : undefined;
  return label === undefined ? "" : ` (${label.replace(/[\x00-\x1f\x7f]/g, "?").slice(0, 200)})`;
}

// ---------------------------------------------------------------------------
// Serving

function listen(name: string, port: number, handler: Handler): Promise<http.Server> {
  const tag = name.startsWith("Auth0") ? "[auth0-demo]" : "[new-sso-demo]";
  const server = http.createServer((req, res) => {
    receive(req)
      .then((received) => {
        const answer = handler(received);
        const html = wantsHtml(req);
        const body = html ? renderHtml(name, answer, received) : renderText(name, answer, received);
        res.writeHead(answer.status, {
          ...answer.headers,
          // The one-line summary `npm run dev`'s curl lines print (curl -w '%header{x-demo-outcome}').
          "x-demo-outcome": `${name}: ${answer.outcome}`.replace(/[^\x20-\x7e]/g, "?"),
          "content-type": html ? "text/html; charset=utf-8" : "text/plain; charset=utf-8",
          "cache-control": "no-store",
          ...(html ? { "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'" } : {}),
        });
        res.end(received.method === "HEAD" ? undefined : body);
        // Method, path and outcome only: never a SAMLResponse, code or state.
        console.log(`${tag} ${received.method} ${received.path} → ${answer.status} ${answer.outcome}`);
      })
      .catch((err: unknown) => {
        console.log(`${tag} ${req.method} → error: ${err instanceof Error ? err.message : String(err)}`);
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end("demo origin error\n");
      });
  });
  return new Promise((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      reject(
        err.code === "EADDRINUSE" ? new Error(`${name}: port ${port} is already in use (another dev session?)`) : err,
      );
    });
    // Loopback only: these answer anyone with what they were sent.
    server.listen(port, "127.0.0.1", () => {
      console.log(`${tag} ${name} listening on http://127.0.0.1:${port}`);
      resolve(server);
    });
  });
}

function close(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Keep-alive sockets from the Worker would otherwise hold close() open.
    server.closeAllConnections();
  });
}

function wantsHtml(req: http.IncomingMessage): boolean {
  const ua = req.headers["user-agent"] ?? "";
  return !/^curl\//i.test(ua) && /text\/html/i.test(req.headers.accept ?? "");
}

/** [label, rows] sections shared by the text and HTML renderings. */
function sections(r: Received): Array<[string, Array<[string, string]>]> {
  const out: Array<[string, Array<[string, string]>]> = [
    ["Query parameters", [...r.query].map(([k, v]) => [k, shorten(v)])],
  ];
  if (r.form !== undefined) out.push(["Form fields", [...r.form].map(([k, v]) => [k, shorten(v)])]);
  if (r.otherBody !== undefined) out.push(["Body", [["body", r.otherBody]]]);
  out.push([
    "Proxy headers",
    [
      ["cname-api-key", r.cnameApiKey ? "arrived (value not shown)" : "did not arrive"],
      ["x-forwarded-for", r.xForwardedFor ?? "(none)"],
      ["true-client-ip", r.trueClientIp ?? "(none)"],
      [
        "authorization",
        r.authorization === undefined ? "(none)" : `${r.authorization.split(" ")[0]} … (value not shown)`,
      ],
      ["cookies", r.cookieNames.length === 0 ? "(none)" : `${r.cookieNames.join(", ")} (values not shown)`],
    ],
  ]);
  return out;
}

function renderText(name: string, answer: Answer, r: Received): string {
  const lines = [`${name}: ${answer.outcome}`, `${r.method} ${r.path}`];
  for (const [label, rows] of sections(r)) {
    lines.push(`${label}:`);
    if (rows.length === 0) lines.push("  (none)");
    for (const [k, v] of rows) lines.push(`  ${k} = ${v}`);
  }
  return `${lines.join("\n")}\n`;
}

function renderHtml(name: string, answer: Answer, r: Received): string {
  const e = escapeHtml;
  const tables = sections(r)
    .map(([label, rows]) => {
      const body =
        rows.length === 0
          ? "<tr><td colspan=2>(none)</td></tr>"
          : rows.map(([k, v]) => `<tr><th>${e(k)}</th><td><code>${e(v)}</code></td></tr>`).join("");
      return `<h2>${e(label)}</h2><table>${body}</table>`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${e(name)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.2rem .6rem;text-align:left;vertical-align:top}code{word-break:break-all}</style></head>
<body><h1>${e(name)}</h1><p><strong>${e(answer.outcome)}</strong></p><p><code>${e(r.method)} ${e(r.path)}</code></p>
${tables}
</body></html>
`;
}

// ---------------------------------------------------------------------------

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const origins = await startDemoOrigins().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
  const stop = () => void origins.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
