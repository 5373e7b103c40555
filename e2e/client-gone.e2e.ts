/**
 * A browser that hangs up mid-POST, for real: a TCP socket to workerd sends the headers
 * and part of a callback body, then closes. The Worker must log `client-gone` (never
 * `unexpected` or "Auth0 origin unreachable"), count no error and no login in /stats,
 * and never hand Auth0 the cut body as a whole one. Hostile bodies and framing (cut escapes,
 * base64 garbage, a 2 MiB RelayState, lying or doubled lengths) never get a 5xx either.
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
  // The body is scanned (no connection= in the query) or never read for routing (named by its
  // query; a pass-through POST): either way a stream of the Worker's own is in front of it.
  it.each<[string, string, string[]]>([
    ["while the Worker reads the rest of a 20 000-byte body", "/login/callback", ["Content-Length: 20000"]],
    ["while the rest of a 500 000-byte body streams on to Auth0", "/login/callback", ["Content-Length: 500000"]],
    ["while a chunked body streams on to Auth0", "/login/callback", ["Transfer-Encoding: chunked"]],
    [
      "a callback named by its query, while its 20 000-byte body is read before forwarding",
      "/login/callback?connection=globex-saml",
      ["Content-Length: 20000"],
    ],
    [
      "a callback named by its query, while its 500 000-byte body streams straight on to Auth0",
      "/login/callback?connection=globex-saml",
      ["Content-Length: 500000"],
    ],
    [
      "a callback named by its query, while its chunked body streams straight on to Auth0",
      "/login/callback?connection=globex-saml",
      ["Transfer-Encoding: chunked"],
    ],
    [
      "a pass-through POST, while its 500 000-byte body streams on to Auth0",
      "/u/login?state=x",
      ["Content-Length: 500000"],
    ],
  ])("%s: client-gone, no error, no login", async (_name, target, headers) => {
    worker.logs.length = 0;
    auth0.clear();
    const before = await totals();
    const chunked = headers[0]?.startsWith("Transfer-Encoding") === true;
    const body = chunked ? chunk(SAML_HEAD) : SAML_HEAD;
    await hangUp(target, ["Content-Type: application/x-www-form-urlencoded", ...headers], body);
    const path = target.split("?")[0] ?? target;
    expect(await logged("client-gone")).toMatchObject({ path });
    const events = worker.logs.map((l) => l["event"]);
    expect(events).not.toContain("unexpected");
    expect(events).not.toContain("auth0-error");
    expect(events).not.toContain("callback");
    expect(await totals()).toEqual(before);
    // Auth0 got no request that ended (a cut upload is not passed off as a whole body).
    expect(auth0.to(path)).toEqual([]);
  });
});

/**
 * Sends the request line, `headers` and `body` parts as raw bytes (Connection: close), ends
 * its side of the connection (still reading) and resolves with the answer's status line, or
 * undefined when none came within `waitMs`.
 */
async function exchange(path: string, headers: string[], parts: Array<string | Buffer>, waitMs = 5_000) {
  const origin = new URL(worker.origin);
  return new Promise<string | undefined>((resolve) => {
    let answer = "";
    const socket = net.connect(Number(origin.port), origin.hostname, () => {
      socket.write(
        [`POST ${path} HTTP/1.1`, `Host: ${origin.host}`, "Connection: close", ...headers, "", ""].join("\r\n"),
      );
      for (const part of parts) socket.write(part);
      socket.end();
    });
    const done = () => {
      socket.destroy();
      clearTimeout(timer);
      resolve(answer === "" ? undefined : answer.split("\r\n")[0]);
    };
    const timer = setTimeout(done, waitMs);
    socket.on("data", (d: Buffer) => (answer += d.toString("latin1")));
    socket.on("close", done);
    socket.on("error", done);
  });
}

const FORM = "Content-Type: application/x-www-form-urlencoded";
const length = (body: string | Buffer) => `Content-Length: ${Buffer.byteLength(body)}`;
const chunk = (body: string) => `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n`;

describe("hostile callback bodies and framing, sent as raw bytes", () => {
  const bodies: Array<[string, string]> = [
    ["percent-encoding cut at the end", "RelayState=x&SAMLResponse=PHNh%"],
    ["percent-encoding cut after one digit", "SAMLResponse=PHNh%4"],
    ["escapes that are not hex", "SAMLResponse=%ZZ%G1&RelayState=%"],
    ["base64 garbage", `SAMLResponse=${"!!@@##$$".repeat(2_000)}`],
    ["padding in the middle of the base64", "SAMLResponse=PH==NhbW==xwOl"],
    [
      "a 2 MiB RelayState before the message",
      `RelayState=${"A".repeat(2 * 1024 * 1024)}&SAMLResponse=PHNhbWxwOlJlc3BvbnNlLz4%3D`,
    ],
    ["a wresult of invalid UTF-8", `wresult=%3C%3C%3E${"%FF".repeat(3_000)}`],
    [
      "an id_token that is not JSON",
      `id_token=${Buffer.from("{").toString("base64url")}.${Buffer.from('{"iss":').toString("base64url")}.x`,
    ],
  ];
  it.each(bodies)("%s: Auth0's answer, no 5xx, nothing unexpected", async (_name, body) => {
    worker.logs.length = 0;
    expect(await exchange("/login/callback", [FORM, length(body)], [body])).toBe("HTTP/1.1 200 OK");
    expect(worker.logs.map((l) => l["event"])).not.toContain("unexpected");
  });

  it.each<[string, string[], Array<string | Buffer>, RegExp]>([
    [
      "chunked with no Content-Length",
      ["Transfer-Encoding: chunked"],
      [chunk("SAMLResponse=PHNh&RelayState=x"), "0\r\n\r\n"],
      /^HTTP\/1\.1 200 /,
    ],
    [
      "a Content-Length smaller than the body",
      ["Content-Length: 10"],
      ["SAMLResponse=PHNhbWxwOlJlc3BvbnNlLz4%3D"],
      /^HTTP\/1\.1 200 /,
    ],
    [
      "both Content-Length and chunked",
      ["Content-Length: 5", "Transfer-Encoding: chunked"],
      [chunk("SAMLResponse=PHNh&RelayState=x"), "0\r\n\r\n"],
      /^HTTP\/1\.1 200 /,
    ],
    [
      "a chunk size that is not hex",
      ["Transfer-Encoding: chunked"],
      ["zz\r\nabc\r\n0\r\n\r\n"],
      /^HTTP\/1\.1 (4\d\d) /,
    ],
    [
      "a Content-Length past any real body, then closed",
      ["Content-Length: 99999999999999"],
      ["SAMLResponse=PHNh"],
      /^HTTP\/1\.1 499 /,
    ],
    ["a negative Content-Length", ["Content-Length: -1"], ["SAMLResponse=PHNh"], /^HTTP\/1\.1 400 /],
  ])("%s: never a 5xx", async (_name, headers, parts, status) => {
    worker.logs.length = 0;
    const answer = await exchange("/login/callback", [FORM, ...headers], parts);
    // A Content-Length the body never reaches: the Worker reads until the client ends its side,
    // then it is client-gone (499), never a router error.
    expect(answer ?? "(no answer)").toMatch(status);
    expect(worker.logs.map((l) => l["event"])).not.toContain("unexpected");
  });
});
