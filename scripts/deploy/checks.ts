/**
 * The checks `npm run deploy` runs before it deploys anything (and `npm test` runs on the
 * example configs): the router's config (wrangler.toml) and the admin Worker's
 * (wrangler.admin.toml) must describe one deployment, and every secret a Worker needs must
 * be on it. Pure functions over what wrangler reads from the two files (unstable_readConfig)
 * and the names `wrangler secret list` prints; no I/O, so they run on fixtures.
 *
 * Each failure is a Problem naming the value and the places it was found in (file and
 * section), e.g. `ENVIRONMENT differs: wrangler.toml [env.production.vars] = "production",
 * wrangler.admin.toml [env.production.vars] = "staging"`. A Note is said but does not stop a
 * deploy (`blocksDeploy` notes stop a real deploy, not a dry run: the example values).
 */
import { READERS, type EnvName, type SecretName, SECRETS, workersOf } from "./variables";

/** What these checks read of one Worker's config for one environment (wrangler's own reading). */
export interface WorkerConfigView {
  /** The file, e.g. "wrangler.toml". */
  file: string;
  name: string;
  vars: Record<string, unknown>;
  kv_namespaces: Array<{ binding: string; id?: string | undefined }>;
  durable_objects: { bindings: Array<{ name: string; class_name: string; script_name?: string | undefined }> };
  migrations: Array<{ new_sqlite_classes?: string[] | undefined; new_classes?: string[] | undefined }>;
  services?: Array<{ binding: string; service: string; entrypoint?: string | undefined }> | undefined;
  routes?:
    | Array<string | { pattern: string; zone_name?: string | undefined; custom_domain?: boolean | undefined }>
    | undefined;
  triggers: { crons?: string[] | undefined };
}

export interface Problem {
  /** The value at fault: a variable, a secret, "KV namespace ROUTES", "route", … */
  value: string;
  /** One sentence naming both places where two disagree. */
  message: string;
}

export interface Note {
  value: string;
  message: string;
  /** True: a real deploy stops on it (an example value still in place); a dry run goes on. */
  blocksDeploy: boolean;
}

export interface CheckResult {
  problems: Problem[];
  notes: Note[];
}

/** Durable Object classes the admin Worker exports itself (src/admin/worker.ts), with their binding. */
export const ADMIN_CLASSES = new Map([["Autopilot", "AUTOPILOT"]]);

/** The router's script name wrangler deploys for `env` (wrangler names an environment's Worker `<name>-<env>`). */
export const ROUTER_BASE = "callback-router";
export const ADMIN_BASE = "callback-router-admin";
export function scriptName(base: string, env: string | undefined): string {
  return env === undefined ? base : `${base}-${env}`;
}

/** "[env.production.vars]" or "[vars]". */
function section(env: string | undefined, part: string): string {
  return env === undefined ? `[${part}]` : `[env.${env}.${part}]`;
}

const show = (v: unknown): string => (v === undefined ? "(not set)" : JSON.stringify(v));

/** The values the example configs ship with: a real deploy must not go out with them. */
const EXAMPLE_KV_IDS = /^0{31}[0-9]$/;
const EXAMPLE_HOST = /(^|\.)example\.(com|org|net)$/;

