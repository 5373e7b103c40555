/**
 * What the admin Worker asks the router, over its ROUTER service binding (RPC to the
 * `Router` entrypoint src/index.ts exports; Cloudflare "Service bindings — RPC
 * (WorkerEntrypoint)"): the router's configuration, the decision /evaluate reports, the
 * routability of routes, and the facts /status reports. Each answer is computed here, by
 * the router's deployed code with the router's own variables, so the management API can
 * never describe a different router from the one that routes callbacks, and the variables
 * are written once, in wrangler.toml (docs/deploy.md, "One source of truth").
 *
 * Every answer is plain data (structured-clonable: no URL, no class instances); a problem
 * is an answer too (`ok: false` with the variables to fix), never a thrown error, since an
 * error crossing RPC loses its shape.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { affinityState, type AffinityState } from "./affinity/state";
import {
  evaluateConnection,
  evaluateOrganization,
  type Evaluation,
  type OrganizationEvaluation,
} from "./callback/evaluate";
import {
  adminConfigFor,
  adminPlaceOf,
  configFor,
  statsConfigFor,
  type Config,
  type ConfigProblem,
  type Environment,
} from "./config";
import type { Env } from "./env";
import { coverageOf, routabilityOf, type CoverageReport, type Routability } from "./table/routability";
import {
  isRetired,
  type Auth0State,
  type KillSwitch,
  type Mode,
  type RouteInput,
  type RouteState,
} from "./table/schema";
import { previewConnection, previewUnidentified, type ConnectionPreview, type LoginCounts } from "./callback/preview";
import { overlayKv, type KvOverlay } from "./table/overlay-kv";
import { rehearseEvidence, type ConnectionRehearsal } from "./callback/rehearse";
import type { EvidenceRow } from "./stats/evidence";
import { UNIDENTIFIED } from "./stats/outcome";
import { IsolateCache, RouteStore } from "./table/store";
import { writerOf } from "./writer/handle";

/** The router's configuration as it parsed it; secrets only as "set or not", never their values. */
export interface RouterConfiguration {
  environment: Environment;
  /** false: `problems` names each variable to fix (the router then forwards everything to Auth0, or answers 502). */
  ok: boolean;
  problems: ConfigProblem[];
  /** AUTH0_ORIGIN as parsed (an origin), null when it did not parse. */
  auth0Origin: string | null;
  /** "custom-domain" when AUTH0_CNAME_API_KEY is set (Auth0's reverse-proxy setup), else "tenant-domain". */
  auth0Mode: "custom-domain" | "tenant-domain";
  auth0Tenant: string | null;
  /** ALLOWED_TARGET_HOSTS, lower-case, sorted. */
  allowedTargetHosts: string[];
  /** Whether AFFINITY_SECRET is set (transaction affinity can be on). */
  affinityConfigured: boolean;
  /** STATS_SHARDS: how many TrafficCounter shards the router writes (the admin's /stats reads them all). */
  statsShards: number;
  /**
   * How long after a change the counters' flags wait before judging a route (ms): the
   * router's ROUTE_CACHE_SECONDS plus KV's propagation (src/config/stats.ts).
   */
  statsPropagationGraceMs: number;
  /** Where the router hands the management API: ADMIN_PREFIX and ADMIN_HOSTNAME as the router reads them. */
  admin: { prefix: string; hostname: string | null };
  /** AUTH0_RETIRED (true also when it is set but not "true"/"false": docs/retirement.md). */
  auth0Retired: boolean;
}

/** GET /evaluate's question: exactly one of the two. */
export type EvaluateQuestion = { connection: string } | { organization: string };

export type EvaluateAnswer =
  { ok: true; evaluation: Evaluation | OrganizationEvaluation } | { ok: false; problems: ConfigProblem[] };

/** The route fields routability reads. */
export type RoutabilityQuestion = Pick<RouteInput, "connection" | "protocol" | "match">;

/** /status: the table's counts, the writer's pending KV writes, transaction affinity's state, mode and kill switch. */
export interface RouterStatus {
  routes: Record<RouteState, number>;
  settingsVersion: number;
  kvPending: number;
  affinity: AffinityState;
  /** retired: nothing is forwarded to Auth0 (the settings' auth0: retired, or AUTH0_RETIRED). */
  auth0: Auth0State;
  mode: Mode;
  killSwitch: KillSwitch;
}

/**
 * A dry run's question (src/admin/preview.ts): the connections to decide, the KV values the
 * writer's rehearsal of the change would write, and each connection's logins of the last 24 h.
 * A connection UNIDENTIFIED ("(unidentified)", no valid name) stands for the callbacks no
 * connection is identified for (callback/preview.ts previewUnidentified).
 */
export interface PreviewQuestion {
  connections: string[];
  kv: KvOverlay;
  counts: Record<string, LoginCounts>;
}

export type PreviewAnswer = { ok: true; connections: ConnectionPreview[] } | { ok: false; problems: ConfigProblem[] };

/** A rehearsal's question (src/admin/rehearse.ts): the proposal's KV values and the evidence to replay. */
export interface RehearseQuestion {
  kv: KvOverlay;
  evidence: EvidenceRow[];
}

export type RehearseAnswer =
  { ok: true; connections: ConnectionRehearsal[] } | { ok: false; problems: ConfigProblem[] };

