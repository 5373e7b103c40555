/**
 * The provider fields of a route (providerState, providerOrganizationId,
 * providerSyncedAt) are facts the sync reads from the provider, not operator
 * input. If a client could write them, `requireActive` would check a value the
 * client chose; so every operator write takes them from the stored route, and
 * only the sync changes them.
 */
import { providerSettingsOf, type RouteInput, type Settings } from "../table/schema";

export const SYNCED_FIELDS = ["providerState", "providerOrganizationId", "providerSyncedAt"] as const;

/**
 * `input` with the synced fields of `stored`, while both name the same provider
 * connection; a different (or removed) providerConnectionId drops them, since
 * they described the old connection. Values in `input` itself are ignored.
 */
export function keepSyncedFields(input: RouteInput, stored: RouteInput | null): RouteInput {
  const out: RouteInput = { ...input };
  for (const field of SYNCED_FIELDS) delete out[field];
  if (stored === null || stored.providerConnectionId === undefined) return out;
  if (stored.providerConnectionId !== input.providerConnectionId) return out;
  if (stored.providerState !== undefined) out.providerState = stored.providerState;
  if (stored.providerOrganizationId !== undefined) out.providerOrganizationId = stored.providerOrganizationId;
  if (stored.providerSyncedAt !== undefined) out.providerSyncedAt = stored.providerSyncedAt;
  return out;
}

/** Why `route` may not be written under settings.provider.requireActive, or null when it may. */
export function inactiveReason(route: RouteInput, settings: Settings): string | null {
  if (!providerSettingsOf(settings).requireActive) return null;
  if (route.state !== "migrated" || route.providerState === "active") return null;
  if (route.providerState === undefined) {
    return `settings.provider.requireActive is on and "${route.connection}" has no known provider connection state: link it (providerConnectionId) and run POST /sync/workos first`;
  }
  return `settings.provider.requireActive is on and the provider connection of "${route.connection}" is ${route.providerState}, not active`;
}
