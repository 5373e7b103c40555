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

export function problemResponse(problem: ApiProblem): Response {
  const body: Record<string, unknown> = {
    type: "about:blank",
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
  };
  if (problem.errors.length > 0) body["errors"] = problem.errors;
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
