/**
 * The callback's query string, read without re-serializing it: what goes on to
 * Auth0 or the new provider keeps every byte the IdP sent (order, repeats,
 * percent-encoding), except the one `fallback=auth0` parameter we remove.
 */

export interface QueryParam {
  name: string;
  value: string;
  raw: string;
}

/** application/x-www-form-urlencoded decoding of one component; undefined when malformed. */
export function decodeComponent(raw: string): string | undefined {
  // Nothing to decode (most names and values): the text is its own decoding.
  if (raw.indexOf("%") === -1 && raw.indexOf("+") === -1) return raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    return undefined;
  }
}

/** The raw query without the leading '?'. */
export function rawQueryOf(url: URL): string {
  return url.search.startsWith("?") ? url.search.slice(1) : url.search;
}

/** One `name=value` segment, decoded; undefined when an escape in it is malformed. */
export function parseSegment(raw: string): QueryParam | undefined {
  const eq = raw.indexOf("=");
  const name = decodeComponent(eq === -1 ? raw : raw.slice(0, eq));
  const value = eq === -1 ? "" : decodeComponent(raw.slice(eq + 1));
  if (name === undefined || value === undefined) return undefined;
  return { name, value, raw };
}

export function parseQuery(rawQuery: string): QueryParam[] {
  const params: QueryParam[] = [];
  for (const raw of rawQuery.split("&")) {
    // A malformed escape cannot be one of the parameters we act on; keep it opaque.
    const param = raw === "" ? undefined : parseSegment(raw);
    if (param !== undefined) params.push(param);
  }
  return params;
}

/**
 * The loop guard's marker (the new provider's bounce): true when the parameter reads as
 * `fallback=auth0` under application/x-www-form-urlencoded decoding (WHATWG URL Standard
 * §5.1, what `URLSearchParams` reads): name exactly `fallback`, value exactly `auth0`.
 * So `f%61llback=auth0` and `fallback=%61uth0` are the marker (every standard reader, the
 * provider's and Auth0's included, reads them as `fallback=auth0`); `FALLBACK=auth0`,
 * `Fallback=auth0`, `fallback=Auth0`, `fallback=auth0%20` and `fallback=+auth0` are not
 * (no standard reader does, and WorkOS writes the literal `fallback=auth0`): they are a
 * client's own parameters, kept and routed like any other. docs/design.md, "The bounce
 * marker", gives the reasoning.
 */
export function isFallbackParam(param: QueryParam): boolean {
  return param.name === "fallback" && param.value === "auth0";
}

/**
 * `rawQuery` (without '?') with every segment that is the bounce marker (isFallbackParam)
 * removed and every other byte kept, order and encoding included; a segment whose escapes
 * are malformed is never the marker (a standard decoder leaves a '%' or U+FFFD in it) and is
 * kept. Every marker goes, not the first only, so none can reach Auth0.
 */
export function withoutFallback(rawQuery: string): string {
  if (rawQuery === "") return rawQuery;
  return rawQuery
    .split("&")
    .filter((segment) => {
      // Only a segment spelled "fallback…" or holding an escape can decode to the name "fallback".
      if (!segment.startsWith("fallback") && segment.indexOf("%") === -1) return true;
      const param = parseSegment(segment);
      return param === undefined || !isFallbackParam(param);
    })
    .join("&");
}