/** The configs agree: vars, KV, Durable Objects, the ROUTER binding, routes, cron. */
export function checkConfigs(router: WorkerConfigView, admin: WorkerConfigView, env: string | undefined): CheckResult {
  const problems: Problem[] = [];
  const notes: Note[] = [];
  const r = `${router.file} ${section(env, "vars")}`;
  const a = `${admin.file} ${section(env, "vars")}`;

  // Script names: the admin's bindings name the router's script.
  const routerName = scriptName(ROUTER_BASE, env);
  const adminName = scriptName(ADMIN_BASE, env);
  if (router.name !== routerName)
    problems.push({
      value: "name",
      message: `${router.file}: the router's script is "${router.name}", expected "${routerName}"`,
    });
  if (admin.name !== adminName)
    problems.push({
      value: "name",
      message: `${admin.file}: the admin's script is "${admin.name}", expected "${adminName}"`,
    });

  // Variables: each where its reader is; one read by both, equal in both.
  for (const [config, place, self] of [
    [router, r, "router"],
    [admin, a, "admin"],
  ] as const) {
    for (const name of Object.keys(config.vars)) {
      if ((SECRETS as readonly string[]).includes(name)) {
        problems.push({
          value: name,
          message: `${name} is a secret but is written in ${place}: remove it there and use npm run secrets -- put ${name}`,
        });
        continue;
      }
      const reader = READERS[name as EnvName] as string | undefined;
      if (reader === undefined) {
        problems.push({ value: name, message: `${name} in ${place} is read by neither Worker (src/env.ts)` });
      } else if (reader !== "both" && reader !== self) {
        const home = reader === "router" ? r : a;
        problems.push({
          value: name,
          message:
            reader === "router"
              ? `${name} is in ${place}, but only the router reads it (the admin asks the router over RPC): write it once, in ${home}`
              : `${name} is in ${place}, but only the admin Worker reads it: write it in ${home}`,
        });
      }
    }
  }
  for (const [name, reader] of Object.entries(READERS)) {
    if (reader !== "both") continue;
    const rv = router.vars[name];
    const av = admin.vars[name];
    if (rv === undefined && av === undefined) continue;
    if (JSON.stringify(rv) !== JSON.stringify(av)) {
      problems.push({ value: name, message: `${name} differs: ${r} = ${show(rv)}, ${a} = ${show(av)}` });
    }
  }
  if (env !== undefined && router.vars["ENVIRONMENT"] !== env) {
    problems.push({
      value: "ENVIRONMENT",
      message: `ENVIRONMENT in ${r} is ${show(router.vars["ENVIRONMENT"])}, expected "${env}"`,
    });
  }

  // KV: the router's alone (the admin asks the router); if the admin still binds ROUTES, the same id.
  const routerKv = router.kv_namespaces.find((k) => k.binding === "ROUTES");
  const kvPlace = (c: WorkerConfigView) => `${c.file} ${section(env, "kv_namespaces")}`;
  if (routerKv?.id === undefined) {
    problems.push({ value: "KV namespace ROUTES", message: `${kvPlace(router)} has no ROUTES namespace id` });
  } else if (env !== undefined && EXAMPLE_KV_IDS.test(routerKv.id)) {
    notes.push({
      value: "KV namespace ROUTES",
      message: `${kvPlace(router)} id ${routerKv.id} is the example's: replace it with the id \`npx wrangler kv namespace create ROUTES --env ${env}\` prints`,
      blocksDeploy: true,
    });
  }
  const adminKv = admin.kv_namespaces.find((k) => k.binding === "ROUTES");
  if (adminKv !== undefined && adminKv.id !== routerKv?.id) {
    problems.push({
      value: "KV namespace ROUTES",
      message: `the KV namespace id differs: ${kvPlace(router)} = ${show(routerKv?.id)}, ${kvPlace(admin)} = ${show(adminKv.id)} (the admin Worker needs no KV binding: remove it)`,
    });
  }

  // Durable Objects: the admin binds the router's classes, by the router's script name.
  const migrated = new Set(
    router.migrations.flatMap((m) => [...(m.new_sqlite_classes ?? []), ...(m.new_classes ?? [])]),
  );
  const routerDo = new Map(router.durable_objects.bindings.map((b) => [b.name, b]));
  const adminMigrated = new Set(
    admin.migrations.flatMap((m) => [...(m.new_sqlite_classes ?? []), ...(m.new_classes ?? [])]),
  );
  for (const b of admin.durable_objects.bindings) {
    // The admin Worker's own classes (the autopilot) are bound without script_name and migrated in its own config.
    if (ADMIN_CLASSES.has(b.class_name)) {
      const place = `${admin.file} ${section(env, "durable_objects.bindings")} ${b.name}`;
      if (b.script_name !== undefined && b.script_name !== admin.name) {
        problems.push({
          value: `Durable Object ${b.name}`,
          message: `${place} names script ${show(b.script_name)}; ${b.class_name} is the admin Worker's own class (no script_name)`,
        });
      }
      if (!adminMigrated.has(b.class_name)) {
        problems.push({
          value: `Durable Object ${b.name}`,
          message: `${b.class_name} (the admin Worker's own class) has no new_sqlite_classes migration in ${admin.file}`,
        });
      }
      continue;
    }
    const mine = routerDo.get(b.name);
    const place = `${admin.file} ${section(env, "durable_objects.bindings")} ${b.name}`;
    if (mine === undefined || mine.class_name !== b.class_name) {
      problems.push({
        value: `Durable Object ${b.name}`,
        message: `${place} is class ${b.class_name}; ${router.file} binds ${b.name} to ${show(mine?.class_name)}`,
      });
    } else if (b.script_name !== router.name) {
      problems.push({
        value: `Durable Object ${b.name}`,
        message: `${place} names script ${show(b.script_name)}; the router's script (${router.file}) is "${router.name}"`,
      });
    }
    if (!migrated.has(b.class_name)) {
      problems.push({
        value: `Durable Object ${b.name}`,
        message: `${b.class_name} (bound in ${admin.file}) has no migration in ${router.file}`,
      });
    }
  }
  for (const [className, binding] of ADMIN_CLASSES) {
    if (!admin.durable_objects.bindings.some((b) => b.class_name === className)) {
      problems.push({
        value: `Durable Object ${binding}`,
        message: `${admin.file} ${section(env, "durable_objects.bindings")} does not bind ${binding} to ${className} (the autopilot needs it)`,
      });
    }
  }
  for (const name of routerDo.keys()) {
    if (!admin.durable_objects.bindings.some((b) => b.name === name)) {
      problems.push({
        value: `Durable Object ${name}`,
        message: `${router.file} exports ${name}; ${admin.file} ${section(env, "durable_objects.bindings")} does not bind it`,
      });
    }
  }

  // Service bindings: admin -> router (RPC) everywhere; router -> admin only in local development.
  const rpc = (admin.services ?? []).find((s) => s.binding === "ROUTER");
  const servicesPlace = `${admin.file} ${section(env, "services")}`;
  if (rpc === undefined) {
    problems.push({ value: "ROUTER", message: `${servicesPlace} has no ROUTER binding to "${router.name}"` });
  } else if (rpc.service !== router.name || rpc.entrypoint !== "Router") {
    problems.push({
      value: "ROUTER",
      message: `${servicesPlace} ROUTER binds ${show(rpc.service)} entrypoint ${show(rpc.entrypoint)}; the router (${router.file}) is "${router.name}", entrypoint "Router"`,
    });
  }
  const back = (router.services ?? []).filter((s) => s.service === admin.name || s.binding === "ADMIN");
  if (env !== undefined && back.length > 0) {
    problems.push({
      value: "ADMIN",
      message: `${router.file} ${section(env, "services")} binds the admin Worker: a deployed router must not (deploy order: the router first, and ${admin.file} binds it)`,
    });
  }

  // Cron: the provider sync runs in the admin Worker only.
  if ((router.triggers.crons ?? []).length > 0) {
    problems.push({
      value: "triggers",
      message: `${router.file} has cron triggers; the sync's cron belongs in ${admin.file}`,
    });
  }

  if (env !== undefined) problems.push(...checkRoutes(router, admin, env, notes));
  return { problems, notes };
}

