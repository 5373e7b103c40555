/**
 * How fuzz and property tests report what they exercised (their floors' counts). Passing
 * tests' console output is hidden (vitest.config.ts `silent: "passed-only"`), so the summary
 * also goes out as a test annotation of type "exercised", which
 * test/support/exercised-reporter.ts prints for every test, passed or not.
 */
import type { TestContext } from "vitest";

export async function reportExercised(context: Pick<TestContext, "annotate">, summary: string): Promise<void> {
  console.log(summary);
  await context.annotate(summary, "exercised");
}

/** Counts by label, for floors: `tally.add("redirect")`, then `tally.get("redirect")`. */
export class Tally {
  private readonly counts = new Map<string, number>();

  add(label: string, by = 1): void {
    this.counts.set(label, (this.counts.get(label) ?? 0) + by);
  }

  get(label: string): number {
    return this.counts.get(label) ?? 0;
  }

  toString(): string {
    return [...this.counts].map(([label, n]) => `${label} ${n}`).join(", ");
  }
}
