/**
 * What a path other than the callback answers once Auth0 is retired: the settings' path
 * table (longest matching prefix), else a safe default page. Pure: the caller reads the
 * settings and sends the answer (src/retired/answer.ts).
 *
 * Prefixes are compared on canonical segments (src/request-path.ts: decoded, case folded,
 * dot segments resolved), segment by segment: "/authorize" matches "/authorize" and
 * "/Authorize/x", never "/authorizex"; "/" matches every path.
 */
import type { Config } from "../config";
import { canonicalSegments } from "../request-path";
import type { PathRule } from "../table/schema";
import { checkTarget, redirectLocation } from "../targets";

export type PathAnswer =
  | { kind: "redirect"; status: number; location: string; prefix: string }
  | { kind: "page"; status: number; title: string; message: string; prefix: string | null };

/** The page every path without a row gets: says where sign-in went, reflects nothing of the request. */
export const DEFAULT_PATH_PAGE = {
  status: 404,
  title: "Sign-in has moved",
  message:
    "This address is no longer used for signing in. Go back to the application you were using and sign in from there.",
} as const;

const DEFAULT_RULE_TITLE = "This page is no longer available";

/** Whether `prefix` (a PathPrefix) covers `pathname`, on canonical segments. */
export function prefixMatches(prefix: string, segments: readonly string[]): boolean {
  const own = canonicalSegments(prefix);
  return own.length <= segments.length && own.every((s, i) => segments[i] === s);
}

/** The row for `pathname`: the longest matching prefix (in segments), the first such row on a tie. */
export function ruleFor(rules: readonly PathRule[], pathname: string): PathRule | undefined {
  const segments = canonicalSegments(pathname);
  let best: PathRule | undefined;
  let bestLength = -1;
  for (const rule of rules) {
    const length = canonicalSegments(rule.prefix).length;
    if (length > bestLength && prefixMatches(rule.prefix, segments)) {
      best = rule;
      bestLength = length;
    }
  }
  return best;
}

/**
 * The answer for `pathname` + `rawQuery` (without "?"). A redirect row whose location the
 * allow-list refuses now (ALLOWED_TARGET_HOSTS changed since it was written) answers the
 * default page instead, with `refused` saying why (for the log): never an open redirect.
 */
export function pathAnswer(
  rules: readonly PathRule[] | undefined,
  pathname: string,
  rawQuery: string,
  config: Pick<Config, "environment" | "allowedTargetHosts">,
): PathAnswer & { refused?: string } {
  const rule = rules === undefined ? undefined : ruleFor(rules, pathname);
  if (rule === undefined) return { kind: "page", ...DEFAULT_PATH_PAGE, prefix: null };
  if (rule.answer === "page") {
    return {
      kind: "page",
      status: rule.status,
      title: rule.title ?? DEFAULT_RULE_TITLE,
      message: rule.message,
      prefix: rule.prefix,
    };
  }
  const checked = checkTarget(rule.location, config);
  if (!checked.ok) return { kind: "page", ...DEFAULT_PATH_PAGE, prefix: rule.prefix, refused: checked.reason };
  const location = redirectLocation(checked.url, rule.query === "keep" ? rawQuery : "");
  return { kind: "redirect", status: rule.status, location, prefix: rule.prefix };
}
