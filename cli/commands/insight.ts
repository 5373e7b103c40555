/** Read-only views: evaluate, audit, status. */
import { UsageError } from "../args";
import type { Json } from "../client";
import type { Command } from "../command";
import { beforeAfter, table } from "../output";
import { LEVEL_MEANING } from "../../src/table/routability";
import { readinessLines } from "./routes";
import { describeKillSwitch, describeMode } from "./settings";

export const evaluate: Command = {
  name: "evaluate",
  summary: "where a login for an organization or a connection's callback goes now",
  positionals: [],
  options: {
    organization: { type: "string", value: "ORG", description: "where should this organization's login start?" },
    connection: { type: "string", value: "CONNECTION", description: "where do this connection's callbacks go?" },
  },
  details: ["Give exactly one of --organization and --connection. The answer is the router's own decision function."],
  examples: ["npm run routes -- evaluate --organization org_acme"],
  async run(ctx) {
    const org = ctx.string("organization");
    const conn = ctx.string("connection");
    if ((org === undefined) === (conn === undefined)) {
      throw new UsageError("evaluate takes exactly one of --organization ORG and --connection CONNECTION");
    }
    const q = new URLSearchParams(org !== undefined ? { organization: org } : { connection: conn ?? "" });
    const { json } = await ctx.api.request("GET", `/evaluate?${q}`);
    ctx.print(json, () => {
      const target = json["target"] === undefined ? "" : ` ${String(json["target"])}`;
      const shadow = json["shadow"] as { destination: string; target: string } | undefined;
      const would = shadow === undefined ? "" : `; shadow mode: routing would send it to ${shadow.target}`;
      const answer = `→ ${String(json["destination"])} (${String(json["reason"])}${would})${target}`;
      const conns = (json["connections"] as Json[] | undefined) ?? [];
      const routability = json["routability"] as Json | undefined;
      const summary = json["summary"] === undefined ? [] : String(json["summary"]).split("; ");
      const why = json["explanation"] === undefined ? [] : [`  why: ${String(json["explanation"])}`];
      if (routability === undefined) {
        return [
          `${org ?? conn ?? ""} ${answer}`,
          ...why,
          ...conns.map((c) => `  ${String(c["connection"])} → ${String(c["destination"])} (${String(c["reason"])})`),
        ].join("\n");
      }
      // A connection: each callback shape first, then the worst of its usual ones.
      return [
        `${conn ?? ""}: routability ${String(routability["level"])} — ${String(routability["reason"])}`,
        ...summary.map((line) => `  ${line}`),
        `worst usual case ${answer}`,
        ...why,
      ].join("\n");
    });
  },
};

export const coverage: Command = {
  name: "coverage",
  summary: "which routes' callbacks the router can identify, by protocol; migrated routes at risk",
  positionals: [],
  options: {},
  details: [
    ...Object.entries(LEVEL_MEANING).map(([level, meaning]) => `${level}: ${meaning}.`),
    "Callbacks not identified get affinity (a login Auth0 started returns there), then the unknown policy.",
  ],
  examples: ["npm run routes -- coverage"],
  async run(ctx) {
    const { json } = await ctx.api.request("GET", "/coverage");
    ctx.print(json, () => {
      const level = json["byLevel"] as Record<string, number>;
      const byProtocol = json["byProtocol"] as Record<string, Record<string, number>>;
      const atRisk = (json["atRisk"] as Json[] | undefined) ?? [];
      const readiness = json["readiness"] as Json | undefined;
      const verdicts = (readiness?.["byVerdict"] ?? {}) as Record<string, number>;
      const listed = (readiness?.["connections"] as Json[] | undefined) ?? [];
      return [
        `${String(json["routes"])} route(s): ${level["routable"] ?? 0} routable, ${level["partial"] ?? 0} partial, ${level["unroutable"] ?? 0} unroutable`,
        ...Object.entries(byProtocol).map(
          ([p, n]) =>
            `  ${p}: ${n["routable"] ?? 0} routable, ${n["partial"] ?? 0} partial, ${n["unroutable"] ?? 0} unroutable`,
        ),
        ...(atRisk.length === 0
          ? ["no migrated or rollout route is at risk"]
          : ["at risk (migrated/rollout, not routable):"]),
        ...atRisk.map(
          (r) =>
            `  ${String(r["connection"])} (${String(r["state"])}, ${String(r["level"])}): ${String(r["reason"])}${r["fix"] === undefined ? "" : `\n    fix: ${String(r["fix"])}`}`,
        ),
        ...(readiness === undefined
          ? []
          : [
              `readiness (evidence of ${String(readiness["days"])} days): ${verdicts["ready"] ?? 0} ready, ${verdicts["not ready"] ?? 0} not ready, ${verdicts["no evidence"] ?? 0} no evidence`,
              ...listed.flatMap((r) =>
                readinessLines(r, `  ${String(r["connection"])} (${String(r["state"])}):`, "    "),
              ),
            ]),
      ].join("\n");
    });
  },
};

