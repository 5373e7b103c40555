/**
 * `npm run routes -- <command>`: a small client for the management API.
 * Platform-neutral (fetch, strings); cli/main.ts wires it to Node's process,
 * and tests drive it against the real Worker.
 */

export interface CliIo {
  fetch: (input: string, init?: RequestInit) => Promise<Response>;
  readFile: (path: string) => Promise<string>;
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
}

export const USAGE = `usage: npm run routes -- <command> [options]

commands
  list [--state legacy|migrated|rollout] [--organization ORG]
  get <connection>
  set <connection> <legacy|migrated|rollout> [--target URL] [--if-match VERSION] [--create]
  delete <connection> [--if-match VERSION]
  push <routes.json|proxy_routes.csv> [--dry-run] [--replace]
  pull                                   (routes.json on stdout: npm run -s routes -- pull > routes.json)
  settings [--mode route|shadow|passthrough] [--unknown auth0|probe] [--default-target URL|none] [--redirect 307|form]
  kill-switch on|off                     (on = every callback to Auth0)
  rollout [--percentage N] [--include a,b] [--exclude c,d]
  evaluate --organization ORG | --connection CONNECTION
  audit [--limit N] [--connection CONNECTION]
  status

options
  --url URL       the router (default: $ROUTER_URL or http://localhost:8787)
  --prefix PATH   the API prefix (default: $ROUTER_API_PREFIX or /__router/v1)
  --json          print the API's JSON instead of tables
  token           from $ROUTER_TOKEN (a static ADMIN_TOKEN or a JWT)`;

class UsageError extends Error {}

interface Parsed {
  command: string;
  args: string[];
  flags: Map<string, string | true>;
}

const BOOLEAN_FLAGS = new Set(["json", "dry-run", "replace", "create", "help"]);

