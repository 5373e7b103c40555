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
 * The loop guard's marker. Matched leniently (case, encoding) so a provider
 * that writes `fallback=Auth0` or `%66allback=auth0` still stops the loop.
 */
export function isFallbackParam(param: QueryParam): boolean {
  return param.name === "fallback" && param.value.trim().toLowerCase() === "auth0";
}

/** The raw query with every fallback=auth0 segment removed and all other bytes kept. */
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
