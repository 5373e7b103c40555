/**
 * Unknown query parameters are refused on every API route (400 problem naming each one),
 * so a misspelt or unsupported flag (`?dryrun=true`, `?dryRun=true` where there is no dry
 * run) can never turn a preview into a change. One middleware for the whole API: what each
 * route takes is read from its OpenAPI definition (`request.query`), the same document
 * /openapi.json publishes, so the check and the documentation cannot disagree.
 */
import type { MiddlewareHandler } from "hono";
import type { AdminEnv, AdminApp } from "./context";
import { ApiProblem } from "./problem";

interface RouteQuery {
  method: string;
  /** The OpenAPI path, e.g. /__router/v1/routes/{connection}. */
  path: string;
  pattern: RegExp;
  params: ReadonlySet<string>;
}

/** The query parameters a route's OpenAPI definition declares (its `request.query` object's keys). */
function queryParamsOf(query: unknown): string[] {
  if (typeof query !== "object" || query === null || !("shape" in query)) return [];
  const shape = (query as { shape: unknown }).shape;
  return typeof shape === "object" && shape !== null ? Object.keys(shape) : [];
}

/** Every route the registry holds (its paths are relative to `prefix`), with the query parameters it takes. */
function routesOf(app: AdminApp, prefix: string): RouteQuery[] {
  const routes: RouteQuery[] = [];
  for (const definition of app.openAPIRegistry.definitions) {
    if (definition.type !== "route") continue;
    const { method, request } = definition.route;
    const path = `${prefix}${definition.route.path}`;
    const source = path
      .split(/(\{[^}]+\})/)
      .map((part) => (part.startsWith("{") ? "[^/]+" : part.replace(/[.*+?^$()|[\]\\]/g, "\\$&")))
      .join("");
    routes.push({
      method: method.toUpperCase(),
      path,
      pattern: new RegExp(`^${source}/?$`),
      params: new Set(queryParamsOf(request?.query)),
    });
  }
  return routes;
}

/** `a, b and c`. */
function listOf(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? "") : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/**
 * The middleware: 400 `application/problem+json` when the query names a parameter the
 * matched route does not declare, each one an error `{ field: "query.<name>", reason }`.
 * A request no definition matches (e.g. /openapi.json) takes no query parameters. Built
 * lazily from `app`'s registry on the first request, when every route is registered.
 */
export function refuseUnknownQuery(app: AdminApp, prefix: string): MiddlewareHandler<AdminEnv> {
  let routes: RouteQuery[] | undefined;
  return async function refuseUnknownQueryParams(c, next) {
    const url = new URL(c.req.url);
    if (url.search !== "" && url.search !== "?") {
      routes ??= routesOf(app, prefix);
      const method = c.req.method === "HEAD" ? "GET" : c.req.method;
      const route = routes.find((r) => r.method === method && r.pattern.test(url.pathname));
      const takes = route?.params ?? new Set<string>();
      const unknown = [...new Set(url.searchParams.keys())].filter((name) => !takes.has(name));
      if (unknown.length > 0) {
        const where = `${method} ${route?.path ?? url.pathname}`;
        const accepted = takes.size === 0 ? "takes no query parameters" : `takes only ${listOf([...takes])}`;
        throw new ApiProblem(
          400,
          "Unknown query parameter",
          `${where} ${accepted}; nothing was done. Unknown: ${listOf(unknown.map((n) => `"${n}"`))}.`,
          unknown.map((name) => ({ field: `query.${name}`, reason: `not a parameter of ${where} (it ${accepted})` })),
        );
      }
    }
    await next();
  };
}
