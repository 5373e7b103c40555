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
  const { base, own } = partsOf(target);
  if (own === "") return rawQuery === "" ? base : `${base}?${rawQuery}`;
  return rawQuery === "" ? `${base}?${own}` : `${base}?${own}&${rawQuery}`;
}

/** A target's host, as logged (`targetHost`). */
export function targetHost(target: URL): string {
  return partsOf(target).host;
}

interface TargetParts {
  /** origin + pathname */
  base: string;
  /** The target's own query, without '?'; "" when none. */
  own: string;
  host: string;
}

/**
 * A target URL's parts, read once per URL object: a route's checked target is parsed once
 * per isolate (src/table/store.ts) and shared, never mutated, so its callbacks reuse them.
 */
const targetParts = new WeakMap<URL, TargetParts>();

function partsOf(target: URL): TargetParts {
  let parts = targetParts.get(target);
  if (parts === undefined) {
    const search = target.search;
    parts = {
      base: `${target.origin}${target.pathname}`,
      own: search.length > 1 ? search.slice(1) : "",
      host: target.host,
    };
    targetParts.set(target, parts);
  }
  return parts;
}
