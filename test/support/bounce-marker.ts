/**
 * The oracle for the bounce marker (docs/design.md, "The bounce marker"): the WHATWG
 * application/x-www-form-urlencoded parser (URLSearchParams), not a copy of the Worker's
 * reading. The leading "&" keeps URLSearchParams from dropping a leading "?" as its
 * constructor does (the parser of a URL's query does not).
 */
export function isMarkerSegment(segment: string): boolean {
  const pairs = [...new URLSearchParams(`&${segment}`)];
  return pairs.length === 1 && pairs[0]?.[0] === "fallback" && pairs[0][1] === "auth0";
}

/** Whether a raw query (without its '?') carries the marker in any segment. */
export function hasMarker(rawQuery: string): boolean {
  return rawQuery.split("&").some(isMarkerSegment);
}
