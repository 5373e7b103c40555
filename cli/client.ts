/**
 * The management API as the CLI sees it: JSON in and out, the bearer token from
 * ROUTER_TOKEN, RFC 9457 problems turned into ApiError (exit code 1).
 */

export type Json = Record<string, unknown>;

/** The API refused the request (status ≥ 400) or could not be reached (status 0). */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    /** The problem document (title, detail, errors[]), or one made up for a non-JSON answer. */
    readonly body: Json,
  ) {
    super(`${status} ${String(body["title"] ?? "")}`);
  }
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiAnswer {
  json: Json;
  headers: Headers;
}

export class ApiClient {
  constructor(
    private readonly fetch: Fetch,
    /** Origin plus API prefix, no trailing slash: `https://auth.example.com/__router/v1`. */
    readonly base: string,
    private readonly token: string | undefined,
  ) {}

  get hasToken(): boolean {
    return this.token !== undefined && this.token !== "";
  }

  /**
   * One request; `body` is sent as is with its content type. Resolves with the
   * parsed JSON answer; rejects with ApiError for a non-2xx answer or no answer.
   */
  async request(
    method: string,
    path: string,
    body?: { text: string | Uint8Array<ArrayBuffer>; type: string },
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer> {
    const sent: Record<string, string> = { accept: "application/json", ...headers };
    if (this.hasToken) sent["authorization"] = `Bearer ${this.token ?? ""}`;
    const init: RequestInit = { method, headers: sent };
    if (body !== undefined) {
      init.body = body.text;
      sent["content-type"] = body.type;
    }
    let res: Response;
    try {
      res = await this.fetch(`${this.base}${path}`, init);
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : "";
      throw new ApiError(0, {
        title: "Unreachable",
        detail: `${new URL(this.base).origin} did not answer: ${err instanceof Error ? err.message : String(err)}${cause}`,
      });
    }
    const text = await res.text();
    let json: Json;
    try {
      const parsed: unknown = text === "" ? {} : JSON.parse(text);
      json = typeof parsed === "object" && parsed !== null ? (parsed as Json) : { value: parsed };
    } catch {
      json = { title: "Not JSON", detail: text.slice(0, 300) };
    }
    if (!res.ok) throw new ApiError(res.status, json);
    return { json, headers: res.headers };
  }

  /** A JSON body. */
  send(method: string, path: string, value: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> {
    return this.request(method, path, { text: JSON.stringify(value), type: "application/json" }, headers);
  }
}
