/**
 * WorkOS' migration package writes sso/proxy_routes.csv; operators load it as
 * it is. This turns its rows into route inputs (validated later, with the rest
 * of the import) and says, per line, what it could not map.
 *
 * cutoverState: legacy → legacy, workos → migrated, manual → legacy (warned:
 * a manual cut-over is the operator's call, never the router's).
 */
import { connectionFromAudience } from "../callback/identify";
import type { FieldError } from "../table/validate";
import { readCsv } from "./csv";

export const PROXY_ROUTES_COLUMNS = [
  "externalId",
  "organizationExternalId",
  "provider",
  "protocol",
  "sourceAcsUrl",
  "sourceEntityId",
  "sourceRedirectUri",
  "customAcsUrl",
  "customEntityId",
  "customRedirectUri",
  "workosConnectionId",
  "workosAcsUrl",
  "cutoverState",
  "notes",
] as const;

const REQUIRED = ["externalId", "cutoverState"] as const;

/** Route field → the CSV column it came from, to name columns in errors. */
export const COLUMN_OF_FIELD: Record<string, string> = {
  connection: "externalId",
  organization: "organizationExternalId",
  protocol: "protocol",
  state: "cutoverState",
  target: "workosAcsUrl",
  "match.spEntityId": "customEntityId",
  providerConnectionId: "workosConnectionId",
  note: "notes",
};

export interface CsvRows {
  /** Raw route objects, one per data row, in file order. */
  routes: Array<Record<string, unknown>>;
  /** The physical CSV line each route's record starts on (1-based, header = line 1). */
  lines: number[];
  errors: FieldError[];
  warnings: string[];
}

const PROTOCOLS: Record<string, string> = {
  saml: "samlp",
  samlp: "samlp",
  oidc: "oidc",
  openid: "oidc",
  "openid-connect": "oidc",
  okta: "okta",
  waad: "waad",
  azuread: "waad",
  adfs: "adfs",
  wsfed: "adfs",
  "ws-fed": "adfs",
  "ws-federation": "adfs",
};

export function parseProxyRoutesCsv(text: string): CsvRows {
  const out: CsvRows = { routes: [], lines: [], errors: [], warnings: [] };
  const read = readCsv(text);
  if (!read.ok) {
    out.errors.push({ field: read.line === undefined ? "(csv)" : `line ${read.line}`, reason: read.reason });
    return out;
  }
  const { header, records } = read;
  if (records.length === 0) {
    out.errors.push({ field: "(csv)", reason: "no data rows (a header line and one row per connection are expected)" });
    return out;
  }
  for (const column of REQUIRED) {
    if (!header.includes(column)) out.errors.push({ field: `(header).${column}`, reason: "column is missing" });
  }
  const unknown = header.filter((h) => !(PROXY_ROUTES_COLUMNS as readonly string[]).includes(h));
  if (unknown.length > 0) out.warnings.push(`ignored unknown column(s): ${unknown.join(", ")}`);
  if (out.errors.length > 0) return out;

  for (const { cells, line } of records) {
    const cell = (name: string): string | undefined => {
      const value = cells[name]?.trim();
      return value === undefined || value === "" ? undefined : value;
    };
    const connection = cell("externalId") ?? "";
    const route: Record<string, unknown> = { connection };

    const organization = cell("organizationExternalId");
    if (organization !== undefined && isConnectionId(organization)) {
      // WorkOS' exporter writes the connection's own id when it has no organization, or several.
      out.warnings.push(
        `line ${line} (${connection}): organizationExternalId ${organization} is the Auth0 connection id (no organization, or several — warnings.jsonl lists them): imported without an organization`,
      );
    } else if (organization !== undefined) route["organization"] = organization;

    const protocol = cell("protocol");
    if (protocol !== undefined) {
      const mapped = PROTOCOLS[protocol.toLowerCase()];
      if (mapped === undefined)
        out.warnings.push(`line ${line} (${connection}): protocol "${protocol}" recorded as "other"`);
      route["protocol"] = mapped ?? "other";
    }

    const state = cell("cutoverState")?.toLowerCase();
    if (state === "legacy") route["state"] = "legacy";
    else if (state === "workos") route["state"] = "migrated";
    else if (state === "manual") {
      route["state"] = "legacy";
      out.warnings.push(
        `line ${line} (${connection}): cutoverState "manual" imported as legacy; migrate it yourself when ready`,
      );
    } else {
      out.errors.push({
        field: `line ${line}.cutoverState`,
        reason: `must be legacy, workos or manual, got "${cell("cutoverState") ?? ""}"`,
      });
    }

    const target = cell("workosAcsUrl");
    if (target !== undefined) route["target"] = target;
    else if (route["state"] === "migrated") {
      out.warnings.push(`line ${line} (${connection}): no workosAcsUrl; settings.defaultTarget will be used`);
    }

    // A custom SP entity ID means the IdP's Audience is not urn:auth0:{tenant}:{connection}.
    const spEntityId = cell("customEntityId") ?? nonDefaultEntityId(cell("sourceEntityId"), connection);
    if (spEntityId !== undefined) route["match"] = { spEntityId };

    const providerConnectionId = cell("workosConnectionId");
    if (providerConnectionId !== undefined) route["providerConnectionId"] = providerConnectionId;

    const note = cell("notes");
    if (note !== undefined) route["note"] = note;

    out.routes.push(route);
    out.lines.push(line);
  }
  return out;
}

/** Auth0 connection ids (`con_…`), which the exporter puts where an organization id (`org_…`) goes. */
export function isConnectionId(value: string): boolean {
  return /^con_[A-Za-z0-9]+$/.test(value);
}

/** Auth0's default entity ID (urn:auth0:{tenant}:{connection}) needs no match entry; any other does. */
function nonDefaultEntityId(entityId: string | undefined, connection: string): string | undefined {
  if (entityId === undefined) return undefined;
  return connectionFromAudience(entityId, undefined) === connection ? undefined : entityId;
}

/** Renames `routes.3.target` to `line 5.workosAcsUrl` for errors about CSV rows. */
export function csvField(field: string, lines: number[]): string {
  const m = /^routes\.(\d+)\.?(.*)$/.exec(field);
  if (m === null) return field;
  const line = lines[Number(m[1])];
  const rest = m[2] ?? "";
  const column = COLUMN_OF_FIELD[rest] ?? COLUMN_OF_FIELD[rest.split(".")[0] ?? ""] ?? rest;
  return line === undefined ? field : `line ${line}${column === "" ? "" : `.${column}`}`;
}
