/**
 * A rehearsal's answer in words (`rehearse <file>`, and `--rehearse` on the dry runs of push,
 * set, settings and rollout): per connection, the recorded logins replayed under the change,
 * how many would go elsewhere, where, and how many could not be served. The shape is the
 * API's (POST /rehearse, src/admin/rehearse.ts).
 */
import { UsageError } from "./args";
import type { Json } from "./client";
import type { Context } from "./command";

export const rehearseOption = {
  type: "boolean",
  description:
    "with --dry-run: also replay the logins recorded in the last 7 days under the change (POST /rehearse): which would move, where, which would be stranded",
} as const;

/** --rehearse without --dry-run is a mistake on the command line: refused before anything is sent. */
export function checkRehearse(ctx: Pick<Context, "flag">): void {
  if (ctx.flag("rehearse") && !ctx.flag("dry-run")) throw new UsageError("--rehearse goes with --dry-run");
}

interface ConnectionRehearsal {
  connection: string;
  logins: number;
  changed: number;
  to: Record<string, number>;
  stranded: number;
  strandedNow: number;
  strandedWhy: string[];
}

const counts = (to: Record<string, number>): string =>
  Object.entries(to)
    .map(([d, n]) => `${n} to ${d}`)
    .join(", ");

/** POST /rehearse's answer, one line per connection that has logins, the totals last. */
export function describeRehearsal(json: Json): string {
  const window = json["window"] as { since: string; until: string };
  const connections = (json["connections"] as ConnectionRehearsal[] | undefined) ?? [];
  const totals = json["totals"] as Omit<ConnectionRehearsal, "connection" | "strandedWhy">;
  return [
    `rehearsal (nothing written) of the logins recorded ${window.since} – ${window.until}:`,
    ...(connections.length === 0 ? ["  no logins recorded in the window"] : []),
    ...connections.flatMap((c) => [
      `  ${c.connection}: ${c.logins} login(s); ${c.changed === 0 ? "none would move" : `${c.changed} would move (${counts(c.to)})`}; ${c.stranded} stranded (now ${c.strandedNow})`,
      ...c.strandedWhy.map((w) => `    stranded: ${w}`),
    ]),
    `  total: ${totals.logins} login(s); ${totals.changed} would move${totals.changed === 0 ? "" : ` (${counts(totals.to)})`}; ${totals.stranded} stranded (now ${totals.strandedNow})`,
  ].join("\n");
}

/** Asks POST /rehearse about `table` (routes.json form, merged), in `window` (default 7d). */
export async function rehearseTable(ctx: Context, table: unknown, window?: string): Promise<Json> {
  const { json } = await ctx.api.send("POST", "/rehearse", window === undefined ? { table } : { table, window });
  return json;
}

/**
 * Prints a dry run's answer, and with --rehearse the rehearsal of the same change after it
 * (`--json`: `{ dryRun, rehearsal }`).
 */
export async function printDryRun(
  ctx: Context,
  dryRun: Json,
  describe: (json: Json) => string,
  table: () => unknown,
): Promise<void> {
  if (!ctx.flag("rehearse")) return ctx.print(dryRun, () => describe(dryRun));
  const rehearsal = await rehearseTable(ctx, table());
  ctx.print({ dryRun, rehearsal }, () => `${describe(dryRun)}\n${describeRehearsal(rehearsal)}`);
}
