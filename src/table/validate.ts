/**
 * Checks a route or settings for writing, beyond the schema: targets must be
 * usable by the router (https / allow-listed), so nothing is stored that the
 * router would refuse at read time. Errors name the field and the reason.
 */
import type * as z from "zod";
import type { Config } from "../config";
import { checkTarget } from "../targets";
import { organizationsProblem, RouteInput, RouteInputKeepingNote, Settings } from "./schema";

export interface FieldError {
  field: string;
  reason: string;
}

type TargetConfig = Pick<Config, "environment" | "allowedTargetHosts">;

export function zodErrors(error: z.ZodError, prefix = ""): FieldError[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    const field = [prefix, path].filter((p) => p !== "").join(".");
    return { field: field === "" ? "(body)" : field, reason: issue.message };
  });
}

/**
 * A route record to write, checked. `storedNote` is the note the stored record
 * has: a record that keeps it unchanged is not refused for it (notes written
 * before control characters were refused), any other note must be clean.
 */
export function validateRoute(
  raw: unknown,
  config: TargetConfig,
  prefix = "",
  storedNote?: string,
): { ok: true; route: RouteInput } | { ok: false; errors: FieldError[] } {
  const keepsNote =
    storedNote !== undefined && typeof raw === "object" && raw !== null && "note" in raw && raw.note === storedNote;
  const parsed = (keepsNote ? RouteInputKeepingNote : RouteInput).safeParse(raw);
  if (!parsed.success) return { ok: false, errors: zodErrors(parsed.error, prefix) };
  const route = parsed.data;
  const organizations = organizationsProblem(route);
  if (organizations !== undefined) {
    return { ok: false, errors: [{ field: join(prefix, organizations.field), reason: organizations.reason }] };
  }
  if (route.target !== undefined) {
    const target = checkTarget(route.target, config);
    if (!target.ok) return { ok: false, errors: [{ field: join(prefix, "target"), reason: target.reason }] };
  }
  return { ok: true, route };
}

export function validateSettings(
  raw: unknown,
  config: TargetConfig,
  prefix = "",
): { ok: true; settings: Settings } | { ok: false; errors: FieldError[] } {
  const parsed = Settings.safeParse(raw);
  if (!parsed.success) return { ok: false, errors: zodErrors(parsed.error, prefix) };
  const settings = parsed.data;
  if (settings.defaultTarget !== undefined) {
    const target = checkTarget(settings.defaultTarget, config);
    if (!target.ok) return { ok: false, errors: [{ field: join(prefix, "defaultTarget"), reason: target.reason }] };
  }
  return { ok: true, settings };
}

function join(prefix: string, field: string): string {
  return prefix === "" ? field : `${prefix}.${field}`;
}
