/**
 * The whole table at once: import (routes.json or WorkOS' proxy_routes.csv,
 * dry-run diff first, all or nothing) and export (routes.json, which imports
 * back unchanged).
 */
import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import type { RouteInput } from "../table/schema";
import { SettingsInput, settingsOfInput, type Settings } from "../table/schema";
import { zodErrors, type FieldError } from "../table/validate";
import type { AdminApp } from "./context";
import { requireScope } from "./auth";
import { ApiProblem, badRequest } from "./problem";
import { csvField, parseProxyRoutesCsv } from "./proxy-routes-csv";
import { PACKAGE_FILES, parseWorkosPackage, type Derived, type PackageFiles } from "./workos-package";
import { Protocol } from "../table/schema";
import type { RoutabilityQuestion, RouterApi } from "../router-rpc";
import { askRouter, routerOf } from "./router-client";
import { ImportResultSchema, problemResponses, RouteInputSchema, SettingsSchema } from "./schemas";
import { writerOf } from "../writer";
import { unwrap } from "./writer-http";

const ImportQuery = z.object({
  dryRun: z
    .enum(["true", "false"])
    .default("false")
    .meta({ description: "true: return the diff and per-row errors, write nothing" }),
  mode: z
    .enum(["merge", "replace"])
    .default("merge")
    .meta({ description: "merge: routes not in the file stay; replace: they are deleted" }),
});

const RoutesJsonShape = z
  .object({
    $schema: z.string().optional(),
    settings: SettingsInput.optional(),
    routes: z.array(z.record(z.string(), z.unknown())).max(200_000),
  })
  .strict();

const TableFileSchema = z
  .object({ $schema: z.string().optional(), settings: SettingsSchema, routes: z.array(RouteInputSchema) })
  .meta({ id: "RouteTableFile", description: "routes.json" });

interface Parsed {
  format: "routes.json" | "proxy_routes.csv" | "workos-package";
  routes: Array<Record<string, unknown>>;
  settings: Partial<Settings> | undefined;
  warnings: string[];
  derived?: Derived[];
  fieldName: (field: string) => string;
  /** How a row is named in warnings (`line 3`, `routes.2`). */
  rowName: (index: number) => string;
}

const UNSUPPORTED =
  "Send routes.json as application/json, proxy_routes.csv as text/csv, or WorkOS' package as multipart/form-data (parts proxy_routes.csv, saml_connections.csv, oidc_connections.csv, warnings.jsonl).";

async function parsePackage(form: FormData): Promise<Parsed> {
  const files: Partial<PackageFiles> = {};
  const known: Record<string, keyof PackageFiles> = {};
  for (const [key, name] of Object.entries(PACKAGE_FILES)) known[name] = key as keyof PackageFiles;
  const errors: FieldError[] = [];
  const parts: Array<[string, File | string]> = [];
  form.forEach((value, part) => parts.push([part, value]));
  for (const [part, value] of parts) {
    const name = part.replace(/^(?:.*\/)?/, ""); // "sso/proxy_routes.csv" names the same file
    const key = known[name];
    if (key === undefined) {
      errors.push({ field: part, reason: `not a package file (expected ${Object.values(PACKAGE_FILES).join(", ")})` });
      continue;
    }
    files[key] = typeof value === "string" ? value : await value.text();
  }
  if (files.proxyRoutes === undefined) errors.push({ field: PACKAGE_FILES.proxyRoutes, reason: "part is missing" });
  if (errors.length > 0 || files.proxyRoutes === undefined) {
    throw new ApiProblem(422, "Invalid package", "Nothing was imported.", errors);
  }
  const rows = parseWorkosPackage({ ...files, proxyRoutes: files.proxyRoutes });
  if (rows.errors.length > 0) {
    throw new ApiProblem(
      422,
      "Invalid package",
      "Nothing was imported: fix every listed line and send the whole package again.",
      rows.errors,
    );
  }
  return {
    format: "workos-package",
    routes: rows.routes,
    settings: undefined,
    warnings: rows.warnings,
    derived: rows.derived,
    fieldName: (f) => `${PACKAGE_FILES.proxyRoutes} ${csvField(f, rows.lines)}`,
    rowName: (i) => `${PACKAGE_FILES.proxyRoutes} line ${rows.lines[i] ?? "?"}`,
  };
}

async function parseImport(request: {
  header(name: string): string | undefined;
  text(): Promise<string>;
  formData(): Promise<FormData>;
}): Promise<Parsed> {
  const type = (request.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const isCsv = type === "text/csv" || type === "application/csv";
  if (type === "multipart/form-data") {
    let form: FormData;
    try {
      form = await request.formData();
    } catch {
      throw badRequest("The multipart body could not be read.");
    }
    return parsePackage(form);
  }
  if (!isCsv && type !== "application/json") {
    throw new ApiProblem(415, "Unsupported media type", UNSUPPORTED);
  }
  const text = await request.text();
  if (isCsv) {
    const csv = parseProxyRoutesCsv(text);
    if (csv.errors.length > 0) {
      throw new ApiProblem(
        422,
        "Invalid CSV",
        "Nothing was imported: fix every listed line and send the whole file again.",
        csv.errors,
      );
    }
    return {
      format: "proxy_routes.csv",
      routes: csv.routes,
      settings: undefined,
      warnings: csv.warnings,
      fieldName: (f) => csvField(f, csv.lines),
      rowName: (i) => `line ${csv.lines[i] ?? "?"}`,
    };
  }
  if (type !== "application/json") throw new ApiProblem(415, "Unsupported media type", UNSUPPORTED);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw badRequest(`The body is not JSON: ${err instanceof Error ? err.message.slice(0, 200) : "parse error"}`);
  }
  const shape = RoutesJsonShape.safeParse(json);
  if (!shape.success)
    throw new ApiProblem(422, "Invalid fields", "The body is not a routes.json table.", zodErrors(shape.error));
  return {
    format: "routes.json",
    routes: shape.data.routes,
    settings: shape.data.settings === undefined ? undefined : settingsOfInput(shape.data.settings),
    warnings: [],
    fieldName: (f) => f,
    rowName: (i) => `routes.${i}`,
  };
}

