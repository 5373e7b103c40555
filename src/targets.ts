/**
 * Redirect targets: where a migrated connection's callback may be sent.
 * A target is usable only if it is https (http only for loopback in
 * development) and its host is on ALLOWED_TARGET_HOSTS — compared exactly,
 * never by prefix or suffix, so `sso.example.com.evil.test` never passes.
 */
import { checkUrl, type Config } from "./config";

export type TargetCheck = { ok: true; url: URL } | { ok: false; reason: string };

export function checkTarget(raw: string, config: Pick<Config, "environment" | "allowedTargetHosts">): TargetCheck {
  const checked = checkUrl(raw, config.environment);
  if (!checked.ok) return { ok: false, reason: `target ${checked.reason}` };
  const url = checked.url;
  if (!config.allowedTargetHosts.has(url.host)) {
    return { ok: false, reason: `target host "${url.host}" is not in ALLOWED_TARGET_HOSTS` };
  }
  if (url.hash !== "") return { ok: false, reason: "target must not have a fragment" };
  return { ok: true, url };
}

/**
 * The Location for a redirect: the target with the callback's whole original
 * query string appended byte for byte (after the target's own query, if any).
 */
export function redirectLocation(target: URL, rawQuery: string): string {
  const base = `${target.origin}${target.pathname}`;
  const own = target.search.length > 1 ? target.search.slice(1) : "";
  const query = [own, rawQuery].filter((part) => part !== "").join("&");
  return query === "" ? base : `${base}?${query}`;
}
