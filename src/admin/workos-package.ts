/**
 * WorkOS' whole migration package (`workos migrations export-auth0 --package
 * --entities sso`) as one import: `sso/proxy_routes.csv` joined on `externalId`
 * (the Auth0 connection name) with `sso/saml_connections.csv` and
 * `sso/oidc_connections.csv`, plus `warnings.jsonl` for what the CSVs lose.
 *
 * Derived, and listed value by value in `derived`:
 *   match.idpEntityId  saml_connections.idpEntityId. The exporter fills that column from
 *                      Auth0's `options.entityId` or `options.issuer`, and `entityId` is
 *                      Auth0's custom SP entity ID — so the value also becomes
 *                      match.spEntityId (an Issuer or an Audience equal to it names this
 *                      connection; an import refuses a value two routes claim).
 *   match.spEntityId   saml_connections.customEntityId when it is not Auth0's default.
 *   match.oidcIssuer   the issuer whose discovery document `discoveryEndpoint` is (OpenID
 *                      Connect Discovery 1.0 §4: issuer + "/.well-known/openid-configuration").
 *                      Not for Microsoft (the URL names a tenant domain or alias, the issuer
 *                      the tenant id) unless the URL names the tenant id; never for Google
 *                      (https://accounts.google.com is every Google customer's issuer).
 *   protocol           waad / okta / google-apps from the discovery host, else oidc.
 *   organization(s)    from warnings.jsonl `multi_org_connection_consolidated`
 *                      (details.sourceOrganizationIds) where the CSV holds the `con_` id.
 */
import { readCsv } from "./csv";
import { isConnectionId, parseProxyRoutesCsv, type CsvRows } from "./proxy-routes-csv";

export interface PackageFiles {
  proxyRoutes: string;
  samlConnections?: string | undefined;
  oidcConnections?: string | undefined;
  warnings?: string | undefined;
}

export interface Derived {
  connection: string;
  field: string;
  value: unknown;
  from: string;
}

export interface PackageRows extends CsvRows {
  derived: Derived[];
}

/** File names as the package writes them (multipart field names of POST /import). */
export const PACKAGE_FILES = {
  proxyRoutes: "proxy_routes.csv",
  samlConnections: "saml_connections.csv",
  oidcConnections: "oidc_connections.csv",
  warnings: "warnings.jsonl",
} as const;

export function parseWorkosPackage(files: PackageFiles): PackageRows {
  const rows = parseProxyRoutesCsv(files.proxyRoutes);
  const out: PackageRows = { ...rows, derived: [] };
  if (rows.errors.length > 0) {
    out.errors = rows.errors.map((e) => ({ ...e, field: `${PACKAGE_FILES.proxyRoutes} ${e.field}` }));
    return out;
  }
  const byName = new Map(rows.routes.map((r, i) => [String(r["connection"]), { route: r, line: rows.lines[i] ?? 0 }]));
  const derive = (connection: string, field: string, value: unknown, from: string) =>
    out.derived.push({ connection, field, value, from });
  const match = (route: Record<string, unknown>): Record<string, string> =>
    (route["match"] ??= {}) as Record<string, string>;

  for (const [name, file] of [
    [PACKAGE_FILES.samlConnections, files.samlConnections],
    [PACKAGE_FILES.oidcConnections, files.oidcConnections],
  ] as const) {
    if (file === undefined) continue;
    const read = readCsv(file);
    if (!read.ok) {
      out.errors.push({ field: `${name}${read.line === undefined ? "" : ` line ${read.line}`}`, reason: read.reason });
      continue;
    }
    if (!read.header.includes("externalId")) {
      out.errors.push({ field: `${name} (header).externalId`, reason: "column is missing" });
      continue;
    }
    for (const { cells, line } of read.records) {
      const cell = (column: string): string | undefined => {
        const value = cells[column]?.trim();
        return value === undefined || value === "" ? undefined : value;
      };
      const connection = cell("externalId") ?? "";
      const entry = byName.get(connection);
      const where = `${name} line ${line}`;
      if (entry === undefined) {
        out.warnings.push(`${where} (${connection}): no row in proxy_routes.csv; ignored`);
        continue;
      }
      const route = entry.route;
      if (name === PACKAGE_FILES.samlConnections) {
        const idp = cell("idpEntityId");
        if (idp !== undefined) {
          match(route)["idpEntityId"] = idp;
          derive(connection, "match.idpEntityId", idp, `${where} idpEntityId`);
          const sp = (route["match"] as Record<string, string>)["spEntityId"];
          if (sp === undefined) {
            match(route)["spEntityId"] = idp;
            derive(
              connection,
              "match.spEntityId",
              idp,
              `${where} idpEntityId (Auth0's options.entityId is the SP entity ID)`,
            );
          }
        }
        const custom = cell("customEntityId");
        if (custom !== undefined && custom !== (route["match"] as Record<string, string> | undefined)?.["spEntityId"]) {
          match(route)["spEntityId"] = custom;
          derive(connection, "match.spEntityId", custom, `${where} customEntityId`);
        }
      } else {
        const discovery = cell("discoveryEndpoint");
        if (discovery === undefined) {
          out.warnings.push(`${where} (${connection}): no discoveryEndpoint; no issuer derived`);
          continue;
        }
        const issuer = issuerOf(discovery);
        if (issuer.protocol !== "oidc") {
          route["protocol"] = issuer.protocol;
          derive(connection, "protocol", issuer.protocol, `${where} discoveryEndpoint host`);
        }
        if (issuer.issuer !== undefined) {
          match(route)["oidcIssuer"] = issuer.issuer;
          derive(connection, "match.oidcIssuer", issuer.issuer, `${where} discoveryEndpoint`);
        }
        if (issuer.warning !== undefined) out.warnings.push(`${where} (${connection}): ${issuer.warning}`);
      }
    }
  }

  if (files.warnings !== undefined) readExportWarnings(files.warnings, byName, out, derive);
  return out;
}

