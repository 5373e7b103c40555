/**
 * Checks a route or settings for writing, beyond the schema: targets must be
 * usable by the router (https / allow-listed), so nothing is stored that the
 * router would refuse at read time. Errors name the field and the reason.
 */
import type * as z from "zod";
import type { Config } from "../config";
import { checkTarget } from "../targets";
import { canonicalSegments, classifyPath } from "../request-path";
import { organizationsProblem, RouteInput, RouteInputKeepingNote, Settings, type PathRule } from "./schema";

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
  if (route.metadataUrl !== undefined) {
    const target = checkTarget(route.metadataUrl, config);
    if (!target.ok) {
      return {
        ok: false,
        errors: [{ field: join(prefix, "metadataUrl"), reason: target.reason.replace(/^target/, "metadataUrl") }],
      };
    }
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
  const errors = [...retiredModeErrors(settings), ...pathTableErrors(settings.paths ?? [], config)];
  if (errors.length > 0) return { ok: false, errors: errors.map((e) => ({ ...e, field: join(prefix, e.field) })) };
  return { ok: true, settings };
}

/**
 * Once Auth0 is retired there is nothing to fall back to: the kill switch (killSwitch.on)
 * and shadow mode (which forwards every callback to Auth0) are refused, each naming its field.
 */
export function retiredModeErrors(settings: {
  auth0?: unknown;
  mode?: unknown;
  killSwitch?: { on?: unknown } | undefined;
}): FieldError[] {
  if (settings.auth0 !== "retired") return [];
  const refused = (field: string, what: string): FieldError => ({
    field,
    reason: `Auth0 is retired: ${what}, and there is no Auth0 to fall back to`,
  });
  return [
    ...(settings.killSwitch?.on === true
      ? [refused("killSwitch", "the kill switch would send every callback to Auth0")]
      : []),
    ...(settings.mode === "shadow" ? [refused("mode", "shadow mode forwards every callback to Auth0")] : []),
  ];
}

/**
 * The path table's rows: a redirect's location obeys the callback targets' rules (https,
 * ALLOWED_TARGET_HOSTS: no open redirect); a prefix never names the callback or the
 * router's own /__ paths (they never reach the table); no prefix is listed twice.
 */
function pathTableErrors(rules: readonly PathRule[], config: TargetConfig): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  rules.forEach((rule, i) => {
    const canonical = `/${canonicalSegments(rule.prefix).join("/")}`;
    const kind = classifyPath(rule.prefix);
    if (kind.callback || kind.reserved) {
      errors.push({
        field: `paths.${i}.prefix`,
        reason: kind.callback
          ? "the callback is routed, never answered from the path table"
          : "paths under /__ are the router's own",
      });
    }
    if (seen.has(canonical)) errors.push({ field: `paths.${i}.prefix`, reason: `"${rule.prefix}" is listed twice` });
    seen.add(canonical);
    if (rule.answer === "redirect") {
      const target = checkTarget(rule.location, config);
      if (!target.ok) {
        errors.push({ field: `paths.${i}.location`, reason: target.reason.replace(/^target/, "location") });
      }
    }
  });
  return errors;
}

function join(prefix: string, field: string): string {
  return prefix === "" ? field : `${prefix}.${field}`;
}
