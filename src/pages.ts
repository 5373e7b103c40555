/**
 * The Worker's own short answers (errors, redirects): HTML for browsers, RFC 9457
 * problem JSON when the client asks for JSON. Always `Cache-Control: no-store`.
 */

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

export function wantsJson(request: Request): boolean {
  const accept = request.headers.get("accept") ?? "";
  return /application\/(?:problem\+)?json/i.test(accept) && !/text\/html/i.test(accept);
}

export const NO_STORE = "no-store";

/** A short error answer that says what failed, never any secret or request content. */
export function errorPage(request: Request, status: number, title: string, detail: string): Response {
  const headers = new Headers({ "cache-control": NO_STORE, "x-content-type-options": "nosniff" });
  if (wantsJson(request)) {
    headers.set("content-type", "application/problem+json");
    return new Response(JSON.stringify({ type: "about:blank", title, status, detail }), { status, headers });
  }
  headers.set("content-type", "text/html; charset=utf-8");
  headers.set("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p><p>Status ${status}</p></body></html>
`;
  return new Response(request.method === "HEAD" ? null : body, { status, headers });
}
