/**
 * How the route table is laid out in Workers KV (see docs/storage.md).
 *
 *   settings                 -> Settings JSON
 *   route:{connection}       -> Route JSON
 *   match:sp:{spEntityId}    -> connection name   (SAML Audience / SP entity ID)
 *   match:idp:{idpEntityId}  -> connection name   (SAML Issuer, WS-Fed Issuer attribute)
 *   match:oidc:{issuer}      -> connection name   (OIDC `iss`)
 *   org:{organization}       -> JSON array of connection names (for /evaluate?organization=)
 *
 * Every lookup on the callback path is one `get` of one key, so its cost does
 * not depend on how many routes the table holds.
 */
import { type MatchKind, matchesOf } from "./matches";
import {
  DEFAULT_SETTINGS,
  organizationsOf,
  type Route,
  type RouteInput,
  type RouteTableFile,
  Settings,
  settingsOfInput,
} from "./schema";

export const SETTINGS_KEY = "settings";
export const ROUTE_PREFIX = "route:";
export const MATCH_PREFIX = "match:";
export const ORG_PREFIX = "org:";

export function orgKey(organization: string): string {
  return `${ORG_PREFIX}${organization}`;
}

export function routeKey(connection: string): string {
  return `${ROUTE_PREFIX}${connection}`;
}

export type { MatchKind };

export function matchKey(kind: MatchKind, value: string): string {
  return `${MATCH_PREFIX}${kind}:${value}`;
}

export function settingsFromFile(file: Pick<RouteTableFile, "settings">): Settings {
  return Settings.parse({ ...DEFAULT_SETTINGS, ...settingsOfInput(file.settings ?? {}) });
}

export function routeFromInput(input: RouteInput, version: number, updatedAt: string): Route {
  return { ...input, version, updatedAt };
}

/** Every KV entry a whole table needs (used to seed local/dev KV and by bulk loads). */
export function tableToKvEntries(file: RouteTableFile, updatedAt: string): Array<{ key: string; value: string }> {
  const entries: Array<{ key: string; value: string }> = [
    { key: SETTINGS_KEY, value: JSON.stringify(settingsFromFile(file)) },
  ];
  for (const input of file.routes) {
    const { organizations: _organizations, ...routed } = input;
    entries.push({ key: routeKey(input.connection), value: JSON.stringify(routeFromInput(routed, 1, updatedAt)) });
    for (const [kind, value] of matchesOf(input)) {
      entries.push({ key: matchKey(kind, value), value: input.connection });
    }
  }
  const byOrg = new Map<string, string[]>();
  for (const input of file.routes) {
    for (const organization of organizationsOf(input)) {
      byOrg.set(organization, [...(byOrg.get(organization) ?? []), input.connection]);
    }
  }
  for (const [organization, connections] of byOrg) {
    entries.push({ key: orgKey(organization), value: JSON.stringify(connections.sort()) });
  }
  return entries;
}

/**
 * `metadata:{connection}` → the SP metadata document Auth0 published for a SAML connection,
 * as its bytes, snapshotted before retirement (src/admin/metadata-api.ts) and served by the
 * retired router (src/retired/answer.ts). KV metadata: MetadataSnapshotInfo.
 */
export const METADATA_PREFIX = "metadata:";

export function metadataKey(connection: string): string {
  return `${METADATA_PREFIX}${connection}`;
}

/** What a snapshot's KV entry carries beside its bytes. */
export interface MetadataSnapshotInfo {
  /** SHA-256 of the bytes, hex. */
  sha256: string;
  bytes: number;
  /** When it was taken (ISO). */
  storedAt: string;
  /** The document's entityID. */
  entityId: string;
}

/** The content type a SAML metadata document is served with (RFC 6838 registration, SAML metadata §4.1.1). */
export const SAML_METADATA_CONTENT_TYPE = "application/samlmetadata+xml";
