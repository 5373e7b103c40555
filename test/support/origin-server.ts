/**
 * A real HTTP server standing in for Auth0 (Node, loopback only). It answers
 * every request with what it received — method, raw URL, headers, body length
 * and SHA-256 — so tests can prove bytes arrived unchanged. The request header
 * `x-test-origin` picks a behaviour for fault tests.
 */
import { createHash } from "node:crypto";
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

export async function startOriginServer(): Promise<RunningServer> {
  const sockets = new Set<import("node:net").Socket>();
  /** Requests seen per `x-test-id` header, so tests can prove nothing was retried. */
  const seen = new Map<string, number>();
  // Cloudflare's edge admits URLs up to 16 KiB and headers up to 32 KiB; Node's 16 KiB
  // default would make the stand-in, not the Worker, refuse the largest ones.
  const server = http.createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    const countOf = /^\/__stand-in\/count\?id=([\w-]+)$/.exec(req.url ?? "");
    if (countOf !== null) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ requests: seen.get(countOf[1] ?? "") ?? 0 }));
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