export const audit: Command = {
  name: "audit",
  summary: "who changed what, newest first, with each change's before and after",
  positionals: [],
  options: {
    limit: {
      type: "string",
      value: "N",
      description: "how many entries (1-500, default 20)",
      check: (v) =>
        /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 500 ? undefined : "takes a number from 1 to 500",
    },
    connection: { type: "string", value: "CONNECTION", description: "only entries about this connection" },
  },
  details: ["BEFORE and AFTER list only the fields that changed (version and updatedAt left out); - is nothing."],
  examples: ["npm run routes -- audit --connection acme-saml"],
  async run(ctx) {
    const q = new URLSearchParams({ limit: ctx.string("limit") ?? "20" });
    const conn = ctx.string("connection");
    if (conn !== undefined) q.set("connection", conn);
    const { json } = await ctx.api.request("GET", `/audit?${q}`);
    const entries = (json["entries"] as Json[] | undefined) ?? [];
    ctx.print(json, () =>
      entries.length === 0
        ? "no audit entries"
        : table([
            ["WHEN", "ACTOR", "ACTION", "SUBJECT", "BEFORE", "AFTER"],
            ...entries.map((e) => {
              const change = beforeAfter(e["before"], e["after"]);
              return [
                String(e["at"]),
                String(e["actor"]),
                String(e["action"]),
                String(e["subject"] ?? "-"),
                change.before,
                change.after,
              ];
            }),
          ]),
    );
  },
};

/** Affinity as /status reports it (src/affinity/state.ts: "on" | "off" | "not-configured"). */
function describeAffinity(value: unknown): string {
  switch (value) {
    case "on":
      return "on (logins Auth0 started finish at Auth0)";
    case "off":
      return "off (settings.affinity; AFFINITY_SECRET is set)";
    case "not-configured":
      return "not configured (no AFFINITY_SECRET: callbacks are routed by the table alone)";
    default:
      return String(value);
  }
}

const WINDOWS = { "15m": 15, "1h": 60, "24h": 24 * 60, "7d": 7 * 24 * 60 } as const;
type Window = keyof typeof WINDOWS;

interface Traffic {
  totals: { logins: number; new: number; fallback: number; errors: number };
  newShare: number | null;
  fallbackShare: number | null;
  flagged: Array<{ connection: string; flags: string[] }>;
}

const percent = (share: number | null): string => (share === null ? "-" : `${Math.round(share * 100)} %`);

/** `120 logins: new provider kept 62 %, bounced 3 % of those sent there, 0 errors` (definitions: /stats). */
function describeTraffic(t: Traffic): string {
  const { logins, errors } = t.totals;
  if (logins === 0 && errors === 0 && t.flagged.length === 0) return "no logins";
  const line = `${logins} login(s): new provider kept ${percent(t.newShare)}, bounced ${percent(t.fallbackShare)} of those sent there, ${errors} error(s)`;
  const flagged = t.flagged.map((f) => `${f.connection} (${f.flags.join(", ")})`);
  return flagged.length === 0 ? line : `${line}; flagged: ${flagged.join(", ")}`;
}

export const status: Command = {
  name: "status",
  summary: "kill switch, mode, affinity, route counts, recent logins, KV writes pending",
  positionals: [],
  options: {
    last: {
      type: "string",
      value: "WINDOW",
      choices: Object.keys(WINDOWS),
      description: "the traffic window: 15m, 1h (default), 24h or 7d",
    },
  },
  details: [
    "Traffic uses /stats' definitions: a login is counted once; kept = logins the new provider kept / logins;",
    "bounced = sent back with fallback=auth0 / sent to the new provider; errors = every 5xx answered or passed on",
    "(a client that hung up before its answer is not one).",
  ],
  async run(ctx) {
    const window = (ctx.string("last") ?? "1h") as Window;
    const since = new Date(Date.now() - WINDOWS[window] * 60_000).toISOString();
    const [status, settings, traffic] = await Promise.all([
      ctx.api.request("GET", "/status"),
      ctx.api.request("GET", "/settings"),
      // The numbers are worth having, not worth failing status for (it is what one runs in a bad hour).
      ctx.api.request("GET", `/stats?${new URLSearchParams({ since })}`).then(
        ({ json }) => ({ ok: true as const, json }),
        (err: unknown) => ({ ok: false as const, err }),
      ),
    ]);
    const json: Json = { mode: settings.json["mode"], killSwitch: settings.json["killSwitch"], ...status.json };
    if (traffic.ok) {
      const { totals, newShare, fallbackShare, flagged } = traffic.json;
      json["traffic"] = { window, since, totals, newShare, fallbackShare, flagged };
    }
    const routes = (json["routes"] ?? {}) as Record<string, number>;
    const total = Object.values(routes).reduce((a, b) => a + b, 0);
    const pending = Number(json["kvPending"] ?? 0);
    const trafficLine = traffic.ok
      ? describeTraffic(json["traffic"] as Traffic)
      : `unavailable (${traffic.err instanceof Error ? traffic.err.message : String(traffic.err)})`;
    ctx.print(json, () =>
      table([
        ["kill switch:", describeKillSwitch(json["killSwitch"], json["mode"])],
        ["mode:", describeMode(json["mode"])],
        ...(json["affinity"] === undefined ? [] : [["affinity:", describeAffinity(json["affinity"])]]),
        [
          "routes:",
          `${total} — ${Object.entries(routes)
            .map(([state, n]) => `${n} ${state}`)
            .join(", ")}`,
        ],
        [`last ${window}:`, trafficLine],
        ["settings:", `version ${String(json["settingsVersion"])}`],
        [
          "KV pending:",
          pending === 0
            ? "0 (every change is in KV; all locations see it within about 60 s)"
            : `${pending} write(s) not yet in KV (the writer retries them)`,
        ],
      ]),
    );
  },
};
