/**
 * The Worker's handle on the RouteTableWriter Durable Object: one instance,
 * named "route-table", serializes every change. Callers get Result values
 * back over RPC (writer/result.ts).
 */
import type { Env } from "../env";

export function writerOf(env: Env) {
  return env.ROUTE_WRITER.get(env.ROUTE_WRITER.idFromName("route-table"));
}

export type Writer = ReturnType<typeof writerOf>;