/** The router's RPC interface, as the admin Worker's ROUTER binding exposes it. */
export interface RouterApi {
  configuration(): Promise<RouterConfiguration>;
  evaluate(question: EvaluateQuestion): Promise<EvaluateAnswer>;
  /** One answer per route, in order. */
  routability(routes: RoutabilityQuestion[]): Promise<Routability[]>;
  /** Routability across the whole table (GET /coverage). */
  coverage(): Promise<CoverageReport>;
  status(): Promise<RouterStatus>;
  /** Each connection decided before and after a rehearsed change (callback/preview.ts). */
  preview(question: PreviewQuestion): Promise<PreviewAnswer>;
  /** Recorded logins replayed under the table now and under a proposal (callback/rehearse.ts). */
  rehearse(question: RehearseQuestion): Promise<RehearseAnswer>;
}

/**
 * The router's answers for `env` (the router's own bindings). The `Router` entrypoint
 * serves these over RPC; the workerd tests, which run both Workers in one isolate, call
 * them in-process (test/support/in-process-worker.ts).
 */
export function routerAnswers(env: Env): RouterApi {
  return {
    configuration: () => Promise.resolve(configurationOf(env)),
    async evaluate(question) {
      const result = configFor(env);
      if (!result.ok) return { ok: false, problems: result.problems };
      const store = new RouteStore(env.ROUTES, result.config);
      const evaluation =
        "connection" in question
          ? await evaluateConnection(question.connection, store, result.config)
          : await evaluateOrganization(question.organization, store, result.config);
      return { ok: true, evaluation };
    },
    async preview(question) {
      const result = configFor(env);
      if (!result.ok) return { ok: false, problems: result.problems };
      const [before, after] = storesWith(env, result.config, question.kv);
      const stores = { before, after };
      const connections: ConnectionPreview[] = [];
      for (const connection of question.connections) {
        const counts = question.counts[connection];
        connections.push(
          connection === UNIDENTIFIED
            ? await previewUnidentified(stores, result.config, counts)
            : await previewConnection(connection, stores, result.config, counts),
        );
      }
      return { ok: true, connections };
    },
    async rehearse(question) {
      const result = configFor(env);
      if (!result.ok) return { ok: false, problems: result.problems };
      const [now, proposed] = storesWith(env, result.config, question.kv);
      const stores = { now, proposed };
      return { ok: true, connections: await rehearseEvidence(question.evidence, stores, result.config) };
    },
    routability: (routes) => Promise.resolve(routes.map((route) => routabilityOf(route))),
    coverage: async () => coverageOf((await writerOf(env).exportTable()).routes),
    async status() {
      const writer = writerOf(env);
      const [status, settings] = await Promise.all([writer.status(), writer.getSettings()]);
      const configuration = configurationOf(env);
      const { mode, killSwitch } = settings.settings;
      return {
        ...status,
        affinity: affinityState(configuration.affinityConfigured, settings.settings.affinity),
        auth0: configuration.auth0Retired || isRetired(settings.settings) ? "retired" : "active",
        mode,
        killSwitch,
      };
    },
  };
}

/**
 * The replica as it is and with `kv` laid over it, each with a fresh cache: a preview or a
 * rehearsal reads the replica as it is, and never leaves an overlaid value behind.
 */
function storesWith(env: Env, config: Config, kv: KvOverlay): [RouteStore, RouteStore] {
  return [
    new RouteStore(env.ROUTES, config, new IsolateCache()),
    new RouteStore(overlayKv(env.ROUTES, kv), config, new IsolateCache()),
  ];
}

function configurationOf(env: Env): RouterConfiguration {
  const result = configFor(env);
  const place = adminPlaceOf(adminConfigFor(env));
  const auth0Origin = result.ok ? result.config.auth0Origin : result.forward?.auth0Origin;
  const hosts = result.ok ? result.config.allowedTargetHosts : result.allowedTargetHosts;
  return {
    environment: result.ok ? result.config.environment : result.environment,
    ok: result.ok,
    problems: result.ok ? [] : result.problems,
    auth0Origin: auth0Origin?.origin ?? null,
    auth0Mode: (env.AUTH0_CNAME_API_KEY ?? "").trim() === "" ? "tenant-domain" : "custom-domain",
    auth0Tenant: result.ok ? (result.config.auth0Tenant ?? null) : null,
    allowedTargetHosts: [...hosts].sort(),
    affinityConfigured: result.ok && result.config.affinity !== undefined,
    statsShards: statsConfigFor(env).shards,
    statsPropagationGraceMs: statsConfigFor(env).propagationGraceMs,
    admin: { prefix: place.prefix, hostname: place.hostname ?? null },
    auth0Retired: result.ok ? result.config.auth0Retired : result.auth0Retired,
  };
}

/**
 * The router's RPC entrypoint (wrangler.admin.toml binds it as ROUTER with
 * `entrypoint = "Router"`). Only the admin Worker, through its binding, can call it: a
 * named entrypoint has no public URL.
 */
export class Router extends WorkerEntrypoint<Env> implements RouterApi {
  configuration(): Promise<RouterConfiguration> {
    return routerAnswers(this.env).configuration();
  }
  evaluate(question: EvaluateQuestion): Promise<EvaluateAnswer> {
    return routerAnswers(this.env).evaluate(question);
  }
  routability(routes: RoutabilityQuestion[]): Promise<Routability[]> {
    return routerAnswers(this.env).routability(routes);
  }
  coverage(): Promise<CoverageReport> {
    return routerAnswers(this.env).coverage();
  }
  status(): Promise<RouterStatus> {
    return routerAnswers(this.env).status();
  }
  preview(question: PreviewQuestion): Promise<PreviewAnswer> {
    return routerAnswers(this.env).preview(question);
  }
  rehearse(question: RehearseQuestion): Promise<RehearseAnswer> {
    return routerAnswers(this.env).rehearse(question);
  }
}
