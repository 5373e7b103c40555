/**
 * Prints every "exercised" annotation (test/support/exercised.ts) as the run goes, so the
 * floors' counts of fuzz and property tests show in `npm test` even when they pass.
 */
import type { TestAnnotation } from "vitest";
import type { Reporter, TestCase } from "vitest/node";

export default class ExercisedReporter implements Reporter {
  onTestCaseAnnotate(testCase: TestCase, annotation: TestAnnotation): void {
    if (annotation.type !== "exercised") return;
    process.stdout.write(
      `  exercised · ${testCase.module.moduleId.split("/").pop() ?? ""} › ${testCase.name}\n    ${annotation.message}\n`,
    );
  }
}
