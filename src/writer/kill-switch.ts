/**
 * The kill switch as the writer stores it (docs/design.md, "Kill switch"): an operator sends
 * only `on`; the writer records when and by whom it last changed. The switch is an override
 * beside `mode`, so changing it never touches the mode (shadow stays shadow).
 */
import type { KillSwitch, Settings } from "../table/schema";
import { settingsDiffer } from "./diff";

/**
 * `next`'s kill switch, stamped: the same `on` as `current` keeps current's `since`/`by`
 * (whatever `next` carries, e.g. an imported file's); a change gets `since` = `at` (ISO 8601)
 * and `by` = `actor`.
 */
export function stampKillSwitch(current: KillSwitch, next: KillSwitch, actor: string, at: string): KillSwitch {
  if (next.on === current.on) return current;
  return { on: next.on, since: at, by: actor };
}

/**
 * The audit action of a settings change: "kill-switch.on" / "kill-switch.off" when the kill
 * switch is all that changed (so a drill reads as one in the audit), else `action`.
 */
export function settingsAction<A extends string>(
  before: Settings,
  after: Settings,
  action: A,
): A | "kill-switch.on" | "kill-switch.off" {
  if (before.killSwitch.on === after.killSwitch.on) return action;
  const { killSwitch: _b, ...restBefore } = before;
  const { killSwitch: _a, ...restAfter } = after;
  if (settingsDiffer(restBefore, restAfter)) return action;
  return after.killSwitch.on ? "kill-switch.on" : "kill-switch.off";
}
