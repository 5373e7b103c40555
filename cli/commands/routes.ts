/** One route at a time: list, get, set, delete. */
import { RouteState } from "../../src/table/schema";
import type { Json } from "../client";
import type { Command, Context } from "../command";
import { UsageError } from "../args";
import { fieldLines, table } from "../output";
import { describeRoutePreview } from "../preview";
import { checkRehearse, printDryRun, rehearseOption } from "../rehearsal";

const enc = encodeURIComponent;
const STATES = RouteState.options;

const ifMatchOption = {
  type: "string",
  value: "VERSION",
  description: "change only if the route is still at this version (its ETag); else 412",
  check: (v: string) => (/^"?\d+"?$/.test(v) ? undefined : "takes a version number"),
} as const;

function ifMatch(ctx: Context): Record<string, string> {
  const v = ctx.string("if-match");
  return v === undefined ? {} : { "if-match": `"${v.replace(/"/g, "")}"` };
}

export const list: Command = {
  name: "list",
  summary: "the route table, filtered",
  positionals: [],
  options: {
    state: { type: "string", value: "STATE", choices: STATES, description: "only routes in this state" },
    organization: { type: "string", value: "ORG", description: "only this organization's routes" },
  },
  examples: ["npm run routes -- list --state migrated"],
  async run(ctx) {
    const routes: Json[] = [];
    let cursor: string | null = null;
    do {
      const q = new URLSearchParams({ limit: "1000" });
      const state = ctx.string("state");
      const org = ctx.string("organization");
      if (state !== undefined) q.set("state", state);
      if (org !== undefined) q.set("organization", org);
      if (cursor !== null) q.set("cursor", cursor);
      const { json } = await ctx.api.request("GET", `/routes?${q}`);
      routes.push(...((json["routes"] as Json[] | undefined) ?? []));
      cursor = (json["nextCursor"] as string | null | undefined) ?? null;
    } while (cursor !== null);
    ctx.print(
      routes,
      () =>
        table([
          ["CONNECTION", "STATE", "ORGANIZATION", "TARGET", "VERSION"],
          ...routes.map((r) => [
            String(r["connection"]),
            String(r["state"]),
            String(r["organization"] ?? "-"),
            String(r["target"] ?? "(default)"),
            String(r["version"]),
          ]),
        ]) + `\n${routes.length} route(s)`,
    );
  },
};

/** "readiness: not ready — 2 logins in 7 days; …", the fix, and where the evidence overrules the prediction. */
export function readinessLines(readiness: Json | undefined, head = "readiness:", indent = "  "): string[] {
  if (readiness === undefined) return [];
  return [
    `${head} ${String(readiness["verdict"])} — ${String(readiness["summary"])}`,
    ...(readiness["fix"] === undefined || readiness["verdict"] === "ready"
      ? []
      : [`${indent}fix: ${String(readiness["fix"])}`]),
    ...(readiness["difference"] === undefined
      ? []
      : [`${indent}evidence over prediction: ${String(readiness["difference"])}`]),
  ];
}

export const get: Command = {
  name: "get",
  summary: "one route, with its version (ETag)",
  positionals: [{ name: "connection", description: "the Auth0 connection name" }],
  options: {},
  async run(ctx) {
    const [connection = ""] = ctx.positionals;
    const { json, headers } = await ctx.api.request("GET", `/routes/${enc(connection)}`);
    const { routability, readiness, ...route } = json as Json & { routability?: Json; readiness?: Json };
    ctx.print(json, () =>
      [
        ...fieldLines(route),
        `etag: ${headers.get("etag") ?? ""}`,
        ...(routability === undefined
          ? []
          : [
              `routability: ${String(routability["level"])} — ${String(routability["reason"])}`,
              ...(routability["fix"] === undefined ? [] : [`  fix: ${String(routability["fix"])}`]),
            ]),
        ...readinessLines(readiness),
      ].join("\n"),
    );
  },
};

export const set: Command = {
  name: "set",
  summary: "change a route's state (and target); --create adds a new route",
  positionals: [
    { name: "connection", description: "the Auth0 connection name" },
    { name: "state", description: STATES.join(" | "), choices: STATES },
  ],
  options: {
    target: { type: "string", value: "URL", description: "the new provider's callback URL for this connection" },
    "if-match": ifMatchOption,
    create: { type: "boolean", description: "create or replace the whole route (PUT) instead of changing it (PATCH)" },
    "dry-run": {
      type: "boolean",
      description:
        "show what the change would do (each callback shape's decision, logins of 24 h moved); write nothing",
    },
    rehearse: rehearseOption,
  },
  details: [
    "--dry-run asks the router's own decision code before and after; nothing is written or audited.",
    "--dry-run --rehearse also replays the last 7 days' recorded logins under the change.",
  ],
  examples: [
    "npm run routes -- set acme-saml migrated --dry-run",
    "npm run routes -- set acme-saml migrated",
    "npm run routes -- set acme-saml legacy --if-match 3",
  ],
  async run(ctx) {
    const [connection = "", state = ""] = ctx.positionals;
    checkRehearse(ctx);
    const body: Json = { state };
    const target = ctx.string("target");
    if (target !== undefined) body["target"] = target;
    if (ctx.flag("dry-run")) {
      if (ctx.flag("create"))
        throw new UsageError("--dry-run previews a change of an existing route; it does not take --create");
      const { json } = await ctx.api.send("PATCH", `/routes/${enc(connection)}?dryRun=true`, body, ifMatch(ctx));
      // The route as the change would store it, less the writer's bookkeeping: the proposal.
      const { version: _v, updatedAt: _u, ...route } = (json["route"] ?? {}) as Json;
      return printDryRun(ctx, json, describeRoutePreview, () => ({ routes: [route] }));
    }
    const method = ctx.flag("create") ? "PUT" : "PATCH";
    const { json } = await ctx.api.send(method, `/routes/${enc(connection)}`, body, ifMatch(ctx));
    ctx.print(json, () => `${connection}: ${String(json["state"])} (version ${String(json["version"])})`);
  },
};

export const remove: Command = {
  name: "delete",
  summary: "remove a route (its callbacks then follow the `unknown` setting)",
  positionals: [{ name: "connection", description: "the Auth0 connection name" }],
  options: { "if-match": ifMatchOption },
  async run(ctx) {
    const [connection = ""] = ctx.positionals;
    const { json } = await ctx.api.request("DELETE", `/routes/${enc(connection)}`, undefined, ifMatch(ctx));
    ctx.print(json, () => `deleted ${connection} (was ${String(json["state"])})`);
  },
};
