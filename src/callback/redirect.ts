/**
 * Sending a callback to the new provider.
 *
 * 307 (default): the browser repeats the same method to the target — a POST
 * stays a POST and re-sends the SAMLResponse body itself (RFC 9110 §15.4.8).
 *
 * "form": for a POST, an auto-submitting HTML form carrying the same fields,
 * for setups where a cross-site 307 is unwelcome. Every value is HTML-escaped;
 * a CSP allows only the one inline script (by nonce) and nothing else to load.
 * `form-action` is deliberately not set: Chromium applies it to the redirects
 * that follow the submission, which would block the provider's own redirect.
 */
import { escapeHtml, NO_STORE } from "../pages";
import type { FormField } from "./form";

export function redirect307(location: string): Response {
  return new Response(null, {
    status: 307,
    headers: { location, "cache-control": NO_STORE, "referrer-policy": "no-referrer" },
  });
}

export function autoPostForm(action: string, fields: FormField[], nonce: string): Response {
  const inputs = fields
    .map((f) => `<input type="hidden" name="${escapeHtml(f.name)}" value="${escapeHtml(f.value)}">`)
    .join("\n");
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Signing you in…</title></head>
<body>
<form method="post" action="${escapeHtml(action)}" id="callback-form">
${inputs}
<noscript><p>JavaScript is off. Press the button to continue signing in.</p><button type="submit">Continue</button></noscript>
</form>
<script nonce="${escapeHtml(nonce)}">document.getElementById("callback-form").submit();</script>
</body></html>
`;
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": NO_STORE,
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
      "content-security-policy": `default-src 'none'; script-src 'nonce-${nonce}'; base-uri 'none'; frame-ancestors 'none'`,
    },
  });
}

/** A form can be re-rendered only from a whole, plain-ASCII urlencoded body. */
export function isReplayableForm(bytes: Uint8Array, complete: boolean): boolean {
  if (!complete) return false;
  for (const byte of bytes)
    if (byte > 0x7e || (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d)) return false;
  return true;
}
