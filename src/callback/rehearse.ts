/**
 * Rehearsal (POST {prefix}/rehearse): the logins the counters recorded as evidence
 * (src/stats/evidence.ts) replayed through the router's own decision code
 * (route-callback.ts → decide.ts) twice — over the KV replica as it is, and over the
 * replica with a proposed change's values laid over it (table/overlay-kv.ts) — and, per
 * connection, how many would go elsewhere, where, and how many could not be served.
 *
 * Each recorded login is rebuilt as a callback of its shape with the values the connection's
 * IdP sends (evaluate.ts's callbackOf, with the route's `match` *as it is now*: what the IdP
 * sent is not changed by a change to the table). A login Auth0 started carries its affinity
 * handle: under a proposal that keeps affinity on it goes back to Auth0 (decide.ts step 2a).
 *
 * Limits, said where they apply: an issuer the table never matched is not known, so such a
 * login is replayed without it; logins under `(not in table)` are replayed under a name no
 * table has (their names are not kept); `started: unknown` (affinity off when recorded) is
 * replayed as not started by Auth0 and never counted stranded.
 */
import type { Config } from "../config";
import type { EvidenceRow } from "../stats/evidence";
import { NOT_IN_TABLE } from "../stats/rows";
import { UNIDENTIFIED } from "../stats/outcome";
import type { RouteStore } from "../table/store";
import { callbackOf } from "./evaluate";
import { shortCut, type Decision } from "./decide";
import { queryFacts, type CallbackFacts } from "./facts";
import { routeCallback } from "./route-callback";

/** Where a replayed login goes: Auth0, the new provider, or the router's own page (Auth0 retired). */
export type Destination = "auth0" | "new" | "page";

export interface ConnectionRehearsal {
  connection: string;
  /** Recorded logins replayed. */
  logins: number;
  /** Of them, how many the proposal sends elsewhere than the table as it is (another destination or target). */
  changed: number;
  /** Where the changed ones would go, by count. */
  to: Partial<Record<Destination, number>>;
  /** How many the proposal sends where they cannot be served (see strandedWhy). */
  stranded: number;
  /** The same under the table as it is, for comparison. */
  strandedNow: number;
  /** Where every replayed login goes, now and under the proposal. */
  now: Partial<Record<Destination, number>>;
  proposed: Partial<Record<Destination, number>>;
  /** Why logins would be stranded, one clause per cause with its count. */
  strandedWhy: string[];
}

type RehearseConfig = Pick<Config, "auth0Tenant" | "bodyScanLimitBytes" | "affinity" | "auth0Retired">;

/** A valid connection name that stands for names the counters did not keep (no table is expected to have it). */
const STRANGER = "rehearsal-name-not-in-any-table";

/** The callback a recorded login is replayed as (shape `other`: a GET naming its connection, or a post naming nothing). */
async function callbackFor(
  row: EvidenceRow,
  store: RouteStore,
  tenant: string | undefined,
): Promise<{ method: string; facts: CallbackFacts }> {
  const named = row.connection !== UNIDENTIFIED && row.connection !== NOT_IN_TABLE;
  const connection = named ? row.connection : STRANGER;
  if (row.shape === "other") {
    // A GET that named its connection, or a post nothing could be read from.
    return row.identifiedBy === "query"
      ? { method: "GET", facts: queryFacts(`connection=${encodeURIComponent(connection)}`) }
      : { method: "POST", facts: { ...queryFacts(""), bodyScan: "no-sign-in-field" } };
  }
  const current = named ? await store.route(connection) : undefined;
  const match = current?.status === "found" ? current.value.match : undefined;
  return callbackOf(row.shape, { connection, match }, tenant);
}

/** The router's decision for one replayed login (a login Auth0 started carries its handle). */
async function decideReplay(
  callback: { method: string; facts: CallbackFacts },
  startedByAuth0: boolean,
  store: RouteStore,
  config: RehearseConfig,
): Promise<Decision> {
  if (startedByAuth0 && config.affinity !== undefined) {
    const settings = await store.settings();
    if (settings.status === "found" && settings.value.affinity !== "off") {
      const early = shortCut({
        method: callback.method,
        fallback: false,
        settings,
        auth0Transaction: true,
        auth0Retired: config.auth0Retired || store.retiredSeen(),
      });
      if (early !== undefined) return early;
    }
  }
  const routed = await routeCallback(
    { method: callback.method, contentType: null, body: undefined },
    callback.facts,
    store,
    config,
  );
  return routed.decision;
}

/** Why a decision strands a login of this row, or undefined when it can be served. */
function strandedBy(row: EvidenceRow, decision: Decision): string | undefined {
  if (decision.destination === "page") return "Auth0 retired and no new provider to send them to";
  if (row.started === "auth0" && decision.destination === "new") {
    return "started by Auth0 but sent to the new provider (affinity off)";
  }
  if (row.started === "elsewhere" && decision.destination === "auth0" && row.shape.startsWith("oidc-")) {
    return "OIDC logins started at the new provider sent to Auth0 (which did not start them)";
  }
  return undefined;
}

function where(decision: Decision): string {
  return decision.destination === "new" ? `new ${decision.target.href}` : decision.destination;
}

/**
 * Replays `rows` (evidence summed over the window) under `stores.now` and `stores.proposed`;
 * one answer per connection (`(unidentified)` and `(not in table)` included), most changed first.
 */
export async function rehearseEvidence(
  rows: readonly EvidenceRow[],
  stores: { now: RouteStore; proposed: RouteStore },
  config: RehearseConfig,
): Promise<ConnectionRehearsal[]> {
  const out = new Map<string, ConnectionRehearsal & { why: Map<string, number> }>();
  for (const row of rows) {
    if (row.logins <= 0) continue;
    let c = out.get(row.connection);
    if (c === undefined) {
      c = {
        connection: row.connection,
        logins: 0,
        changed: 0,
        to: {},
        stranded: 0,
        strandedNow: 0,
        now: {},
        proposed: {},
        strandedWhy: [],
        why: new Map(),
      };
      out.set(row.connection, c);
    }
    const callback = await callbackFor(row, stores.now, config.auth0Tenant);
    const byAuth0 = row.started === "auth0";
    const [now, proposed] = await Promise.all([
      decideReplay(callback, byAuth0, stores.now, config),
      decideReplay(callback, byAuth0, stores.proposed, config),
    ]);
    const n = row.logins;
    c.logins += n;
    c.now[now.destination] = (c.now[now.destination] ?? 0) + n;
    c.proposed[proposed.destination] = (c.proposed[proposed.destination] ?? 0) + n;
    if (where(now) !== where(proposed)) {
      c.changed += n;
      c.to[proposed.destination] = (c.to[proposed.destination] ?? 0) + n;
    }
    if (strandedBy(row, now) !== undefined) c.strandedNow += n;
    const why = strandedBy(row, proposed);
    if (why !== undefined) {
      c.stranded += n;
      c.why.set(why, (c.why.get(why) ?? 0) + n);
    }
  }
  return [...out.values()]
    .map(({ why, ...c }) => ({ ...c, strandedWhy: [...why].map(([text, n]) => `${n} ${text}`) }))
    .sort((a, b) => b.changed - a.changed || b.stranded - a.stranded || a.connection.localeCompare(b.connection));
}