function patternOf(route: string | { pattern: string }): string {
  return typeof route === "string" ? route : route.pattern;
}

function zoneOf(route: string | { pattern: string; zone_name?: string | undefined }): string | undefined {
  return typeof route === "string" ? undefined : route.zone_name;
}

/**
 * Routes: the router on `<host>/*` for each sign-in host; the admin on `<host>/__router/*`
 * (or ADMIN_HOSTNAME), the same zone, a path that covers ADMIN_PREFIX.
 */
function checkRoutes(router: WorkerConfigView, admin: WorkerConfigView, env: string, notes: Note[]): Problem[] {
  const problems: Problem[] = [];
  const rPlace = `${router.file} [env.${env}] routes`;
  const aPlace = `${admin.file} [env.${env}] routes`;
  const routerRoutes = router.routes ?? [];
  const adminRoutes = admin.routes ?? [];
  if (routerRoutes.length === 0)
    problems.push({ value: "route", message: `${rPlace} is empty: the router would serve nothing` });
  if (adminRoutes.length === 0)
    problems.push({ value: "route", message: `${aPlace} is empty: the management API would be unreachable` });
  const hosts: string[] = [];
  for (const route of routerRoutes) {
    const pattern = patternOf(route);
    const slash = pattern.indexOf("/");
    const host = slash < 0 ? pattern : pattern.slice(0, slash);
    if (pattern !== `${host}/*`) {
      problems.push({
        value: "route",
        message: `${rPlace} "${pattern}" must be "${host}/*": every path of the sign-in domain goes through the router`,
      });
    }
    hosts.push(host);
    const origin = router.vars["AUTH0_ORIGIN"];
    if (typeof origin === "string" && URL.canParse(origin) && new URL(origin).host === host) {
      problems.push({
        value: "AUTH0_ORIGIN",
        message: `AUTH0_ORIGIN (${router.file} [env.${env}.vars]) is ${origin}, the router's own host (${rPlace} "${pattern}"): set it to the custom domain's Origin Domain Name or the tenant domain`,
      });
    }
    if (EXAMPLE_HOST.test(host)) {
      notes.push({
        value: "route",
        message: `${rPlace} "${pattern}" is the example's: use your Auth0 custom domain`,
        blocksDeploy: true,
      });
    }
  }
  const adminHostname = typeof admin.vars["ADMIN_HOSTNAME"] === "string" ? admin.vars["ADMIN_HOSTNAME"] : "";
  const expectedHosts = adminHostname !== "" ? [adminHostname.toLowerCase()] : hosts;
  const prefix = typeof admin.vars["ADMIN_PREFIX"] === "string" ? admin.vars["ADMIN_PREFIX"] : "/__router/v1";
  const adminHosts: string[] = [];
  for (const route of adminRoutes) {
    const pattern = patternOf(route);
    const slash = pattern.indexOf("/");
    const host = slash < 0 ? pattern : pattern.slice(0, slash);
    const routePath = slash < 0 ? "" : pattern.slice(slash);
    adminHosts.push(host);
    if (!expectedHosts.includes(host)) {
      problems.push({
        value: "route",
        message:
          adminHostname !== ""
            ? `${aPlace} "${pattern}" is on host ${host}, but ADMIN_HOSTNAME (${admin.file} [env.${env}.vars]) is ${adminHostname}`
            : `${aPlace} "${pattern}" is on host ${host}, but the router (${rPlace}) serves ${hosts.join(", ") || "no host"}`,
      });
    }
    if (!routePath.endsWith("/*") || !`${prefix}/`.startsWith(routePath.slice(0, -1))) {
      problems.push({
        value: "route",
        message: `${aPlace} "${pattern}" does not cover ADMIN_PREFIX ${prefix} (use "${host}/__router/*")`,
      });
    }
    const zone = zoneOf(route);
    const routerZone = zoneOf(routerRoutes[0] ?? "");
    if (adminHostname === "" && zone !== routerZone) {
      problems.push({
        value: "route zone_name",
        message: `the zone differs: ${rPlace} zone_name = ${show(routerZone)}, ${aPlace} zone_name = ${show(zone)}`,
      });
    }
  }
  for (const host of expectedHosts) {
    if (adminRoutes.length > 0 && !adminHosts.includes(host)) {
      problems.push({ value: "route", message: `${aPlace} has no route on ${host} (${rPlace} serves it)` });
    }
  }
  return problems;
}

