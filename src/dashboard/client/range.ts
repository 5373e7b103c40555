/**
 * The time-range control: 15 min, 1 h, 24 h, 7 d. Each maps to a `since` and a
 * `step` the counters can answer (per-minute counts are kept 6 hours).
 */
import { IDS } from "../ids";
import { byId } from "./dom";

export interface Range {
  key: string;
  label: string;
  ms: number;
  step: "1m" | "15m" | "1h";
  /** How the step reads in text: "per minute". */
  per: string;
}

export const RANGES: readonly Range[] = [
  { key: "15m", label: "15 min", ms: 15 * 60_000, step: "1m", per: "per minute" },
  { key: "1h", label: "1 h", ms: 3_600_000, step: "1m", per: "per minute" },
  { key: "24h", label: "24 h", ms: 86_400_000, step: "1h", per: "per hour" },
  { key: "7d", label: "7 d", ms: 7 * 86_400_000, step: "1h", per: "per hour" },
];

const KEY = "callback-router.dashboard.range";
const FALLBACK: Range = { key: "1h", label: "1 h", ms: 3_600_000, step: "1m", per: "per minute" };

export function currentRange(): Range {
  const chosen = sessionStorage.getItem(KEY);
  return RANGES.find((r) => r.key === chosen) ?? FALLBACK;
}

/** `since=…&step=…` for /stats. */
export function rangeQuery(range: Range, now = Date.now()): string {
  return `since=${encodeURIComponent(new Date(now - range.ms).toISOString())}&step=${range.step}`;
}

/** "last 15 min". */
export function rangeText(range: Range): string {
  return `last ${range.label}`;
}

/** Wires the radio group (rendered by page.tsx); `changed` runs after each choice. */
export function setUpRange(changed: (range: Range) => void): void {
  const group = byId(IDS.range);
  const sync = (): void => {
    for (const input of group.querySelectorAll<HTMLInputElement>("input[type=radio]")) {
      input.checked = input.value === currentRange().key;
    }
  };
  sync();
  group.addEventListener("change", (event) => {
    const input = event.target as HTMLInputElement;
    if (RANGES.some((r) => r.key === input.value)) sessionStorage.setItem(KEY, input.value);
    sync();
    changed(currentRange());
  });
}
