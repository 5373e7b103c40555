/** A login Auth0 started, through the Worker (the Auth0 stand-in's `login-start`, test/support/origin-server.ts). */
import type { Env } from "../../src/env";
import { call, HOST } from "./worker";

export interface StartedLogin {
  /** `name=value` of each affinity cookie the Worker set. */
  cookies: string[];
  /** The handles the stand-in made (state = RelayState = wctx). */
  handles: { state: string; relayState: string; wctx: string };
}

export async function startLogin(kind: string, connection: string, env: Partial<Env>): Promise<StartedLogin> {
  const query = new URLSearchParams({ kind, client_id: "app", connection, id: `_req-${connection}-0123456789abcdef` });
  const res = await call(
    new Request(`${HOST}/authorize?${query}`, { headers: { "x-test-origin": "login-start" } }),
    env,
  );
  await res.body?.cancel();
  const cookies = res.headers
    .getSetCookie()
    .filter((c) => c.startsWith("cra-"))
    .map((c) => c.split(";")[0] ?? "");
  return { cookies, handles: JSON.parse(res.headers.get("x-test-handles") ?? "{}") as StartedLogin["handles"] };
}