/** The router's Auth0 mode, by its AUTH0_ORIGIN: an `…edge.tenants.auth0.com` origin needs `cname-api-key`. */
export function needsCnameApiKey(router: WorkerConfigView): boolean {
  const origin = router.vars["AUTH0_ORIGIN"];
  if (typeof origin !== "string") return false;
  try {
    return new URL(origin).hostname.endsWith(".edge.tenants.auth0.com");
  } catch {
    return false;
  }
}

/**
 * Every secret each Worker needs is on it (names from `wrangler secret list`; undefined =
 * not known, the check is skipped by the caller). Required: ADMIN_TOKEN on both (unless the
 * JWT trio is configured: then on neither or both), AFFINITY_SECRET on the router (the
 * go-live checklist turns affinity on before the first cut-over), AUTH0_CNAME_API_KEY on the
 * router when AUTH0_ORIGIN is an Auth0 edge origin (custom domain, self-managed certificates).
 */
export function checkSecrets(
  router: WorkerConfigView,
  admin: WorkerConfigView,
  secrets: { router: readonly string[]; admin: readonly string[] },
): CheckResult {
  const problems: Problem[] = [];
  const notes: Note[] = [];
  const on = { router: new Set(secrets.router), admin: new Set(secrets.admin) };
  const where = (w: "router" | "admin") =>
    w === "router" ? `${router.name} (${router.file})` : `${admin.name} (${admin.file})`;
  const missing = (name: SecretName, w: "router" | "admin", why: string) =>
    problems.push({
      value: name,
      message: `${name} is not set on ${where(w)}${why}: npm run secrets -- put ${name} --env …`,
    });

  const jwt = typeof admin.vars["ADMIN_JWKS_URL"] === "string" && admin.vars["ADMIN_JWKS_URL"] !== "";
  const tokenOn = (["router", "admin"] as const).filter((w) => on[w].has("ADMIN_TOKEN"));
  if (tokenOn.length === 1) {
    const other = tokenOn[0] === "router" ? "admin" : "router";
    missing("ADMIN_TOKEN", other, ` but is on ${where(tokenOn[0] ?? "router")} (the same value goes on both)`);
  } else if (tokenOn.length === 0 && !jwt) {
    missing("ADMIN_TOKEN", "router", " nor on the admin (without it or ADMIN_JWKS_URL the API refuses everyone)");
  }
  if (!on.router.has("AFFINITY_SECRET")) missing("AFFINITY_SECRET", "router", " (transaction affinity stays off)");
  if (needsCnameApiKey(router) && !on.router.has("AUTH0_CNAME_API_KEY")) {
    missing(
      "AUTH0_CNAME_API_KEY",
      "router",
      ` (AUTH0_ORIGIN ${String(router.vars["AUTH0_ORIGIN"])} is a custom-domain origin)`,
    );
  }
  if (!on.admin.has("WORKOS_API_KEY")) {
    notes.push({
      value: "WORKOS_API_KEY",
      message: `WORKOS_API_KEY is not set on ${where("admin")}: the provider sync is off`,
      blocksDeploy: false,
    });
  }
  for (const name of SECRETS) {
    for (const w of ["router", "admin"] as const) {
      if (on[w].has(name) && !workersOf(name).includes(w)) {
        notes.push({
          value: name,
          message: `${name} is on ${where(w)}, which does not read it: remove it with npx wrangler secret delete ${name}${w === "admin" ? " -c wrangler.admin.toml" : ""} --env …`,
          blocksDeploy: false,
        });
      }
    }
  }
  return { problems, notes };
}
