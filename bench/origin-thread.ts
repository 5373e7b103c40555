/**
 * The Auth0 stand-in, run in a worker thread so it does not share an event
 * loop with the load generator: answers every request 200 with a small HTML
 * body after reading the whole request body, and says how many body bytes
 * arrived (`x-received-bytes`) and what it was asked for (`x-received-url`,
 * path and query). Loopback only.
 *
 * Messages from the parent: "count" -> { requests }, "close" -> { closed }.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { parentPort } from "node:worker_threads";

const port = parentPort;
if (port === null) throw new Error("origin-thread must run in a worker thread");

const BODY = Buffer.from(
  "<!doctype html><html><head><title>Auth0 stand-in</title></head><body><p>ok</p></body></html>\n",
);
let requests = 0;

const server = http.createServer((req, res) => {
  let received = 0;
  req.on("data", (chunk: Buffer) => {
    received += chunk.length;
  });
  req.on("end", () => {
    requests++;
    res.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      "content-length": String(BODY.length),
      "cache-control": "no-store",
      "x-received-bytes": String(received),
      "x-received-url": req.url ?? "",
    });
    res.end(BODY);
  });
});
// workerd keeps its connections to the origin open between scenarios; a short
// server-side idle timeout would race with their reuse and show up as 502s.
server.keepAliveTimeout = 300_000;
server.headersTimeout = 301_000;
server.requestTimeout = 0;

server.listen(0, "127.0.0.1", () => {
  port.postMessage({ type: "listening", port: (server.address() as AddressInfo).port });
});

port.on("message", (message: unknown) => {
  if (message === "count") {
    port.postMessage({ type: "count", requests });
  } else if (message === "close") {
    server.closeAllConnections();
    server.close(() => {
      port.postMessage({ type: "closed" });
      port.close();
    });
  }
});
