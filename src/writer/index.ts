/**
 * src/writer: every change to the route table. The RouteTableWriter Durable
 * Object applies them (check → one transaction → audit → flush to KV); the
 * Worker side reaches it through `writerOf` and gets `Result` values back.
 * The import plan and the WorkOS sync plans are checked here too, against the
 * table as it is when they are applied. src/sync only talks to WorkOS;
 * src/admin only translates HTTP into these calls.
 */
export type { AuditEntry } from "./audit-log";
export type { ImportDiff } from "./diff";
export { RouteTableWriter } from "./durable-object";
export { writerOf, type Writer } from "./handle";
export type { ImportPlan } from "./import-plan";
export type { RoutePatch, SettingsPatch } from "./patch";
export { syncConnections, syncFlags } from "./provider-sync";
export type { Failure, Result, DryRunOptions, WriteOptions } from "./result";
export { runScheduledSync, SCHEDULED_ACTOR } from "./scheduled-sync";
export { ConnectionsSyncReport, FlagSyncReport } from "./sync-reports";
export type { LeverTimes, RouteFilter, StateSince, VersionedSettings } from "./table-db";
