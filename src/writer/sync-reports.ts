/**
 * What the provider syncs report, as zod schemas: the API documents them in
 * OpenAPI and the planners build values of exactly these types.
 */
import * as z from "zod";
import { ProviderState, Rollout, RouteState } from "../table/schema";

export const ConnectionsSyncReport = z
  .object({
    dryRun: z.boolean(),
    /** How many connections the provider listed. */
    providerConnections: z.number().int(),
    updated: z.array(z.object({ connection: z.string(), fields: z.array(z.string()) })),
    unchanged: z.array(z.string()),
    migrated: z
      .array(z.string())
      .meta({ description: "Legacy routes marked migrated because their provider connection is active (autoMigrate)" }),
    unmatchedProviderConnections: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        state: ProviderState,
        organizationId: z.string().nullable(),
        reason: z.string(),
      }),
    ),
    routesWithoutProviderConnection: z.array(
      z.object({ connection: z.string(), state: RouteState, reason: z.string() }),
    ),
    flagged: z
      .array(
        z.object({
          connection: z.string(),
          state: RouteState,
          providerConnectionId: z.string().nullable(),
          providerState: ProviderState.nullable(),
          severity: z.enum(["critical", "warning"]),
          reason: z.string(),
        }),
      )
      .meta({
        description:
          "Routes whose provider connection is missing or not active; critical when callbacks may go to the provider (migrated, rollout)",
      }),
  })
  .meta({ id: "ConnectionsSyncReport" });
export type ConnectionsSyncReport = z.infer<typeof ConnectionsSyncReport>;

const ListChange = z.object({ added: z.array(z.string()), removed: z.array(z.string()) });

export const FlagSyncReport = z
  .object({
    dryRun: z.boolean(),
    flag: z.string(),
    /** The flag's own switch at the provider (off there = off for every organization). */
    flagEnabled: z.boolean(),
    defaultValue: z.boolean(),
    changed: z.boolean(),
    /** The rollout flag as it is (dryRun: as it would be) after the mirror. */
    rollout: Rollout,
    include: ListChange,
    exclude: ListChange,
    unknownOrganizations: z
      .array(z.string())
      .meta({ description: "Targeted provider organization ids no route's providerOrganizationId names" }),
    conflicts: z
      .array(z.string())
      .meta({ description: "Values both enabled and disabled by different provider organizations: excluded" }),
    warnings: z.array(z.string()),
  })
  .meta({ id: "FlagSyncReport" });
export type FlagSyncReport = z.infer<typeof FlagSyncReport>;
