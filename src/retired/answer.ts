/**
 * Every request but the callback once Auth0 is retired (settings `auth0: retired` or
 * AUTH0_RETIRED): nothing is forwarded. `/samlp/metadata?connection=` gets the connection's
 * `metadataUrl` (a redirect) or its stored snapshot (byte for byte); every other path gets
 * its row of the settings' path table or the default page (src/retired/paths.ts).
 * Logs one `retired-path` line per answer: the matched prefix, never the query.
 */
import type { Config } from "../config";
import { log } from "../log";
import { errorPage, NO_STORE } from "../pages";
import { canonicalSegments } from "../request-path";
import { metadataKey, SAML_METADATA_CONTENT_TYPE } from "../table/kv-layout";
import { isConnectionName } from "../table/schema";
import type { LoadedSettings, Lookup, RouteStore } from "../table/store";
import { checkTarget } from "../targets";
import { pathAnswer } from "./paths";

/** The answer to `request` (not a callback, not the admin prefix) while Auth0 is retired. */
export async function answerRetired(
  request: Request,
  url: URL,
  settings: Lookup<LoadedSettings>,
  store: RouteStore,
  kv: KVNamespace,
  config: Config,
): Promise<Response> {
  const connection = metadataConnection(url);
  if (connection !== undefined) {
    const metadata = await metadataAnswer(request, connection, store, kv, config);
    if (metadata !== undefined) return metadata;
  }
  const rules = settings.status === "found" ? settings.value.paths : undefined;
  const rawQuery = url.search.length > 1 ? url.search.slice(1) : "";
  const answer = pathAnswer(rules, url.pathname, rawQuery, config);
  log({
    event: "retired-path",
    answer: answer.kind,
    status: answer.status,
    prefix: answer.prefix,
    ...(answer.refused === undefined ? {} : { problem: `path table location refused: ${answer.refused}` }),
  });
  if (answer.kind === "redirect") {
    return new Response(null, {
      status: answer.status,
      headers: { location: answer.location, "cache-control": NO_STORE, "referrer-policy": "no-referrer" },
    });
  }
  return errorPage(request, answer.status, answer.title, answer.message);
}

/** The connection of a `/samlp/metadata?connection={name}` request (any spelling of the path), else undefined. */
export function metadataConnection(url: URL): string | undefined {
  const segments = canonicalSegments(url.pathname);
  if (segments.length !== 2 || segments[0] !== "samlp" || segments[1] !== "metadata") return undefined;
  const names = url.searchParams.getAll("connection");
  const [name] = names;
  return names.length === 1 && name !== undefined && isConnectionName(name) ? name : undefined;
}

/**
 * The route's metadataUrl (302, when the allow-list takes it), else the stored snapshot
 * (200, its bytes unchanged, application/samlmetadata+xml); undefined when there is neither
 * or KV cannot be read (then the path table answers: never Auth0).
 */
async function metadataAnswer(
  request: Request,
  connection: string,
  store: RouteStore,
  kv: KVNamespace,
  config: Config,
): Promise<Response | undefined> {
  const route = await store.route(connection);
  const metadataUrl = route.status === "found" ? route.value.metadataUrl : undefined;
  if (metadataUrl !== undefined) {
    const checked = checkTarget(metadataUrl, config);
    if (checked.ok) {
      log({ event: "retired-path", answer: "metadata-redirect", status: 302, prefix: "/samlp/metadata", connection });
      return new Response(null, { status: 302, headers: { location: checked.url.href, "cache-control": NO_STORE } });
    }
    log({ event: "route-invalid", message: `metadataUrl refused: ${checked.reason}`, connection });
  }
  let bytes: ArrayBuffer | null;
  try {
    bytes = await kv.get(metadataKey(connection), { type: "arrayBuffer", cacheTtl: config.kvCacheTtlSeconds });
  } catch (err) {
    log({
      event: "kv-error",
      message: err instanceof Error ? err.message.slice(0, 200) : "KV read failed",
      connection,
    });
    return undefined;
  }
  if (bytes === null) return undefined;
  log({ event: "retired-path", answer: "metadata-snapshot", status: 200, prefix: "/samlp/metadata", connection });
  return new Response(request.method === "HEAD" ? null : bytes, {
    status: 200,
    headers: {
      "content-type": SAML_METADATA_CONTENT_TYPE,
      // IdPs poll it (ADFS daily); a changed snapshot shows within 5 minutes.
      "cache-control": "public, max-age=300",
      "x-content-type-options": "nosniff",
    },
  });
}
