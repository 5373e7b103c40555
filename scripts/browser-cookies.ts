/**
 * A browser's cookie jar, as small as the demo needs (scripts/dev.ts's demo traffic): it keeps
 * the cookies each answer sets (RFC 6265 §5.2–5.3: host-only, Path, Max-Age / Expires; a
 * Max-Age ≤ 0 or a past Expires deletes) and gives the `Cookie` header for a request
 * (§5.4: same host, path-match; ports do not count, as in browsers). Domain cookies,
 * Secure-only-over-https and SameSite are not modelled: everything here is loopback http,
 * which browsers treat as a secure context for localhost.
 */
export class BrowserCookies {
  private readonly cookies = new Map<
    string,
    { host: string; path: string; name: string; value: string; expires: number }
  >();

  /** Keeps what `setCookies` (one Set-Cookie header value each) sets for a response from `url`. */
  store(url: URL, setCookies: readonly string[], now: number = Date.now()): void {
    for (const line of setCookies) {
      const [pair = "", ...attributes] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = defaultPath(url);
      let expires = Infinity;
      for (const attribute of attributes) {
        const [key = "", ...rest] = attribute.split("=");
        const v = rest.join("=").trim();
        switch (key.trim().toLowerCase()) {
          case "path":
            if (v.startsWith("/")) path = v;
            break;
          case "max-age":
            if (/^-?[0-9]+$/.test(v)) expires = now + Number(v) * 1000;
            break;
          case "expires":
            if (expires === Infinity && !Number.isNaN(Date.parse(v))) expires = Date.parse(v);
            break;
        }
      }
      const key = `${url.hostname}\0${path}\0${name}`;
      if (expires <= now) this.cookies.delete(key);
      else this.cookies.set(key, { host: url.hostname, path, name, value, expires });
    }
  }

  /** The `Cookie` header a browser would send to `url`, or undefined when it would send none. */
  header(url: URL, now: number = Date.now()): string | undefined {
    const sent = [...this.cookies.values()]
      .filter((c) => c.host === url.hostname && c.expires > now && pathMatches(url.pathname, c.path))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`);
    return sent.length === 0 ? undefined : sent.join("; ");
  }
}

/** RFC 6265 §5.1.4: the default path is the request path up to its last "/". */
function defaultPath(url: URL): string {
  const last = url.pathname.lastIndexOf("/");
  return last <= 0 ? "/" : url.pathname.slice(0, last);
}

/** RFC 6265 §5.1.4 path-match. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith("/") || requestPath[cookiePath.length] === "/";
}
