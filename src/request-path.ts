/**
 * What a request path names, whatever its spelling. Servers and proxies in front
 * of Auth0 may normalize a path before matching it (RFC 3986 §6.2.2: percent-
 * decoding, dot-segment removal; Cloudflare's normalization: `\` → `/`, merged
 * slashes; Express-style routers: case and a trailing slash ignored), so the
 * router compares paths in a form that folds all of those together. It is used
 * only to decide; the path forwarded to Auth0 keeps the client's bytes.
 * The decision and its sources: docs/design.md, "Which paths are the callback".
 */

const MAX_DECODE_ROUNDS = 4;
const decoder = new TextDecoder("utf-8", { fatal: false });

/** Percent-escapes decoded as UTF-8 (invalid sequences become U+FFFD); malformed `%` kept. */
function percentDecode(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    const bytes = new Uint8Array(run.length / 3);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(run.slice(i * 3 + 1, i * 3 + 3), 16);
    return decoder.decode(bytes);
  });
}

/** Decoded until stable (at most 4 rounds), `\` as `/`, lower case, split, `;params` dropped. */
function foldedSegments(pathname: string): string[] {
  let text = pathname;
  for (let round = 0; round < MAX_DECODE_ROUNDS; round++) {
    const decoded = percentDecode(text);
    if (decoded === text) break;
    text = decoded;
  }
  return text
    .replace(/\\/g, "/")
    .toLowerCase()
    .split("/")
    .map((raw) => {
      const semicolon = raw.indexOf(";");
      return semicolon === -1 ? raw : raw.slice(0, semicolon);
    });
}

/**
 * The path's segments after folding every spelling difference a server on the
 * way might ignore: percent-decoding (repeated until stable, at most 4 rounds,
 * so `%252F` counts as `/`), `\` as `/`, lower case, `;params` dropped from each
 * segment, empty and `.` segments dropped, `..` removing the segment before it.
 *
 * `canonicalSegments("/LOGIN/./x/../Callback;jsessionid=1/")` → `["login", "callback"]`.
 */
export function canonicalSegments(pathname: string): string[] {
  return resolveDots(foldedSegments(pathname));
}

function resolveDots(folded: readonly string[]): string[] {
  const out: string[] = [];
  for (const segment of folded) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") out.pop();
    else out.push(segment);
  }
  return out;
}

/** Every spelling of `/login/callback` that a server in front of Auth0 could treat as it. */
export function isCallbackPath(pathname: string): boolean {
  const segments = canonicalSegments(pathname);
  return segments.length === 2 && segments[0] === "login" && segments[1] === "callback";
}

/**
 * Under `/__` (the Worker's own namespace; Auth0 has no such paths): never
 * forwarded, whatever the spelling (`/__ROUTER`, `//__router`, `/%5F%5Frouter`,
 * `/__router%2F..%2Fx`: the first segment before or after dot segments counts).
 */
export function isReservedPath(pathname: string): boolean {
  return classifyPath(pathname).reserved;
}

const CALLBACK = Object.freeze({ callback: true, reserved: false });

/**
 * isCallbackPath and isReservedPath of one path, folding it once (the router
 * asks both of every request).
 */
export function classifyPath(pathname: string): { callback: boolean; reserved: boolean } {
  // The one spelling nearly every callback uses folds to itself.
  if (pathname === "/login/callback") return CALLBACK;
  const folded = foldedSegments(pathname);
  const canonical = resolveDots(folded);
  const first = folded.find((s) => s !== "" && s !== ".");
  return {
    callback: canonical.length === 2 && canonical[0] === "login" && canonical[1] === "callback",
    reserved: (first?.startsWith("__") ?? false) || (canonical[0]?.startsWith("__") ?? false),
  };
}

/**
 * Any segment starting with `__`, before or after dot segments are resolved
 * (e.g. `/x/__router/v1/routes`, `/__router%2F..%2Fuserinfo`): such a path may
 * be a mistyped management API call, so its Authorization header (an admin
 * credential) is not sent to Auth0.
 */
export function isAdminLookingPath(pathname: string): boolean {
  // Without "__" or an escape that could decode to "_", no folded segment can start with "__".
  if (!pathname.includes("__") && !pathname.includes("%")) return false;
  return foldedSegments(pathname).some((s) => s.startsWith("__"));
}
