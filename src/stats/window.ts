/**
 * The time window of a /stats question: `since`, `until` and `step` checked
 * against what the counters keep (src/stats/counter-do.ts), and the buckets of
 * the series. Pure: `now` is passed in.
 *
 * Buckets start at multiples of the step since the Unix epoch (UTC), so `1d`
 * buckets are UTC days and `6h` buckets start at 00, 06, 12 and 18 UTC; the
 * window's start is rounded down to a bucket start, and the last bucket is the
 * one holding `until` (partly filled while it is still going on).
 */
import { HOUR_RETENTION_MS, MINUTE_RETENTION_MS, type Resolution } from "./rows";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export const STEPS = {
  "1m": MINUTE,
  "5m": 5 * MINUTE,
  "15m": 15 * MINUTE,
  "1h": HOUR,
  "6h": 6 * HOUR,
  "1d": 24 * HOUR,
} as const;
export type Step = keyof typeof STEPS;
export const STEP_NAMES = Object.keys(STEPS) as Step[];

/** A series has at most this many points. */
export const MAX_POINTS = 1_500;
/** `until` may be this far ahead of the Worker's clock (a browser's clock may run fast). */
const CLOCK_SKEW_MS = 2 * MINUTE;
const DEFAULT_SPAN_MS = 24 * HOUR;

export interface StatsWindow {
  /** The first bucket's start (`since` rounded down to the step), ms. */
  from: number;
  /** The end of the window, ms (at most now). */
  until: number;
  step: Step;
  stepMs: number;
  /** Which counter rows answer it: per minute for steps under an hour. */
  resolution: Resolution;
  /** Bucket starts, ms, oldest first. */
  buckets: number[];
}

/** As src/table/validate.ts's FieldError (not imported: this module stays free of the Worker's config). */
interface FieldError {
  field: string;
  reason: string;
}

export type WindowResult = { ok: true; window: StatsWindow } | { ok: false; detail: string; errors: FieldError[] };

function refuse(field: string, reason: string, detail: string): WindowResult {
  return { ok: false, detail, errors: [{ field: `query.${field}`, reason }] };
}

/** The step used when none is asked for: about 15–360 points, per minute while minute rows are kept. */
export function defaultStep(since: number, until: number, now: number): Step {
  const span = until - since;
  const minutesKept = since >= now - MINUTE_RETENTION_MS;
  if (minutesKept && span <= 3 * HOUR) return "1m";
  if (minutesKept && span <= 6 * HOUR) return "5m";
  if (span <= 8 * 24 * HOUR) return "1h";
  return "1d";
}

/**
 * Checks `since`/`until` (ISO times, already syntax-checked) and `step`.
 * Errors name the query field: `since` after `until`, either older than the
 * 35-day retention, `until` in the future, a per-minute step older than the
 * 6 h the minute rows are kept, more than MAX_POINTS buckets.
 */
export function statsWindow(query: { since?: string; until?: string; step?: Step }, now: number): WindowResult {
  const until = query.until === undefined ? now : Date.parse(query.until);
  if (until > now + CLOCK_SKEW_MS) return refuse("until", "must not be in the future", "until is in the future.");
  const end = Math.min(until, now);
  const since = query.since === undefined ? end - DEFAULT_SPAN_MS : Date.parse(query.since);
  if (since >= end) {
    return refuse("since", "must be before until", "since must be before until (and in the past).");
  }
  if (since < now - HOUR_RETENTION_MS) {
    return refuse("since", "at most 35 days ago", "since is more than 35 days ago (counters are kept 35 days).");
  }
  const step = query.step ?? defaultStep(since, end, now);
  const stepMs = STEPS[step];
  const resolution = stepMs < HOUR ? "minute" : "hour";
  if (resolution === "minute" && since < now - MINUTE_RETENTION_MS) {
    return refuse(
      "step",
      "per-minute counts are kept 6 hours",
      `A ${step} step needs per-minute counts, which are kept 6 hours; use 1h or a later since.`,
    );
  }
  const from = Math.floor(since / stepMs) * stepMs;
  const count = Math.ceil((end - from) / stepMs);
  if (count > MAX_POINTS) {
    return refuse(
      "step",
      `at most ${MAX_POINTS} points`,
      `${count} points of ${step} is more than ${MAX_POINTS}; use a larger step.`,
    );
  }
  const buckets = Array.from({ length: Math.max(count, 1) }, (_, i) => from + i * stepMs);
  return { ok: true, window: { from, until: end, step, stepMs, resolution, buckets } };
}

/** A counter row's key (`2026-11-23T13:05` or `2026-11-23T13`) as ms. */
export function keyTime(key: string): number {
  return Date.parse(key.length === 13 ? `${key}:00:00Z` : `${key}:00Z`);
}

/** The row key range [first, last] a window reads. */
export function keyRange(w: StatsWindow): { first: string; last: string } {
  const length = w.resolution === "minute" ? 16 : 13;
  return {
    first: new Date(w.from).toISOString().slice(0, length),
    last: new Date(w.until).toISOString().slice(0, length),
  };
}
