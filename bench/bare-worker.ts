/**
 * The baseline: a Worker that only forwards each request to the origin
 * (same method, path, query, headers and body) and returns its answer.
 */
interface BareEnv {
  ORIGIN: string;
}

export default {
  fetch(request: Request, env: BareEnv): Promise<Response> {
    const url = new URL(request.url);
    return fetch(new Request(new URL(url.pathname + url.search, env.ORIGIN), request));
  },
};
