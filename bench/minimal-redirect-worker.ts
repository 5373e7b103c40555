/**
 * The floor for any router's redirect: every /login/callback becomes a 307 to
 * the new provider's callback with the same query string. No route table, no
 * identification, no log line, no counters. Anything else is forwarded the way
 * bench/bare-worker.ts does it (not measured; it keeps the Worker honest).
 */
interface MinimalEnv {
  ORIGIN: string;
  TARGET: string;
}

export default {
  fetch(request: Request, env: MinimalEnv): Response | Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/login/callback") {
      return new Response(null, { status: 307, headers: { location: env.TARGET + url.search } });
    }
    return fetch(new Request(new URL(url.pathname + url.search, env.ORIGIN), request));
  },
};
