/**
 * A chat webhook stand-in (Node, loopback) for the autopilot's notifications. Every
 * `POST /hook/<key>/<mode>` is recorded under `<key>` (so test files never share), then
 * answered by `<mode>`: `ok` 200 "ok" (Slack's answer), `500` a server error, `redirect`
 * a 302 elsewhere, `slow` no answer until the stand-in closes.
 * `GET /__stand-in/requests?key=` lists what `<key>` received.
 */
import http from "node:http";
import { listenOnLoopback } from "./loopback";

export interface RecordedPost {
  path: string;
  contentType: string | null;
  body: string;
}

export interface WebhookStandIn {
  url: string;
  close(): Promise<void>;
}

export async function startWebhookStandIn(): Promise<WebhookStandIn> {
  const received = new Map<string, RecordedPost[]>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://stand-in.local");
    if (req.method === "GET" && url.pathname === "/__stand-in/requests") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(received.get(url.searchParams.get("key") ?? "") ?? []));
      return;
    }
    const match = /^\/hook\/([\w-]+)\/(ok|500|redirect|slow)$/.exec(url.pathname);
    if (req.method !== "POST" || match === null) {
      res.writeHead(404).end();
      return;
    }
    const [, key = "", mode] = match;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const list = received.get(key) ?? [];
      list.push({
        path: url.pathname,
        contentType: req.headers["content-type"] ?? null,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      received.set(key, list);
      if (mode === "ok") res.writeHead(200, { "content-type": "text/plain" }).end("ok");
      else if (mode === "500") res.writeHead(500, { "content-type": "text/plain" }).end("internal_error");
      else if (mode === "redirect") res.writeHead(302, { location: "https://elsewhere.example/hook" }).end();
      // slow: never answers; closeAllConnections ends it.
    });
  });
  return listenOnLoopback(server);
}
