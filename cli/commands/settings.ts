/** Global settings: settings, kill-switch, rollout. */
import { Settings } from "../../src/table/schema";
import { UsageError } from "../args";
import type { Json } from "../client";
import type { Command, Context } from "../command";
import { describeSettingsPreview } from "../preview";
import { checkRehearse, printDryRun, rehearseOption } from "../rehearsal";

interface Rollout {
  percentage: number;
  include: string[];
  exclude: string[];
}

/** `route (callbacks follow the table)`: what the mode does while the kill switch is off. */
export function describeMode(mode: unknown): string {
  if (mode === "shadow") return "shadow (decisions are logged, every callback goes to Auth0)";
  if (mode === "route") return "route (callbacks follow the route table)";
  return String(mode);
}

/**
 * `ON since … by …: every callback goes to Auth0 (mode shadow applies again when off)`: the one
 * line an operator looks for first. `killSwitch` is the API's { on, since?, by? }.
 */
export function describeKillSwitch(killSwitch: unknown, mode: unknown): string {
  const k = (typeof killSwitch === "object" && killSwitch !== null ? killSwitch : {}) as Json;
  const when = [
    k["since"] === undefined ? "" : ` since ${String(k["since"])}`,
    k["by"] === undefined ? "" : ` by ${String(k["by"])}`,
  ].join("");
  return k["on"] === true
    ? `ON${when}: every callback goes to Auth0 (off gives back mode ${String(mode)})`
    : `off${when}`;
}

export function describeRollout(r: Partial<Rollout> | undefined): string {
  return `${r?.percentage ?? 0}% include [${(r?.include ?? []).join(", ")}] exclude [${(r?.exclude ?? []).join(", ")}]`;
}

const dryRunOption = {
  type: "boolean",
  description:
    "show what the change would do to each connection's callbacks and logins of the last 24 h; write nothing",
} as const;

/**
 * PUT `path`?dryRun=true (the API's preview), printed; with --rehearse, the rehearsal of the same
 * settings (`settings` in routes.json form) after it. Nothing is written.
 */
async function preview(
  ctx: Context,
  path: string,
  body: Json,
  headers: Record<string, string> = {},
  settings: Json = body,
): Promise<void> {
  const { json } = await ctx.api.send("PUT", `${path}?dryRun=true`, body, headers);
  await printDryRun(ctx, json, describeSettingsPreview, () => ({ settings }));
}

function printSettings(json: Json): string {
  return [
    `kill switch: ${describeKillSwitch(json["killSwitch"], json["mode"])}`,
    `mode: ${describeMode(json["mode"])}`,
    `unknown: ${String(json["unknown"])}`,
    `defaultTarget: ${String(json["defaultTarget"] ?? "(none)")}`,
    `redirect: ${String(json["redirect"])}`,
    `rollout: ${describeRollout(json["rollout"] as Rollout | undefined)}`,
    `affinity: ${String(json["affinity"] ?? "on")} (logins Auth0 started go back to Auth0; needs AFFINITY_SECRET)`,
    `auth0: ${String(json["auth0"] ?? "active")}${json["auth0"] === "retired" ? " (nothing is forwarded to Auth0)" : ""}`,
    ...(json["bounceMessage"] === undefined ? [] : [`bounceMessage: ${String(json["bounceMessage"])}`]),
    ...(json["paths"] === undefined ? [] : [`paths: ${(json["paths"] as unknown[]).length} row(s) (see --json)`]),
  ].join("\n");
}

/** GET /retirement as lines: ready, or every blocker. */
function printRetirement(json: Json): string {
  const blockers = (json["blockers"] as Array<{ field: string; reason: string }> | undefined) ?? [];
  const head =
    json["ready"] === true
      ? "Auth0 can be retired: nothing blocks it (dry run: nothing written)."
      : `Auth0 cannot be retired yet: ${blockers.length} blocker(s) (dry run: nothing written):`;
  return [head, ...blockers.map((b) => `  ${b.field}: ${b.reason}`)].join("\n");
}

