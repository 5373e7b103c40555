/**
 * The IdP side of the simulation: browsers finishing SAML logins at the router, hop by hop
 * as a browser does (`redirect: "manual"`, a 307 re-sends the POST and its body, cookies
 * kept per host), so every callback really travels router → new provider → (bounce) router
 * → Auth0.
 *
 * Two kinds of login per connection: IdP-initiated (no handle: the route table decides) and,
 * every `auth0Every`-th, one Auth0 started (GET /authorize through the router, which records
 * its handles in the affinity cookie; the callback carries them, so it must go to Auth0
 * whatever the table says). Bounded: at most `maxLogins` logins, one round every `everyMs`.
 */
import { randomBytes } from "node:crypto";
import { AUTH0_RELAY_PREFIX } from "./stand-ins";

export interface LoginTally {
  sent: number;
  /** Started by Auth0 (through the router): must never reach the new provider. */
  auth0Started: number;
  /** Finished at the new provider / at Auth0 (after a bounce or forwarded directly). */
  servedByProvider: number;
  servedByAuth0: number;
  /** Reached the new provider, which bounced them (fallback=auth0). */
  bounced: number;
  /** Reached a destination that could not serve them: the provider's error page, or a router 5xx. */
  lost: number;
  /** Of `lost`: logins Auth0 started. */
  lostAuth0Started: number;
  /** Never reached a destination (the router was down for its restart). */
  notDelivered: number;
}

export interface TrafficOptions {
  connections: readonly string[];
  /** The router's origin now (it changes when the simulation restarts it). */
  routerOrigin: () => string;
  everyMs: number;
  maxLogins: number;
  /** One login in this many is started by Auth0. */
  auth0Every: number;
}

export interface Traffic {
  tally: Map<string, LoginTally>;
  /** Resolves when stopped (or maxLogins is reached) and the last round has finished. */
  done: Promise<void>;
  stop(): void;
  /** Holds new rounds (the router is restarting) until resume(); rounds in flight finish. */
  pause(): Promise<void>;
  resume(): void;
  total(): number;
}

const newTally = (): LoginTally => ({
  sent: 0,
  auth0Started: 0,
  servedByProvider: 0,
  servedByAuth0: 0,
  bounced: 0,
  lost: 0,
  lostAuth0Started: 0,
  notDelivered: 0,
});

const HOP_TIMEOUT_MS = 10_000;

export function startTraffic(options: TrafficOptions): Traffic {
  const tally = new Map(options.connections.map((c) => [c, newTally()] as const));
  let stopped = false;
  let paused: { resume: () => void; held: Promise<void> } | undefined;
  let inFlight: Promise<unknown> = Promise.resolve();
  let sent = 0;
  let round = 0;

  const loop = async () => {
    while (!stopped && sent < options.maxLogins) {
      if (paused !== undefined) await paused.held;
      const started = Date.now();
      const logins: Array<Promise<void>> = [];
      for (const connection of options.connections) {
        if (sent >= options.maxLogins) break;
        sent++;
        const auth0Started = (round + options.connections.indexOf(connection)) % options.auth0Every === 0;
        logins.push(oneLogin(options.routerOrigin(), connection, auth0Started, tally.get(connection) ?? newTally()));
      }
      round++;
      inFlight = Promise.all(logins);
      await inFlight;
      await sleep(Math.max(0, options.everyMs - (Date.now() - started)));
    }
  };
  const done = loop();
  return {
    tally,
    done,
    stop: () => {
      stopped = true;
      paused?.resume();
    },
    pause: async () => {
      if (paused === undefined) {
        let resume = () => {};
        const held = new Promise<void>((r) => (resume = r));
        paused = { resume, held };
      }
      await inFlight;
    },
    resume: () => {
      paused?.resume();
      paused = undefined;
    },
    total: () => sent,
  };
}

/** One browser finishing one login of `connection`; its outcome is added to `t`. */
async function oneLogin(router: string, connection: string, auth0Started: boolean, t: LoginTally): Promise<void> {
  t.sent++;
  if (auth0Started) t.auth0Started++;
  const jar = new Map<string, string>();
  const relayState = `${auth0Started ? AUTH0_RELAY_PREFIX : "idp-"}${randomBytes(9).toString("base64url")}`;
  const requestId = `_${randomBytes(12).toString("hex")}`;
  const callback = `${router}/login/callback?connection=${encodeURIComponent(connection)}`;
  try {
    if (auth0Started) {
      const start = new URLSearchParams({ connection, id: requestId, state: relayState });
      const res = await hop(`${router}/authorize?${start}`, "GET", undefined, jar);
      await res.body?.cancel();
      if (res.status !== 200) {
        t.notDelivered++;
        return;
      }
    }
    const response =
      `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r${randomBytes(8).toString("hex")}"` +
      (auth0Started ? ` InResponseTo="${requestId}"` : "") +
      ` Version="2.0"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">https://idp.sim.test/${connection}</saml:Issuer></samlp:Response>`;
    const body = new URLSearchParams({
      SAMLResponse: Buffer.from(response).toString("base64"),
      RelayState: relayState,
    }).toString();
    let url = callback;
    for (let hops = 0; hops < 4; hops++) {
      const atRouter = url.startsWith(router);
      const res = await hop(url, "POST", body, atRouter ? jar : undefined);
      await res.body?.cancel();
      const location = res.headers.get("location");
      if (atRouter) {
        if (res.status === 307 && location !== null) {
          url = location;
          continue;
        }
        // Auth0's 302 onward to the application, passed through by the router: Auth0 served it.
        if (res.status === 302) t.servedByAuth0++;
        else lose(t, auth0Started);
        return;
      }
      // At the new provider.
      if (res.status === 307 && location !== null) {
        t.bounced++;
        url = location;
        continue;
      }
      if (res.status === 200) t.servedByProvider++;
      else lose(t, auth0Started);
      return;
    }
    lose(t, auth0Started);
  } catch {
    // The router was down (its restart): this login never reached a destination.
    t.notDelivered++;
  }
}

function lose(t: LoginTally, auth0Started: boolean): void {
  t.lost++;
  if (auth0Started) t.lostAuth0Started++;
}

async function hop(
  url: string,
  method: "GET" | "POST",
  body: string | undefined,
  jar: Map<string, string> | undefined,
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";
  if (jar !== undefined && jar.size > 0) headers["cookie"] = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const res = await fetch(url, {
    method,
    headers,
    body: body ?? null,
    redirect: "manual",
    signal: AbortSignal.timeout(HOP_TIMEOUT_MS),
  });
  if (jar !== undefined) {
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(";")[0] ?? "";
      const at = pair.indexOf("=");
      if (at > 0) jar.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
  }
  return res;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
