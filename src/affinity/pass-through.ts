/**
 * Wires recording (record.ts) into the pass-through path: the configuration
 * says whether affinity is configured at all, the route table's settings whether
 * it is switched off at run time (read only when a login start is recognised).
 */
import type { Config } from "../config";
import { log } from "../log";
import { RouteStore } from "../table/store";
import { affinityKey } from "./cookie";
import { HTML_SCAN_LIMIT_BYTES, mayStartLogin, recordLoginStart } from "./record";

/** Auth0's answer to `request`, with the affinity cookie added when it starts a login. */
export async function withAffinityRecorded(
  request: Request,
  response: Response,
  config: Config,
  kv: KVNamespace,
): Promise<Response> {
  const affinity = config.affinity;
  // Most answers (assets, JSON, 200 pages that are not HTML, 4xx) cannot start a login: nothing else is done.
  if (affinity === undefined || !mayStartLogin(request, response)) return response;
  const recorded = await recordLoginStart(request, response, {
    key: await affinityKey(affinity.secret),
    maxAgeSeconds: affinity.maxAgeSeconds,
    htmlScanLimitBytes: HTML_SCAN_LIMIT_BYTES,
    auth0Tenant: config.auth0Tenant,
    isOn: async () => {
      const settings = await new RouteStore(kv, config).settings();
      // Only an explicit "off" stops recording: a cookie recorded while the table is unreadable is harmless.
      return !(settings.status === "found" && settings.value.affinity === "off");
    },
  });
  const start = recorded.start;
  if (start !== undefined) {
    log({
      event: "login-start",
      protocol: start.protocol,
      binding: start.binding,
      connection: start.connection ?? null,
      idpHost: start.idpHost,
      handles: start.handles.length,
      path: new URL(request.url).pathname,
    });
  }
  return recorded.response;
}
