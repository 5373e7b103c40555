/**
 * Checks a route or settings for writing, beyond the schema: targets must be
 * usable by the router (https / allow-listed), so nothing is stored that the
 * router would refuse at read time. Errors name the field and the reason.
 */
import type * as z from "zod";
import type { Config } from "../config";
import { checkTarget } from "../targets";
import { organizationsProblem, RouteInput, Settings } from "./schema";

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

export function validateRoute(
  raw: unknown,
  config: TargetConfig,
  prefix = "",
): { ok: true; route: RouteInput } | { ok: false; errors: FieldError[] } {
  const parsed = RouteInput.safeParse(raw);
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
