/**
 * A change's preview (dry runs of PATCH /routes/{c}, PUT /settings, PUT /rollout): for each
 * connection it touches, the router's own decision (evaluate.ts → route-callback.ts →
 * decide.ts) for each callback shape of that connection before and after, the routability
 * before and after, and how many of its logins of the last 24 h would have gone elsewhere.
 *
 * "Before" reads the KV replica as the router reads it now; "after" reads the same replica
 * with the change's own KV values laid over it (table/overlay-kv.ts), values the writer
 * computed by rehearsing the change and rolling it back. Nothing is written.
 */
import type { CallbackShape, Routability } from "../table/routability";
import type { RouteStore } from "../table/store";
import { UNIDENTIFIED } from "../stats/outcome";
import { callbackOf, evaluateConnection, type EvalConfig, type Evaluation } from "./evaluate";
import { routeCallback } from "./route-callback";

/** A connection's logins of the last 24 h as the counters keep them (src/stats/outcome.ts). */
export interface LoginCounts {
  logins: number;
  auth0: number;
  new: number;
  /** Of auth0: logins Auth0 started, sent back by transaction affinity (they stay at Auth0). */
  affinity: number;
}

export interface Side {
  /** "page": Auth0 retired, the router answers itself (docs/retirement.md). */
  destination: "new" | "auth0" | "page";
  reason: string;
}

export interface ShapePreview {
  shape: CallbackShape;
  usual: boolean;
  /** Absent when the route (or this shape) did not exist on that side. */
  before?: Side;
  after?: Side;
  changes: boolean;
}

export interface ConnectionPreview {
  connection: string;
  /** The connection's answer (the worst of its usual shapes), as GET /evaluate gives it. */
  before: Side;
  after: Side;
  callbacks: ShapePreview[];
  routability: { before: Routability | null; after: Routability | null };
  last24h: LoginCounts & {
    /** Logins of the last 24 h that the change would have sent to the other destination. */
    wouldMove: number;
    /** How wouldMove was counted from the counters (they do not tell callback shapes apart). */
    basis: string;
  };
}

const NO_LOGINS: LoginCounts = { logins: 0, auth0: 0, new: 0, affinity: 0 };

/**
 * The preview of `connection` between two stores. `counts` are its last 24 h of logins
 * (zeros when none). Throws only what the stores throw.
 */
export async function previewConnection(
  connection: string,
  stores: { before: RouteStore; after: RouteStore },
  config: EvalConfig,
  counts: LoginCounts | undefined,
): Promise<ConnectionPreview> {
  const [before, after] = await Promise.all([
    evaluateConnection(connection, stores.before, config),
    evaluateConnection(connection, stores.after, config),
  ]);
  const callbacks = shapesOf(before, after);
  const c = counts ?? NO_LOGINS;
  return {
    connection,
    before: { destination: before.destination, reason: before.reason },
    after: { destination: after.destination, reason: after.reason },
    callbacks,
    routability: { before: before.routability ?? null, after: after.routability ?? null },
    last24h: { ...c, ...moved(callbacks, c) },
  };
}

/**
 * Callbacks no connection can be identified for, one per shape: an OIDC GET without `iss`,
 * an encrypted SAML post whose Issuer the table does not hold, an OIDC form_post whose
 * issuer it does not hold (evaluate.ts callbackOf with no `match`). The router decides
 * them all alike (decide.ts: reason `unidentified`, by the unknown policy).
 */
const UNIDENTIFIED_SHAPES: readonly CallbackShape[] = [
  "oidc-code-without-iss",
  "saml-encrypted-without-connection",
  "oidc-form-post",
];

/** A valid connection name no table is expected to have: the callbacks above name no connection. */
const NOBODY = "preview-name-not-in-any-table";

/**
 * The preview of the counters' UNIDENTIFIED bucket (logins no connection could be identified
 * for) between two stores: each shape of UNIDENTIFIED_SHAPES decided by the router's own
 * code (route-callback.ts → decide.ts) before and after, and `counts` (the bucket's logins
 * of the last 24 h; zeros when none) that would have gone elsewhere. `connection` is
 * UNIDENTIFIED; routability is null on both sides (there is no route). Throws only what
 * the stores throw.
 */
