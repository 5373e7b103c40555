/**
 * The files an operator or a newcomer is pointed at exist: every repository path that the
 * README, docs/, bench/README.md, both wrangler configs and .dev.vars.example name
 * (`src/…`, `test/…`, `e2e/…`, `docs/…`, …) is in the tree. A moved test or module
 * otherwise leaves a comment sending the reader to a file that is not there. And the curl
 * lines docs/operations.md shows are the ones `npm run dev` prints (scripts/walkthrough.ts).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { curlLines } from "../scripts/walkthrough";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const DOCUMENTS = [
  "README.md",
  "bench/README.md",
  "wrangler.toml",
  "wrangler.admin.toml",
  ".dev.vars.example",
  ...readdirSync(path.join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** `src/admin/worker.ts`, `e2e/topology.e2e.ts`, `docs/design.md`, … as written in `text`. */
function pathsNamed(text: string): string[] {
  const found = text.matchAll(
    /(?<![\w./-])((?:src|test|e2e|docs|scripts|cli|bench|examples)\/[\w./-]+\.(?:ts|tsx|mjs|md|json|csv|toml))/g,
  );
  return [...new Set([...found].map((m) => m[1]!))];
}

describe("paths the documentation names", () => {
  it.each(DOCUMENTS)("%s names only files that exist", (document) => {
    const named = pathsNamed(readFileSync(path.join(ROOT, document), "utf8"));
    expect(named.filter((p) => !existsSync(path.join(ROOT, p)))).toEqual([]);
  });

  it("finds the paths it checks (so it can fail)", () => {
    expect(pathsNamed("see e2e/topology.e2e.ts and `src/admin/worker.ts`, not x/src/y.ts")).toEqual([
      "e2e/topology.e2e.ts",
      "src/admin/worker.ts",
    ]);
  });
});

describe("docs/operations.md, Trying it locally", () => {
  it("shows exactly the curl lines npm run dev prints", () => {
    const doc = readFileSync(path.join(ROOT, "docs", "operations.md"), "utf8");
    const section = doc.slice(doc.indexOf("## Trying it locally"));
    const block = /```sh\n([\s\S]*?)\n```/.exec(section)?.[1];
    expect(block).toBe(curlLines("http://localhost:8787"));
  });
});
