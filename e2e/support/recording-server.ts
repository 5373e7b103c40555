/**
 * A loopback HTTP server that records every request exactly as it arrived
 * (method, raw request target, headers, raw body bytes) before answering it.
 * The end-to-end tests assert on these recordings, not on page text.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { escapeHtml } from "../../src/pages";

export interface Recorded {
  method: string;
  /** The request target exactly as sent: path plus the raw query. */
  url: string;
  path: string;
  /** The raw query (without "?"), byte for byte; undefined when the URL had no "?". */
  rawQuery: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface Reply {
  status: number;
  /** An array value becomes one header line per element (e.g. several Set-Cookie lines). */
  headers?: Record<string, string | string[]>;
  body?: string;
}

export type Handler = (request: Recorded) => Reply;

/** Browsers ask every origin for this on their own; it is answered but never recorded. */
const IGNORED_PATHS = new Set(["/favicon.ico"]);

export class RecordingServer {
  readonly received: Recorded[] = [];
  private readonly server: http.Server;
  private port = 0;

  constructor(
    readonly name: string,
    private readonly handler: Handler,
  ) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const url = req.url ?? "/";
        const q = url.indexOf("?");
        const request: Recorded = {
          method: req.method ?? "",
          url,
          path: q === -1 ? url : url.slice(0, q),
          rawQuery: q === -1 ? undefined : url.slice(q + 1),
          headers: req.headers,
          body: Buffer.concat(chunks),
        };
        if (IGNORED_PATHS.has(request.path)) {
          res.writeHead(404, { "content-type": "text/plain" }).end();
          return;
        }
        this.received.push(request);
        let reply: Reply;
        try {
          reply = this.handler(request);
        } catch (err) {
          reply = { status: 500, body: `${this.name}: ${err instanceof Error ? err.message : String(err)}` };
        }
        for (const [header, value] of Object.entries(reply.headers ?? {})) res.setHeader(header, value);
        res.setHeader("cache-control", "no-store");
        res.writeHead(reply.status);
        res.end(request.method === "HEAD" ? undefined : reply.body);
      });
    });
  }

  /** Listens on 127.0.0.1 only, on a free port. */
  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  /** Requests to one path, in arrival order. */
  to(path: string): Recorded[] {
    return this.received.filter((r) => r.path === path);
  }

  clear(): void {
    this.received.length = 0;
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      // Keep-alive sockets (the browser's, workerd's) would otherwise hold close() open.
      this.server.closeAllConnections();
    });
  }
}

export { escapeHtml };

export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem}code{word-break:break-all}li{margin:.2rem 0}</style></head>
<body>
${body}
</body></html>
`;
}