export function parseArgs(argv: string[]): Parsed {
  const args: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? "";
    if (a.startsWith("--")) {
      const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      if (BOOLEAN_FLAGS.has(name)) flags.set(name, true);
      else {
        const value = inline ?? argv[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value`);
        flags.set(name, value);
      }
    } else args.push(a);
  }
  return { command: args[0] ?? "", args: args.slice(1), flags };
}

function flag(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === "string" ? v : undefined;
}

function table(rows: string[][]): string {
  if (rows.length === 0) return "";
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, col) => cell.padEnd(widths[col] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

type Json = Record<string, unknown>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Json,
  ) {
    super(`${status}`);
  }
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    io.err(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.command === "" || parsed.flags.has("help") || parsed.command === "help") {
    io.out(USAGE);
    return parsed.command === "" && !parsed.flags.has("help") ? 2 : 0;
  }
  const base = (flag(parsed, "url") ?? io.env["ROUTER_URL"] ?? "http://localhost:8787").replace(/\/+$/, "");
  const prefix = flag(parsed, "prefix") ?? io.env["ROUTER_API_PREFIX"] ?? "/__router/v1";
  const token = io.env["ROUTER_TOKEN"];
  const asJson = parsed.flags.has("json");

  async function request(
    method: string,
    path: string,
    body?: { text: string; type: string },
    headers: Record<string, string> = {},
  ): Promise<{ json: Json; headers: Headers }> {
    const init: RequestInit = { method, headers: { accept: "application/json", ...headers } };
    if (token !== undefined && token !== "")
      (init.headers as Record<string, string>)["authorization"] = `Bearer ${token}`;
    if (body !== undefined) {
      init.body = body.text;
      (init.headers as Record<string, string>)["content-type"] = body.type;
    }
    let res: Response;
    try {
      res = await io.fetch(`${base}${prefix}${path}`, init);
    } catch (err) {
      throw new ApiError(0, {
        title: "Unreachable",
        detail: `${base} did not answer: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
    const text = await res.text();
    let json: Json;
    try {
      json = text === "" ? {} : (JSON.parse(text) as Json);
    } catch {
      json = { title: "Not JSON", detail: text.slice(0, 300) };
    }
    if (!res.ok) throw new ApiError(res.status, json);
    return { json, headers: res.headers };
  }

  const print = (value: unknown, human: () => string): void =>
    io.out(asJson ? JSON.stringify(value, null, 2) : human());
  const need = (n: number, what: string): string[] => {
    if (parsed.args.length < n) throw new UsageError(`${parsed.command} needs ${what}`);
    return parsed.args;
  };
  const ifMatch = (): Record<string, string> => {
    const v = flag(parsed, "if-match");
    return v === undefined ? {} : { "if-match": `"${v.replace(/"/g, "")}"` };
  };
  const enc = encodeURIComponent;

  try {
    switch (parsed.command) {
      case "list": {
        const routes: Json[] = [];
        let cursor: string | null = null;
        do {
          const q = new URLSearchParams({ limit: "1000" });
          const state = flag(parsed, "state");
          const org = flag(parsed, "organization");
          if (state !== undefined) q.set("state", state);
          if (org !== undefined) q.set("organization", org);
          if (cursor !== null) q.set("cursor", cursor);
          const { json } = await request("GET", `/routes?${q}`);
          routes.push(...((json["routes"] as Json[] | undefined) ?? []));
          cursor = (json["nextCursor"] as string | null | undefined) ?? null;
        } while (cursor !== null);
        print(
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
        return 0;
      }
      case "get": {
        const [connection = ""] = need(1, "a connection name");
        const { json, headers } = await request("GET", `/routes/${enc(connection)}`);
        print(
          json,
          () =>
            `${Object.entries(json)
              .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
              .join("\n")}\netag: ${headers.get("etag") ?? ""}`,
        );
        return 0;
      }
      case "set": {
        const [connection = "", state = ""] = need(2, "a connection name and a state");
        const body: Json = { state };
        const target = flag(parsed, "target");
        if (target !== undefined) body["target"] = target;
        const send = { text: JSON.stringify(body), type: "application/json" };
        const { json } = parsed.flags.has("create")
          ? await request("PUT", `/routes/${enc(connection)}`, send, ifMatch())
          : await request("PATCH", `/routes/${enc(connection)}`, send, ifMatch());
        print(json, () => `${connection}: ${String(json["state"])} (version ${String(json["version"])})`);
        return 0;
      }
      case "delete": {
        const [connection = ""] = need(1, "a connection name");
        const { json } = await request("DELETE", `/routes/${enc(connection)}`, undefined, ifMatch());
        print(json, () => `deleted ${connection} (was ${String(json["state"])})`);
        return 0;
      }
      case "push": {
        const [file = ""] = need(1, "a routes.json or proxy_routes.csv file");
        const text = await io.readFile(file);
        const type = file.toLowerCase().endsWith(".csv") ? "text/csv" : "application/json";
        const q = new URLSearchParams({
          dryRun: String(parsed.flags.has("dry-run")),
          mode: parsed.flags.has("replace") ? "replace" : "merge",
        });
        const { json } = await request("POST", `/import?${q}`, { text, type });
        const diff = json["diff"] as {
          added: string[];
          changed: Array<{ connection: string; fields: string[] }>;
          removed: string[];
          unchanged: string[];
          settingsChanged: boolean;
        };
        print(json, () =>
          [
            `${json["dryRun"] === true ? "dry run (nothing written)" : "imported"}: ${String(json["format"])}, mode ${String(json["mode"])}`,
            `  added ${diff.added.length}, changed ${diff.changed.length}, removed ${diff.removed.length}, unchanged ${diff.unchanged.length}${diff.settingsChanged ? ", settings changed" : ""}`,
            ...diff.added.map((c) => `  + ${c}`),
            ...diff.changed.map((c) => `  ~ ${c.connection} (${c.fields.join(", ")})`),
            ...diff.removed.map((c) => `  - ${c}`),
            ...((json["warnings"] as string[] | undefined) ?? []).map((w) => `  warning: ${w}`),
          ].join("\n"),
        );
        return 0;
      }
      case "pull": {
        const { json } = await request("GET", "/export");
        io.out(JSON.stringify(json, null, 2));
        return 0;
      }
      case "settings":
      case "kill-switch": {
        const body: Json = {};
        if (parsed.command === "kill-switch") {
          const [onOff = ""] = need(1, "on or off");
          if (onOff !== "on" && onOff !== "off") throw new UsageError("kill-switch takes on or off");
          body["mode"] = onOff === "on" ? "passthrough" : "route";
        } else {
          const mode = flag(parsed, "mode");
          const unknown = flag(parsed, "unknown");
          const target = flag(parsed, "default-target");
          const redirect = flag(parsed, "redirect");
          if (mode !== undefined) body["mode"] = mode;
          if (unknown !== undefined) body["unknown"] = unknown;
          if (target !== undefined) body["defaultTarget"] = target === "none" ? null : target;
          if (redirect !== undefined) body["redirect"] = redirect;
        }
        const { json } =
          Object.keys(body).length === 0
            ? await request("GET", "/settings")
            : await request("PUT", "/settings", { text: JSON.stringify(body), type: "application/json" });
        const r = json["rollout"] as { percentage: number; include: string[]; exclude: string[] } | undefined;
        print(json, () =>
          [
            `mode: ${String(json["mode"])}${json["mode"] === "passthrough" ? "  (kill switch ON: every callback goes to Auth0)" : ""}`,
            `unknown: ${String(json["unknown"])}`,
            `defaultTarget: ${String(json["defaultTarget"] ?? "(none)")}`,
            `redirect: ${String(json["redirect"])}`,
            `rollout: ${r?.percentage ?? 0}% include [${r?.include.join(", ") ?? ""}] exclude [${r?.exclude.join(", ") ?? ""}]`,
          ].join("\n"),
        );
        return 0;
      }
      case "rollout": {
        const pct = flag(parsed, "percentage");
        const include = flag(parsed, "include");
        const exclude = flag(parsed, "exclude");
        let result: Json;
        if (pct === undefined && include === undefined && exclude === undefined) {
          result = (await request("GET", "/rollout")).json;
        } else {
          const current = await request("GET", "/rollout");
          const list = (v: string | undefined, fallback: unknown): string[] =>
            v === undefined
              ? (fallback as string[])
              : v
                  .split(",")
                  .map((s) => s.trim())
                  .filter((s) => s !== "");
          const percentage = pct === undefined ? current.json["percentage"] : Number(pct);
          if (typeof percentage === "number" && Number.isNaN(percentage))
            throw new UsageError("--percentage takes a number from 0 to 100");
          const body = {
            percentage,
            include: list(include, current.json["include"]),
            exclude: list(exclude, current.json["exclude"]),
          };
          // If-Match: another operator's change in between makes this fail instead of silently undoing theirs.
          const etag = current.headers.get("etag");
          result = (
            await request(
              "PUT",
              "/rollout",
              { text: JSON.stringify(body), type: "application/json" },
              etag === null ? {} : { "if-match": etag },
            )
          ).json;
        }
        print(
          result,
          () =>
            `rollout: ${String(result["percentage"])}% include [${(result["include"] as string[]).join(", ")}] exclude [${(result["exclude"] as string[]).join(", ")}]`,
        );
        return 0;
      }
      case "evaluate": {
        const org = flag(parsed, "organization");
        const conn = flag(parsed, "connection");
        if ((org === undefined) === (conn === undefined))
          throw new UsageError("evaluate takes --organization ORG or --connection CONNECTION");
        const q = org !== undefined ? `organization=${enc(org)}` : `connection=${enc(conn ?? "")}`;
        const { json } = await request("GET", `/evaluate?${q}`);
        print(json, () => {
          const head = `${org ?? conn ?? ""} → ${String(json["destination"])} (${String(json["reason"])})${json["target"] !== undefined ? ` ${String(json["target"])}` : ""}`;
          const conns = (json["connections"] as Json[] | undefined) ?? [];
          return [
            head,
            ...conns.map((c) => `  ${String(c["connection"])} → ${String(c["destination"])} (${String(c["reason"])})`),
          ].join("\n");
        });
        return 0;
      }
      case "audit": {
        const q = new URLSearchParams({ limit: flag(parsed, "limit") ?? "20" });
        const conn = flag(parsed, "connection");
        if (conn !== undefined) q.set("connection", conn);
        const { json } = await request("GET", `/audit?${q}`);
        const entries = (json["entries"] as Json[] | undefined) ?? [];
        print(json, () =>
          table([
            ["WHEN", "ACTOR", "ACTION", "SUBJECT"],
            ...entries.map((e) => [
              String(e["at"]),
              String(e["actor"]),
              String(e["action"]),
              String(e["subject"] ?? "-"),
            ]),
          ]),
        );
        return 0;
      }
      case "status": {
        const { json } = await request("GET", "/status");
        const r = json["routes"] as Record<string, number>;
        print(
          json,
          () =>
            `routes: ${r["legacy"]} legacy, ${r["migrated"]} migrated, ${r["rollout"]} rollout; settings v${String(json["settingsVersion"])}; KV writes pending: ${String(json["kvPending"])}`,
        );
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${parsed.command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof ApiError) {
      const b = err.body;
      const lines = [
        `error: ${err.status === 0 ? "" : `${err.status} `}${String(b["title"] ?? "")}: ${String(b["detail"] ?? "")}`,
      ];
      for (const e of (b["errors"] as Array<{ field: string; reason: string }> | undefined) ?? [])
        lines.push(`  ${e.field}: ${e.reason}`);
      if (err.status === 401 && (token === undefined || token === ""))
        lines.push("  (set ROUTER_TOKEN to the admin token or a JWT)");
      io.err(asJson ? JSON.stringify(b, null, 2) : lines.join("\n"));
      return 1;
    }
    throw err;
  }
}