export async function previewUnidentified(
  stores: { before: RouteStore; after: RouteStore },
  config: EvalConfig,
  counts: LoginCounts | undefined,
): Promise<ConnectionPreview> {
  const callbacks: ShapePreview[] = [];
  for (const shape of UNIDENTIFIED_SHAPES) {
    const callback = callbackOf(shape, { connection: NOBODY }, config.auth0Tenant);
    const [before, after] = await Promise.all(
      [stores.before, stores.after].map(async (store) => {
        const { decision } = await routeCallback(
          { method: callback.method, contentType: null, body: undefined },
          callback.facts,
          store,
          config,
        );
        return { destination: decision.destination, reason: decision.reason };
      }),
    );
    if (before === undefined || after === undefined) throw new Error("unreachable: two stores, two decisions");
    const changes = before.destination !== after.destination || before.reason !== after.reason;
    callbacks.push({ shape, usual: true, before, after, changes });
  }
  const worst = (side: "before" | "after"): Side => {
    const sides = callbacks.map((c) => c[side]).filter((x): x is Side => x !== undefined);
    const pick =
      sides.find((x) => x.destination === "page") ?? sides.find((x) => x.destination === "auth0") ?? sides[0];
    if (pick === undefined) throw new Error("unreachable: no unidentified shape decided");
    return pick;
  };
  const c = counts ?? NO_LOGINS;
  return {
    connection: UNIDENTIFIED,
    before: worst("before"),
    after: worst("after"),
    callbacks,
    routability: { before: null, after: null },
    last24h: { ...c, ...moved(callbacks, c) },
  };
}

function shapesOf(before: Evaluation, after: Evaluation): ShapePreview[] {
  const out = new Map<CallbackShape, ShapePreview>();
  for (const [side, evaluation] of [
    ["before", before],
    ["after", after],
  ] as const) {
    // Without a route, a callback is known by the connection it names (`?connection=`): the
    // connection's own answer is that shape's, decided by the unknown policy (or affinity).
    const named = [{ shape: "saml-acs" as const, usual: true, ...evaluation }];
    for (const cb of evaluation.callbacks ?? named) {
      const entry = out.get(cb.shape) ?? { shape: cb.shape, usual: cb.usual, changes: false };
      entry[side] = { destination: cb.destination, reason: cb.reason };
      entry.usual = side === "after" ? cb.usual : entry.usual;
      out.set(cb.shape, entry);
    }
  }
  for (const entry of out.values()) {
    entry.changes =
      entry.before?.destination !== entry.after?.destination || entry.before?.reason !== entry.after?.reason;
  }
  return [...out.values()];
}

/**
 * Logins that would have gone elsewhere, from the shapes whose destination changes (the
 * counters keep where a connection's logins went, not their shape): a shape new → Auth0
 * moves the logins sent to the new provider; Auth0 → new moves those that reached Auth0 but
 * the ones Auth0 started (affinity keeps them there). When another shape stays where those
 * logins went, the count is an upper bound, and `basis` says so.
 */
function moved(callbacks: ShapePreview[], c: LoginCounts): { wouldMove: number; basis: string } {
  const isNew = (side: Side | undefined) => side?.destination === "new";
  const toAuth0 = callbacks.filter((s) => isNew(s.before) && !isNew(s.after));
  const toNew = callbacks.filter((s) => !isNew(s.before) && isNew(s.after));
  if (toAuth0.length === 0 && toNew.length === 0) {
    return { wouldMove: 0, basis: "no callback shape changes destination" };
  }
  let wouldMove = 0;
  const basis: string[] = [];
  if (toAuth0.length > 0) {
    wouldMove += c.new;
    const stay = callbacks.some((s) => isNew(s.before) && isNew(s.after));
    basis.push(`logins sent to the new provider${stay ? " (an upper bound: some shapes still go there)" : ""}`);
  }
  if (toNew.length > 0) {
    wouldMove += Math.max(0, c.auth0 - c.affinity);
    const stay = callbacks.some((s) => !isNew(s.before) && !isNew(s.after));
    basis.push(
      `logins that reached Auth0, less those Auth0 started${stay ? " (an upper bound: some shapes still go to Auth0)" : ""}`,
    );
  }
  return { wouldMove, basis: basis.join("; ") };
}