/**
 * A warning per migrated or rollout row whose routability is not `routable`
 * (table/routability.ts: its usual callbacks are not all identified): those
 * callbacks follow affinity, then the unknown policy — not the row's state.
 * Worded `{row} ({connection}): {state}, {level} — {reason}; fix: {fix}` with the
 * same level word as coverage, GET /routes/{c}, evaluate and the dashboard.
 */
async function routabilityWarnings(parsed: Parsed, router: RouterApi): Promise<string[]> {
  const rows: Array<{ i: number; state: string; question: RoutabilityQuestion }> = [];
  parsed.routes.forEach((raw, i) => {
    const state = raw["state"];
    if (state !== "migrated" && state !== "rollout") return;
    const protocol = Protocol.safeParse(raw["protocol"]);
    if (raw["protocol"] !== undefined && !protocol.success) return; // refused by validation anyway
    rows.push({
      i,
      state,
      question: {
        connection: String(raw["connection"]),
        protocol: protocol.success ? protocol.data : undefined,
        match: raw["match"] as Record<string, string> | undefined,
      },
    });
  });
  if (rows.length === 0) return [];
  // The router's routability (src/router-rpc.ts), in one call for the whole file.
  const answers = await askRouter(() => router.routability(rows.map((r) => r.question)));
  return rows.flatMap(({ i, state, question }, n) => {
    const routability = answers[n];
    if (routability === undefined || routability.level === "routable") return [];
    return [
      `${parsed.rowName(i)} (${question.connection}): ${state}, ${routability.level} — ${routability.reason}${routability.fix === undefined ? "" : `; fix: ${routability.fix}`}`,
    ];
  });
}

export function registerTableRoutes(app: AdminApp): void {
  // Documented with its two body formats, but parsed here (not by the JSON
  // validator), since the body may be CSV.
  app.openAPIRegistry.registerPath(
    createRoute({
      method: "post",
      path: "/import",
      summary:
        "Import routes.json, WorkOS' proxy_routes.csv, or WorkOS' whole sso/ package (all or nothing; dryRun=true for the diff)",
      request: {
        query: ImportQuery,
        body: {
          required: true,
          content: {
            "application/json": { schema: TableFileSchema },
            "text/csv": { schema: z.string().meta({ description: "WorkOS sso/proxy_routes.csv as exported" }) },
            "multipart/form-data": {
              schema: z
                .object({
                  "proxy_routes.csv": z.string(),
                  "saml_connections.csv": z.string().optional(),
                  "oidc_connections.csv": z.string().optional(),
                  "warnings.jsonl": z.string().optional(),
                })
                .meta({ description: "WorkOS' migration package: the sso/ files and warnings.jsonl, as exported" }),
            },
          },
        },
      },
      responses: {
        200: {
          description: "What changed (or would change)",
          content: { "application/json": { schema: ImportResultSchema } },
        },
        413: problemResponses[400],
        415: problemResponses[400],
        ...problemResponses,
      },
    }),
  );
  app.post("/import", async (c) => {
    const principal = c.get("principal");
    requireScope(principal, "routes:write");
    const parsedQuery = ImportQuery.safeParse(c.req.query());
    if (!parsedQuery.success) throw badRequest("The query has invalid fields.", zodErrors(parsedQuery.error, "query"));
    const query = parsedQuery.data;
    // c.req, not c.req.raw: the JSON depth check has already read (and kept) the text.
    const parsed = await parseImport(c.req);
    const dryRun = query.dryRun === "true";
    const result = await writerOf(c.env).importTable(
      { routes: parsed.routes as RouteInput[], settings: parsed.settings, replace: query.mode === "replace" },
      { actor: principal.actor, dryRun },
    );
    if (!result.ok) {
      const errors: FieldError[] = (result.errors ?? []).map((e) => ({ ...e, field: parsed.fieldName(e.field) }));
      throw new ApiProblem(result.status, result.title, result.detail, errors);
    }
    const { value, kvPending } = unwrap(result);
    return c.json(
      {
        dryRun,
        mode: query.mode,
        format: parsed.format,
        diff: value,
        warnings: [...parsed.warnings, ...(await routabilityWarnings(parsed, routerOf(c.env)))],
        ...(parsed.derived === undefined ? {} : { derived: parsed.derived }),
        kvPending,
      },
      200,
    );
  });

  app.openapi(
    createRoute({
      method: "get",
      path: "/export",
      summary: "The whole table as routes.json (imports back unchanged)",
      responses: {
        200: { description: "routes.json", content: { "application/json": { schema: TableFileSchema } } },
        ...problemResponses,
      },
    }),
    async (c) => {
      requireScope(c.get("principal"), "routes:read");
      const table = await writerOf(c.env).exportTable();
      c.header("content-disposition", 'attachment; filename="routes.json"');
      return c.json({ settings: table.settings, routes: table.routes }, 200);
    },
  );
}
