/**
 * A browser that hangs up mid-POST, for real: a TCP socket to workerd sends the headers
 * and part of a callback body, then closes. The Worker must log `client-gone` (never
 * `unexpected` or "Auth0 origin unreachable"), count no error and no login in /stats,
 * and never hand Auth0 the cut body as a whole one.
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RecordingServer } from "./support/recording-server";
import { startWorker, type RunningWorker } from "./support/worker";

const TOKEN = randomBytes(32).toString("base64url");
let worker: RunningWorker;
let auth0: RecordingServer;

beforeAll(async () => {
  auth0 = new RecordingServer("Auth0 stand-in", () => ({ status: 200, body: "auth0" }));
  const port = await auth0.start();
  worker = await startWorker({
    ENVIRONMENT: "development",
    AUTH0_ORIGIN: `http://127.0.0.1:${port}`,
    AUTH0_TENANT: "example",
    ALLOWED_TARGET_HOSTS: "sso.example.com",
    ADMIN_TOKEN: TOKEN,
    ROUTE_CACHE_SECONDS: "0",
    STATS_FLUSH_MS: "0",
    BODY_SCAN_LIMIT_BYTES: "1024",
  });
});

afterAll(async () => {
  await worker?.stop();
  await auth0?.close();
});

type Totals = { logins: number; errors: number; callbacks: number };
async function totals(): Promise<Totals> {
  const res = await fetch(`${worker.origin}/__router/v1/stats`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return ((await res.json()) as { totals: Totals }).totals;
}

/** Sends the request line, `headers` and `body`, then closes the socket without reading an answer. */
async function hangUp(path: string, headers: string[], body: string): Promise<void> {
  const origin = new URL(worker.origin);
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(Number(origin.port), origin.hostname, () => {
      socket.write([`POST ${path} HTTP/1.1`, `Host: ${origin.host}`, ...headers, "", ""].join("\r\n") + body, () =>
        setTimeout(() => socket.destroy(), 150),
      );
    });
    socket.on("close", () => resolve());
    socket.on("error", reject);
  });
}

/** Waits until the Worker logged `event` (its log lines arrive through workerd's pipe). */
async function logged(event: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 50; i++) {
    const line = worker.logs.find((l) => l["event"] === event);
    if (line !== undefined) return line;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no ${event} line; logged: ${JSON.stringify(worker.logs).slice(0, 1000)}`);
}

const SAML_HEAD = `SAMLResponse=${encodeURIComponent(
  Buffer.from('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_a" Version="2.0">').toString(
    "base64",
  ),
)}${"A".repeat(4000)}`;

describe("a browser that hangs up mid-POST", () => {
  it.each<[string, string[]]>([
    ["while the Worker reads the rest of a 20 000-byte body", ["Content-Length: 20000"]],
    ["while the rest of a 500 000-byte body streams on to Auth0", ["Content-Length: 500000"]],
    ["while a chunked body streams on to Auth0", ["Transfer-Encoding: chunked"]],
  ])("%s: client-gone, no error, no login", async (_name, headers) => {
    worker.logs.length = 0;
    auth0.clear();
    const before = await totals();
    const chunked = headers[0]?.startsWith("Transfer-Encoding") === true;
    const body = chunked ? `${SAML_HEAD.length.toString(16)}\r\n${SAML_HEAD}\r\n` : SAML_HEAD;
    await hangUp("/login/callback", ["Content-Type: application/x-www-form-urlencoded", ...headers], body);
    expect(await logged("client-gone")).toMatchObject({ path: "/login/callback" });
    const events = worker.logs.map((l) => l["event"]);
    expect(events).not.toContain("unexpected");
    expect(events).not.toContain("auth0-error");
    expect(events).not.toContain("callback");
    expect(await totals()).toEqual(before);
    // Auth0 got no request that ended (a cut upload is not passed off as a whole body).
    expect(auth0.to("/login/callback")).toEqual([]);
  });
});
