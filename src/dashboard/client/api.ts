/** The management API, called with the operator's bearer token. */

export type Answer<T> = { ok: true; data: T; etag: string | null } | { ok: false; status: number; detail: string };

export class Api {
  token: string | null = null;

  constructor(
    private readonly base: string,
    /** Called on a 401 (token expired or revoked) with the problem's detail. */
    private readonly onUnauthorized: (detail: string) => void,
  ) {}

  /**
   * One call. A 403 (e.g. a read-only token trying a change) comes back like any
   * other refusal, so a read-only operator keeps watching; a 401 signs out.
   */
  async call<T>(method: string, path: string, body?: unknown, ifMatch?: string | null): Promise<Answer<T>> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token !== null) headers["authorization"] = `Bearer ${this.token}`;
    if (ifMatch) headers["if-match"] = ifMatch;
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    let data: unknown = null;
    try {
      res = await fetch(this.base + path, {
        method,
        headers,
        credentials: "omit",
        cache: "no-store",
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (text !== "") data = JSON.parse(text);
    } catch {
      return { ok: false, status: 0, detail: "The router did not answer with JSON (network problem?). Try again." };
    }
    if (res.ok) return { ok: true, data: data as T, etag: res.headers.get("etag") };
    return { ok: false, status: res.status, detail: this.refusal(res.status, data) };
  }

  private refusal(status: number, data: unknown): string {
    const problem = (data ?? {}) as { detail?: unknown; errors?: Array<{ field: string; reason: string }> };
    let detail = typeof problem.detail === "string" ? problem.detail : `The API answered ${status}.`;
    if (Array.isArray(problem.errors) && problem.errors.length > 0) {
      detail += ` (${problem.errors.map((e) => `${e.field}: ${e.reason}`).join("; ")})`;
    }
    if (status === 401 && this.token !== null) this.onUnauthorized(detail);
    return detail;
  }
}