function readExportWarnings(
  text: string,
  byName: Map<string, { route: Record<string, unknown>; line: number }>,
  out: PackageRows,
  derive: (connection: string, field: string, value: unknown, from: string) => void,
): void {
  const skipped: string[] = [];
  text.split(/\r\n|\n|\r/).forEach((raw, i) => {
    if (raw.trim() === "") return;
    let entry: {
      code?: unknown;
      connection_name?: unknown;
      protocol?: unknown;
      details?: { sourceOrganizationIds?: unknown; strategy?: unknown };
    };
    try {
      entry = JSON.parse(raw) as typeof entry;
    } catch {
      out.errors.push({ field: `${PACKAGE_FILES.warnings} line ${i + 1}`, reason: "not a JSON object" });
      return;
    }
    const connection = typeof entry.connection_name === "string" ? entry.connection_name : undefined;
    if (connection === undefined) return;
    if (entry.code === "multi_org_connection_consolidated") {
      const ids = entry.details?.sourceOrganizationIds;
      const target = byName.get(connection);
      if (target === undefined || !Array.isArray(ids)) return;
      const organizations = ids.filter(
        (id): id is string => typeof id === "string" && id !== "" && !isConnectionId(id),
      );
      if (organizations.length === 0) return;
      // proxy_routes.csv's row said "imported without an organization"; it no longer is.
      out.warnings = out.warnings.filter((w) => !w.includes(`(${connection}): organizationExternalId `));
      const from = `${PACKAGE_FILES.warnings} line ${i + 1} details.sourceOrganizationIds`;
      target.route["organization"] = organizations[0];
      derive(connection, "organization", organizations[0], `${from} (the first keys the rollout bucket)`);
      if (organizations.length > 1) {
        target.route["organizations"] = organizations;
        derive(connection, "organizations", organizations, from);
      }
    } else if (
      (entry.code === "incomplete_connection_configuration" || entry.code === "unsupported_connection_protocol") &&
      !byName.has(connection)
    ) {
      const strategy = typeof entry.details?.strategy === "string" ? entry.details.strategy : String(entry.protocol);
      skipped.push(`${connection} (${strategy})`);
    }
  });
  if (skipped.length > 0) {
    out.warnings.push(
      `not in the package, so not in the table: ${skipped.join(", ")} — their IdPs still call Auth0; without a route their callbacks get affinity, then the unknown policy`,
    );
  }
}

const DISCOVERY_SUFFIX = "/.well-known/openid-configuration";
const MICROSOFT_HOSTS = new Set([
  "login.microsoftonline.com",
  "login.microsoftonline.us",
  "login.partner.microsoftonline.cn",
]);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The issuer of an OIDC discovery URL, where that is reliable, and the Auth0 strategy its host implies. */
export function issuerOf(discoveryEndpoint: string): {
  issuer?: string;
  protocol: "oidc" | "waad" | "okta" | "google-apps";
  warning?: string;
} {
  let url: URL;
  try {
    url = new URL(discoveryEndpoint);
  } catch {
    return { protocol: "oidc", warning: `discoveryEndpoint "${discoveryEndpoint}" is not a URL; no issuer derived` };
  }
  const host = url.hostname.toLowerCase();
  if (host === "accounts.google.com") {
    return {
      protocol: "google-apps",
      warning:
        "https://accounts.google.com is every Google customer's issuer (and Google social login's): it cannot name this connection; no issuer set",
    };
  }
  if (!url.pathname.endsWith(DISCOVERY_SUFFIX) || url.search !== "" || url.protocol !== "https:") {
    return {
      protocol: "oidc",
      warning: `discoveryEndpoint is not https://{issuer}${DISCOVERY_SUFFIX}; no issuer derived (set match.oidcIssuer from the document's "issuer")`,
    };
  }
  const issuer = `${url.origin}${url.pathname.slice(0, -DISCOVERY_SUFFIX.length)}`;
  if (MICROSOFT_HOSTS.has(host)) {
    const [tenant, version] = url.pathname.split("/").filter((p) => p !== "");
    if (tenant !== undefined && GUID.test(tenant)) return { issuer, protocol: "waad" };
    return {
      protocol: "waad",
      warning: `Microsoft's issuer names the tenant id (https://login.microsoftonline.com/{tenant-id}${version === "v2.0" ? "/v2.0" : ""}), the discovery URL names "${tenant ?? ""}": no issuer guessed — set match.oidcIssuer from the discovery document's "issuer"`,
    };
  }
  const okta = host.split(".").some((label) => label === "okta" || label === "oktapreview" || label === "okta-emea");
  return { issuer, protocol: okta ? "okta" : "oidc" };
}
