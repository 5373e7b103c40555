/** What every panel gets: the API, the status line, the chosen range, and who to tell after a change. */
import type { Api } from "./api";
import type { Range } from "./range";

export interface Ctx {
  api: Api;
  /** The status region (aria-live): the result of the last action. */
  say(message: string, failed?: boolean): void;
  range(): Range;
  /** A change was saved: re-read what it affects (counts, traffic, audit, the open view). */
  changed(): void;
}
