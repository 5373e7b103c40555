/**
 * RFC 9457 problem details for the management API. Handlers throw ApiProblem;
 * one error handler turns it (and any other failure) into the answer.
 */
import type { FieldError } from "../table/validate";

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors: FieldError[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(`${status} ${title}: ${detail}`);
  }
}

/** A problem lists at most this many field errors; `errorCount` says how many there were. */
export const ERRORS_SHOWN = 100;
/** Characters kept of one error's field or reason (a part name or value can be as long as the body). */
const ERROR_TEXT_MAX = 300;

function clip(text: string): string {
  return text.length <= ERROR_TEXT_MAX ? text : `${text.slice(0, ERROR_TEXT_MAX)}… (${text.length} characters)`;
}

/**
 * The answer for `problem`, bounded whatever the request held: the first
 * ERRORS_SHOWN field errors, each field and reason clipped, and when some are
 * left out `errorCount` (all of them) and a sentence in `detail` saying so.
 */
export function problemResponse(problem: ApiProblem): Response {
  const total = problem.errors.length;
  const more = total - ERRORS_SHOWN;
  const body: Record<string, unknown> = {
    type: "about:blank",
    title: problem.title,
    status: problem.status,
    detail:
      more > 0
        ? `${problem.detail} Showing the first ${ERRORS_SHOWN} of ${total} problems (${more} more).`
        : problem.detail,
  };
  if (total > 0) {
    body["errors"] = problem.errors
      .slice(0, ERRORS_SHOWN)
      .map((e) => ({ field: clip(e.field), reason: clip(e.reason) }));
  }
  if (more > 0) body["errorCount"] = total;
  return new Response(JSON.stringify(body), {
    status: problem.status,
    headers: { "content-type": "application/problem+json", "cache-control": "no-store", ...problem.headers },
  });
}

export function badRequest(detail: string, errors: FieldError[] = []): ApiProblem {
  return new ApiProblem(400, "Bad request", detail, errors);
}

/** A path that does not name a connection: the field as the API documents it (`connection`). */
export function notAConnection(reason: string): ApiProblem {
  return badRequest("The path does not name a valid Auth0 connection.", [{ field: "connection", reason }]);
}

export function unprocessable(detail: string, errors: FieldError[]): ApiProblem {
  return new ApiProblem(422, "Invalid fields", detail, errors);
}
