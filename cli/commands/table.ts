/** The whole table at once: push (import) and pull (export). */
import path from "node:path";
import { UsageError } from "../args";
import { checkRehearse, printDryRun, rehearseOption } from "../rehearsal";
import type { Json } from "../client";
import { fileError, FileError, type Command, type Context } from "../command";

interface ImportDiff {
  added: string[];
  changed: Array<{ connection: string; fields: string[] }>;
  removed: string[];
  unchanged: string[];
  settingsChanged: boolean;
}

/** The package files push sends, as the exporter lays them out (`<package>/sso/…`, `<package>/warnings.jsonl`). */
const PACKAGE_PARTS = [
  { part: "proxy_routes.csv", paths: ["sso/proxy_routes.csv", "proxy_routes.csv"], required: true },
  { part: "saml_connections.csv", paths: ["sso/saml_connections.csv", "saml_connections.csv"], required: false },
  { part: "oidc_connections.csv", paths: ["sso/oidc_connections.csv", "oidc_connections.csv"], required: false },
  { part: "warnings.jsonl", paths: ["warnings.jsonl", "../warnings.jsonl"], required: false },
] as const;

/** Reads WorkOS' package folder (the export's root, or its sso/ folder) into a multipart body. */
async function packageBody(ctx: Context, folder: string): Promise<{ text: string; type: string; files: string[] }> {
  const boundary = `----callback-router-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const parts: string[] = [];
  const files: string[] = [];
  for (const spec of PACKAGE_PARTS) {
    let found: { file: string; text: string } | undefined;
    for (const candidate of spec.paths) {
      const file = path.join(folder, candidate);
      try {
        found = { file, text: await ctx.io.readFile(file) };
        break;
      } catch (err) {
        const code = typeof err === "object" && err !== null && "code" in err ? String(err.code) : "";
        if (code !== "ENOENT" && code !== "ENOTDIR") throw fileError("read", file, err);
      }
    }
    if (found === undefined) {
      if (spec.required) {
        throw new FileError(
          `cannot read ${path.join(folder, spec.paths[0])}: no such file (is ${folder} WorkOS' package folder?)`,
        );
      }
      continue;
    }
    files.push(found.file);
    parts.push(
      `--${boundary}\r\ncontent-disposition: form-data; name="${spec.part}"; filename="${spec.part}"\r\ncontent-type: ${spec.part.endsWith(".csv") ? "text/csv" : "application/x-ndjson"}\r\n\r\n${found.text}\r\n`,
    );
  }
  return { text: `${parts.join("")}--${boundary}--\r\n`, type: `multipart/form-data; boundary=${boundary}`, files };
}

