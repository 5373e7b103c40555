import { describe, expect, it } from "vitest";
import devVars from "../.dev.vars.example?raw";
import readme from "../docs/configuration.md?raw";
import { READERS, type Reader } from "../scripts/deploy/variables";
import type { Env } from "../src/env";

/** Every key of Env with the Worker that reads it: the compiler holds the list to Env both ways. */
const ENV_KEYS: Record<keyof Env, Reader> = READERS;
const NO_EXTRA_KEYS: Record<keyof typeof READERS, Reader> = ENV_KEYS;
void NO_EXTRA_KEYS;

/** The names in the first column of docs/configuration.md's table under "Bindings, variables and secrets", with their Worker column. */
function documentedRows(markdown: string): Array<{ name: string; worker: string }> {
  const section = markdown.split(/^## /m).find((s) => s.startsWith("Bindings, variables and secrets"));
  if (section === undefined)
    throw new Error('docs/configuration.md has no "## Bindings, variables and secrets" section');
  const rows = section.split("\n").filter((line) => /^\|\s*`/.test(line));
  return rows.flatMap((row) => {
    const cells = row.split("|");
    const worker = (cells[3] ?? "").trim();
    return [...(cells[1] ?? "").matchAll(/`([A-Z0-9_]+)`/g)].map((m) => ({ name: m[1] ?? "", worker }));
  });
}

function documentedNames(markdown: string): string[] {
  return documentedRows(markdown).map((r) => r.name);
}

/** `# NAME=` lines of .dev.vars.example, each with the `# Worker: …` line of its block. */
function exampleSecrets(text: string): Array<{ name: string; worker: string | undefined }> {
  return text.split(/\n\s*\n/).flatMap((block) => {
    const worker = /^# Worker: (router|admin|both)\b/m.exec(block)?.[1];
    return [...block.matchAll(/^# ([A-Z0-9_]+)=$/gm)].map((m) => ({ name: m[1] ?? "", worker }));
  });
}

describe("docs/configuration.md table", () => {
  const documented = documentedNames(readme);

  it("lists every binding and variable of Env", () => {
    const missing = Object.keys(ENV_KEYS).filter((name) => !documented.includes(name));
    expect(missing, "Env variables with no docs/configuration.md row").toEqual([]);
  });

  it("lists nothing that Env does not have, and nothing twice", () => {
    const extra = documented.filter((name) => !(name in ENV_KEYS));
    expect(extra, "docs/configuration.md rows naming no Env variable").toEqual([]);
    expect(new Set(documented).size).toBe(documented.length);
  });
});

describe("which Worker reads what", () => {
  it("names, for every row, the Worker scripts/deploy/variables.ts says reads it", () => {
    const wrong = documentedRows(readme)
      .filter((r) => r.name in ENV_KEYS && ENV_KEYS[r.name as keyof typeof ENV_KEYS] !== r.worker)
      .map(
        (r) =>
          `${r.name}: docs/configuration.md says ${r.worker}, expected ${ENV_KEYS[r.name as keyof typeof ENV_KEYS]}`,
      );
    expect(wrong).toEqual([]);
  });

  it(".dev.vars.example lists every secret of the table, each under the Worker(s) it goes on", () => {
    const secrets = documentedRows(readme)
      .filter((r) =>
        readme.split("\n").some((line) => line.startsWith(`| \`${r.name}\``) && line.includes("**secret**")),
      )
      .map((r) => r.name);
    const examples = exampleSecrets(devVars);
    expect(examples.map((e) => e.name).sort()).toEqual([...secrets].sort());
    const wrong = examples
      .filter((e) => e.worker !== ENV_KEYS[e.name as keyof typeof ENV_KEYS])
      .map(
        (e) => `${e.name}: "Worker: ${e.worker ?? "(none)"}", expected ${ENV_KEYS[e.name as keyof typeof ENV_KEYS]}`,
      );
    expect(wrong).toEqual([]);
  });
});