export const settings: Command = {
  name: "settings",
  summary: "show the global settings, or change the ones given",
  positionals: [],
  options: {
    mode: {
      type: "string",
      value: "MODE",
      choices: Settings.shape.mode.options,
      description: "route | shadow (decide and log, all to Auth0); the kill switch is its own command",
    },
    unknown: {
      type: "string",
      value: "WHERE",
      choices: Settings.shape.unknown.options,
      description: "where callbacks of connections not in the table go: auth0 | probe",
    },
    "default-target": {
      type: "string",
      value: "URL",
      description: "the new provider's callback URL for routes without a target; none removes it",
    },
    redirect: {
      type: "string",
      value: "HOW",
      choices: Settings.shape.redirect.options,
      description: "307 | form (an auto-submitting form for POSTs)",
    },
    affinity: {
      type: "string",
      value: "ON|OFF",
      choices: ["on", "off"],
      description: "transaction affinity: on (default) | off, without a redeploy",
    },
    auth0: {
      type: "string",
      value: "STATE",
      choices: ["active", "retired"],
      description: "retired = Auth0 is switched off: nothing is forwarded to it (checked; docs/retirement.md)",
    },
    "bounce-message": {
      type: "string",
      value: "TEXT",
      description: "retired: whom to contact, on the page a fallback=auth0 bounce gets; none removes it",
    },
    force: { type: "boolean", description: "with --auth0 retired: retire despite the blockers (audited)" },
    "dry-run": {
      type: "boolean",
      description:
        "show what the change would do to each connection's callbacks and logins of the last 24 h (with --auth0 retired: what blocks retiring); write nothing",
    },
    rehearse: rehearseOption,
  },
  details: [
    "--dry-run asks the router's own decision code before and after for every connection with logins in the last 24 h and the table's routes (at most 200); nothing is written or audited.",
    "--auth0 retired is refused (409) while a route is legacy or rollout, the mode is not route, or a login reached Auth0 in the last 7 days other than through a bounce; --dry-run lists them, --force overrides them (the audit records each).",
  ],
  examples: [
    "npm run routes -- settings",
    "npm run routes -- settings --mode route --dry-run",
    "npm run routes -- settings --mode shadow",
    "npm run routes -- settings --auth0 retired --dry-run",
  ],
  async run(ctx) {
    const body: Json = {};
    const mode = ctx.string("mode");
    const unknown = ctx.string("unknown");
    const target = ctx.string("default-target");
    const redirect = ctx.string("redirect");
    if (mode !== undefined) body["mode"] = mode;
    if (unknown !== undefined) body["unknown"] = unknown;
    if (target !== undefined) body["defaultTarget"] = target === "none" ? null : target;
    if (redirect !== undefined) body["redirect"] = redirect;
    const affinity = ctx.string("affinity");
    if (affinity !== undefined) body["affinity"] = affinity;
    const auth0 = ctx.string("auth0");
    if (auth0 !== undefined) body["auth0"] = auth0;
    const message = ctx.string("bounce-message");
    if (message !== undefined) body["bounceMessage"] = message === "none" ? null : message;
    if (ctx.flag("force") && auth0 !== "retired") throw new UsageError("--force goes with --auth0 retired");
    checkRehearse(ctx);
    if (ctx.flag("dry-run")) {
      if (auth0 === "retired") {
        const { json: check } = await ctx.api.request("GET", "/retirement");
        return ctx.print(check, () => printRetirement(check));
      }
      if (Object.keys(body).length === 0) {
        throw new UsageError("--dry-run previews a change: give the settings to change (e.g. --mode route)");
      }
      return preview(ctx, "/settings", body);
    }
    const path = ctx.flag("force") ? "/settings?force=true" : "/settings";
    const { json } =
      Object.keys(body).length === 0
        ? await ctx.api.request("GET", "/settings")
        : await ctx.api.send("PUT", path, body);
    ctx.print(json, () => printSettings(json));
  },
};

export const killSwitch: Command = {
  name: "kill-switch",
  summary: "on = every callback goes to Auth0, whatever the mode; off = the mode (route or shadow) applies again",
  positionals: [{ name: "on|off", description: "on or off", choices: ["on", "off"] }],
  options: { "dry-run": dryRunOption },
  details: [
    "The kill switch overrides the mode without changing it: turning it off in shadow mode leaves shadow mode.",
    "Like every change, it reaches every location within about 60 s (KV propagation).",
    "--dry-run shows which connections' callbacks it would move and how many logins of the last 24 h; nothing is written.",
  ],
  examples: [
    "npm run routes -- kill-switch on --dry-run",
    "npm run routes -- kill-switch on",
    "npm run routes -- kill-switch off",
  ],
  async run(ctx) {
    const [onOff] = ctx.positionals;
    if (ctx.flag("dry-run")) return preview(ctx, "/settings", { killSwitch: { on: onOff === "on" } });
    const { json } = await ctx.api.send("PUT", "/settings", { killSwitch: { on: onOff === "on" } });
    ctx.print(json, () => printSettings(json));
  },
};

const percentage = (v: string): string | undefined => {
  const n = Number(v);
  return v.trim() !== "" && Number.isFinite(n) && n >= 0 && n <= 100 ? undefined : "takes a number from 0 to 100";
};

const names = (v: string): string[] =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");

export const rollout: Command = {
  name: "rollout",
  summary: "show the rollout flag, or change the parts given",
  positionals: [],
  options: {
    percentage: {
      type: "string",
      value: "N",
      check: percentage,
      description: "share (0-100) of organizations in routes of state rollout sent to the new provider",
    },
    include: { type: "string", value: "A,B", description: "organizations (or connections) always sent there" },
    exclude: { type: "string", value: "C,D", description: "organizations (or connections) always kept on Auth0" },
    "dry-run": dryRunOption,
    rehearse: rehearseOption,
  },
  details: [
    "--include and --exclude replace the list; an empty value (--include=) empties it.",
    "The change is sent with If-Match: another operator's change in between makes it fail (412).",
  ],
  examples: [
    "npm run routes -- rollout --percentage 10 --dry-run",
    "npm run routes -- rollout --percentage 10",
    "npm run routes -- rollout --include org_acme,org_hooli",
  ],
  async run(ctx) {
    const pct = ctx.string("percentage");
    const include = ctx.string("include");
    const exclude = ctx.string("exclude");
    const changing = pct !== undefined || include !== undefined || exclude !== undefined;
    checkRehearse(ctx);
    if (!changing && ctx.flag("dry-run")) {
      throw new UsageError("--dry-run previews a change: give --percentage, --include or --exclude");
    }
    const current = await ctx.api.request("GET", "/rollout");
    let result = current.json;
    if (changing) {
      const body = {
        percentage: pct === undefined ? current.json["percentage"] : Number(pct),
        include: include === undefined ? current.json["include"] : names(include),
        exclude: exclude === undefined ? current.json["exclude"] : names(exclude),
      };
      const etag = current.headers.get("etag");
      const headers: Record<string, string> = etag === null ? {} : { "if-match": etag };
      if (ctx.flag("dry-run")) return preview(ctx, "/rollout", body, headers, { rollout: body });
      result = (await ctx.api.send("PUT", "/rollout", body, headers)).json;
    }
    ctx.print(result, () => `rollout: ${describeRollout(result as Partial<Rollout>)}`);
  },
};
