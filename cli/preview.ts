/**
 * A dry run's answer in words (`set … --dry-run`): per
 * connection, the router's decision for each callback shape before → after, the
 * routability, and the logins of the last 24 h that would have gone elsewhere.
 * The shapes are the API's (ConnectionPreview, RoutePreview).
 */
import type { Json } from "./client";

interface Side {
  destination: string;
  reason: string;
}

interface ConnectionPreview {
  connection: string;
  before: Side;
  after: Side;
  callbacks: Array<{ shape: string; usual: boolean; before?: Side; after?: Side; changes: boolean }>;
  routability: { before: { level: string } | null; after: { level: string } | null };
  last24h: { logins: number; wouldMove: number; basis: string };
}

const side = (s: Side | undefined): string => (s === undefined ? "(none)" : `${s.destination} (${s.reason})`);

function connectionLines(p: ConnectionPreview): string[] {
  const level = (r: { level: string } | null) => r?.level ?? "(no route)";
  const routability =
    level(p.routability.before) === level(p.routability.after)
      ? level(p.routability.after)
      : `${level(p.routability.before)} → ${level(p.routability.after)}`;
  return [
    `${p.connection}: ${side(p.before)} → ${side(p.after)}; routability ${routability}`,
    ...p.callbacks.map(
      (c) =>
        `  ${c.shape}${c.usual ? "" : " (some IdPs)"}: ${c.changes ? `${side(c.before)} → ${side(c.after)}` : `${side(c.after)}, unchanged`}`,
    ),
    `  last 24 h: ${p.last24h.logins} login(s); ${p.last24h.wouldMove} would have gone elsewhere (${p.last24h.basis})`,
  ];
}

/** PATCH /routes/{c}?dryRun=true's answer. */
export function describeRoutePreview(json: Json): string {
  const changes = (json["changes"] as string[] | undefined) ?? [];
  const preview = json["preview"] as ConnectionPreview | null | undefined;
  return [
    `dry run (nothing written): ${changes.length === 0 ? "no change" : `would change ${changes.join(", ")}`}`,
    ...(preview === null || preview === undefined ? [] : connectionLines(preview)),
  ].join("\n");
}

/** PUT /settings?dryRun=true's and PUT /rollout?dryRun=true's answer (SettingsPreview). */
export function describeSettingsPreview(json: Json): string {
  const changes = (json["changes"] as string[] | undefined) ?? [];
  const connections = (json["connections"] as ConnectionPreview[] | undefined) ?? [];
  const notInTable = json["notInTable"] as ConnectionPreview | undefined;
  const unidentified = json["unidentified"] as ConnectionPreview | undefined;
  const notListed = (json["notListed"] as { connections: number; logins: number } | undefined) ?? {
    connections: 0,
    logins: 0,
  };
  const moving = connections.filter((p) => p.callbacks.some((c) => c.changes));
  const unknownMoves = notInTable?.callbacks.some((c) => c.changes) === true;
  const unidentifiedMoves = unidentified?.callbacks.some((c) => c.changes) === true;
  return [
    `dry run (nothing written): ${changes.length === 0 ? "no change" : `would change ${changes.join(", ")}`}`,
    `${connections.length} connection(s) decided before and after: ${moving.length} change, ${String(json["wouldMove"] ?? 0)} login(s) of the last 24 h would have gone elsewhere`,
    ...moving.flatMap(connectionLines),
    ...(unknownMoves && notInTable !== undefined
      ? connectionLines({ ...notInTable, connection: "connections not in the table" })
      : []),
    ...(unidentifiedMoves && unidentified !== undefined
      ? connectionLines({ ...unidentified, connection: "logins no connection was identified for (unidentified)" })
      : []),
    ...(connections.length > moving.length
      ? [`${connections.length - moving.length} other connection(s): unchanged`]
      : []),
    ...(notListed.connections > 0
      ? [`${notListed.connections} more connection(s) not decided (${notListed.logins} login(s) in the last 24 h)`]
      : []),
  ].join("\n");
}
