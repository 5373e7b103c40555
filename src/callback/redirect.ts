/**
 * Sending a callback to the new provider.
 *
 * 307 (default): the browser repeats the same method to the target — a POST
 * stays a POST and re-sends the SAMLResponse body itself (RFC 9110 §15.4.8).
 *
 * "form": for a POST, an auto-submitting HTML form carrying the same fields,
 * for setups where a cross-site 307 is unwelcome; only for a body the form
 * re-sends byte for byte (src/callback/form-replay.ts), else the 307. Every
 * value is HTML-escaped (a CRLF pair the parser reads as LF is submitted as
 * CRLF again). The one inline script is allowed by its SHA-256 (CSP Level 3
 * §8.3) and nothing else may load. It calls HTMLFormElement.prototype.submit,
 * which no input can shadow (an input named `submit` replaces `form.submit`);
 * the Continue button is always there, for a browser without scripts.
 * `form-action` is deliberately not set: Chromium applies it to the redirects
 * that follow the submission, which would block the provider's own redirect.
 */
import { escapeHtml, NO_STORE } from "../pages";
import type { FormField } from "./form";

/** The page's one script. Its hash below must match it byte for byte (test/form-replay.test.ts checks). */
export const SUBMIT_SCRIPT = `HTMLFormElement.prototype.submit.call(document.getElementById("callback-form"));`;
/** base64 SHA-256 of SUBMIT_SCRIPT, for `script-src 'sha256-…'`. */
export const SUBMIT_SCRIPT_SHA256 = "ZyJlTD3RamvFXq3Zh5YrldWYgJPjNmfgBEfdPJcsZ4w=";

const CONTENT_SECURITY_POLICY = `default-src 'none'; script-src 'sha256-${SUBMIT_SCRIPT_SHA256}'; base-uri 'none'; frame-ancestors 'none'`;

/** `mark`: the bounce mark's Set-Cookie header (src/callback/bounce-mark.ts), when there is one. */
export function redirect307(location: string, mark?: string): Response {
  const headers: Record<string, string> = { location, "cache-control": NO_STORE, "referrer-policy": "no-referrer" };
  if (mark !== undefined) headers["set-cookie"] = mark;
  return new Response(null, { status: 307, headers });
}

/** The auto-submitting form page for `fields`, which must come from replayableFields(); `mark` as for redirect307. */
export function autoPostForm(action: string, fields: FormField[], mark?: string): Response {
  const inputs = fields
    .map((f) => `<input type="hidden" name="${escapeHtml(f.name)}" value="${escapeHtml(f.value)}">`)
    .join("\n");
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Signing you in…</title></head>
<body>
<form method="post" action="${escapeHtml(action)}" id="callback-form">
${inputs}
<p>Signing you in… If nothing happens, press Continue.</p>
<button type="submit">Continue</button>
</form>
<script>${SUBMIT_SCRIPT}</script>
</body></html>
`;
  const headers: Record<string, string> = {
    "content-type": "text/html; charset=utf-8",
    "cache-control": NO_STORE,
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "content-security-policy": CONTENT_SECURITY_POLICY,
  };
  if (mark !== undefined) headers["set-cookie"] = mark;
  return new Response(body, { status: 200, headers });
}
