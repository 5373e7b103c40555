/**
 * What a change to the table answers: the one result type of src/writer.
 * A Failure carries an HTTP status and a problem's title/detail/errors, so
 * the management API turns it into `application/problem+json` unchanged
 * (admin/writer-http.ts) and the cron's log line can name it.
 */
import type { FieldError } from "../table/validate";

export type Failure = {
  ok: false;
  status: 404 | 409 | 412 | 422 | 502 | 503;
  title: string;
  detail: string;
  errors?: FieldError[];
};

/** `kvPending`: KV writes still queued when the answer was made (the alarm retries them). */
export type Result<T> = { ok: true; value: T; kvPending: number } | Failure;

export interface WriteOptions {
  actor: string;
  /** The version the client last saw (If-Match); a different current version answers 412. */
  ifMatch?: number | "*" | undefined;
}

export interface DryRunOptions {
  actor: string;
  /** true: report what would change, write nothing. */
  dryRun: boolean;
}

export function notFound(connection: string): Failure {
  return {
    ok: false,
    status: 404,
    title: "No such route",
    detail: `connection "${connection}" is not in the route table`,
  };
}

export function precondition(detail: string): Failure {
  return {
    ok: false,
    status: 412,
    title: "Version mismatch",
    detail: `${detail}; read the route again and retry with its ETag`,
  };
}

/** The provider's data would make records the table refuses: nothing is applied. */
export function unusable(errors: FieldError[]): Failure {
  return {
    ok: false,
    status: 502,
    title: "WorkOS data unusable",
    detail: "The provider's answer would make invalid table records; nothing was applied.",
    errors,
  };
}

export function invalid(errors: FieldError[], detail = "The request has invalid fields."): Failure {
  return { ok: false, status: 422, title: "Invalid route table data", detail, errors };
}
