/**
 * GET {prefix}/ — the operators' dashboard. Registered before the API's bearer
 * check (a browser navigation cannot send a token): the page holds no data and
 * calls the JSON API with the token the operator signs in with. It is served
 * only when the API has a credential configured; otherwise the API's own guard
 * answers exactly as it does for every endpoint (401, or 503 when misconfigured).
 */
import type { AdminApp } from "../admin/context";
import { adminConfigFor, adminPlaceOf } from "../config";
import { CLIENT_JS_SHA256 } from "./generated/client";
import { renderDashboard } from "./page";

function nonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes));
}

/**
 * The page's CSP: its one script is allowed by its SHA-256 (computed when it is built,
 * scripts/build-dashboard.ts), its one style element by a per-answer nonce; nothing else.
 */
export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'sha256-${CLIENT_JS_SHA256}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function registerDashboard(app: AdminApp): void {
  // hono joins "/" onto the base path as the bare prefix, so `{prefix}/` is matched here.
  app.get("/*", async (c, next) => {
    const admin = adminConfigFor(c.env);
    const { prefix } = adminPlaceOf(admin);
    const path = new URL(c.req.url).pathname;
    if (path !== prefix && path !== `${prefix}/`) return next();
    // No usable credential: the guard registered next answers, as it does for the API.
    if (!admin.ok || (admin.config.token === undefined && admin.config.jwt === undefined)) return next();
    if (path === prefix) return c.redirect(`${prefix}/`, 308);
    const n = nonce();
    return c.html(await renderDashboard(n, prefix), 200, {
      "content-security-policy": contentSecurityPolicy(n),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    });
  });
}