export const push: Command = {
  name: "push",
  summary: "import routes.json, WorkOS' proxy_routes.csv, or WorkOS' whole package folder (all or nothing)",
  positionals: [
    {
      name: "file",
      description:
        "a routes.json (.json), WorkOS sso/proxy_routes.csv (.csv), or the folder of WorkOS' migration package (sso/*.csv joined, warnings.jsonl)",
    },
  ],
  options: {
    "dry-run": { type: "boolean", description: "show what would change and every row's errors; write nothing" },
    replace: { type: "boolean", description: "also delete routes that are not in the file (default: keep them)" },
    rehearse: rehearseOption,
  },
  details: [
    "Nothing is written if any row is wrong; errors name the file and line (CSV) or the field (JSON).",
    "Run with --dry-run first: the same diff, every derived value (package), nothing written.",
    "A package folder sends sso/proxy_routes.csv with sso/saml_connections.csv, sso/oidc_connections.csv and",
    "warnings.jsonl when present: issuers, entity ids and organizations are derived from them and listed.",
  ],
  examples: [
    "npm run routes -- push ./workos-export --dry-run",
    "npm run routes -- push sso/proxy_routes.csv --dry-run",
    "npm run routes -- push routes.json --replace",
  ],
  async run(ctx) {
    const [file = ""] = ctx.positionals;
    const extension = path.extname(file).toLowerCase();
    if (extension !== "" && extension !== ".csv" && extension !== ".json") {
      throw new UsageError(
        `push takes a .json (routes.json) or .csv (proxy_routes.csv) file, or a package folder, not "${file}"`,
      );
    }
    checkRehearse(ctx);
    if (ctx.flag("rehearse") && (extension !== ".json" || ctx.flag("replace"))) {
      throw new UsageError("--rehearse replays a routes.json merged onto the table (a .json file, without --replace)");
    }
    const body =
      extension === ""
        ? await packageBody(ctx, file)
        : { text: await ctx.readFile(file), type: extension === ".csv" ? "text/csv" : "application/json" };
    const q = new URLSearchParams({
      dryRun: String(ctx.flag("dry-run")),
      mode: ctx.flag("replace") ? "replace" : "merge",
    });
    const { json } = await ctx.api.request("POST", `/import?${q}`, { text: body.text, type: body.type });
    const derived =
      (json["derived"] as Array<{ connection: string; field: string; value: unknown; from: string }> | undefined) ?? [];
    const diff = json["diff"] as ImportDiff;
    const describe = (): string =>
      [
        `${json["dryRun"] === true ? "dry run (nothing written)" : "imported"}: ${String(json["format"])}, mode ${String(json["mode"])}`,
        `  added ${diff.added.length}, changed ${diff.changed.length}, removed ${diff.removed.length}, unchanged ${diff.unchanged.length}${diff.settingsChanged ? ", settings changed" : ""}`,
        ...diff.added.map((c) => `  + ${c}`),
        ...diff.changed.map((c) => `  ~ ${c.connection} (${c.fields.join(", ")})`),
        ...diff.removed.map((c) => `  - ${c}`),
        ...derived.map((d) => `  derived ${d.connection} ${d.field} = ${JSON.stringify(d.value)} (from ${d.from})`),
        ...((json["warnings"] as string[] | undefined) ?? []).map((w) => `  warning: ${w}`),
      ].join("\n");
    await printDryRun(ctx, json, describe, () => JSON.parse(body.text) as unknown);
  },
};

export const pull: Command = {
  name: "pull",
  summary: "export the table as routes.json (pushes back unchanged)",
  positionals: [],
  options: {
    out: { type: "string", value: "FILE", description: "write to FILE instead of standard output" },
  },
  details: [
    "The file starts with a $schema pointing at docs/routes.schema.json, so editors check it;",
    "with --out, a $schema already in FILE is kept.",
  ],
  examples: ["npm run -s routes -- pull > routes.json", "npm run routes -- pull --out routes.json"],
  async run(ctx) {
    const out = ctx.string("out");
    const { json } = await ctx.api.request("GET", "/export");
    const target = out === undefined ? undefined : path.resolve(ctx.io.cwd, out);
    const { $schema: _served, ...table } = json;
    const file: Json = { $schema: await schemaRef(ctx, target), ...table };
    const text = `${JSON.stringify(file, null, 2)}\n`;
    if (out === undefined || target === undefined) {
      ctx.io.out(text.trimEnd());
      return;
    }
    await ctx.writeFile(out, text);
    const routes = Array.isArray(json["routes"]) ? json["routes"].length : 0;
    ctx.io.err(`wrote ${out}: ${routes} route(s) and the settings`);
  },
};

/**
 * The `$schema` for a routes.json at `target` (standard output: the caller's
 * directory): the one already in that file, else the relative path from there
 * to docs/routes.schema.json.
 */
async function schemaRef(ctx: Context, target: string | undefined): Promise<string> {
  if (target !== undefined) {
    try {
      const existing: unknown = JSON.parse(await ctx.io.readFile(target));
      if (typeof existing === "object" && existing !== null && "$schema" in existing) {
        if (typeof existing.$schema === "string") return existing.$schema;
      }
    } catch {
      // No file yet, or not JSON: it gets the default below (a real write problem shows when writing).
    }
  }
  const from = target === undefined ? ctx.io.cwd : path.dirname(target);
  const relative = path.relative(from, ctx.io.schemaFile).split(path.sep).join("/");
  return relative.startsWith(".") ? relative : `./${relative}`;
}
