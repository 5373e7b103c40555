import { describe, expect, it } from "vitest";
import storageDoc from "../docs/storage.md?raw";
import { metadataKey, tableToKvEntries } from "../src/table/kv-layout";
import { RouteTableFile } from "../src/table/schema";

/** The key patterns in docs/storage.md's "KV keys" table, as regular expressions (`{name}` = any text). */
function documentedKeyPatterns(markdown: string): Array<{ pattern: string; regex: RegExp }> {
  const section = markdown.split(/^## /m).find((s) => s.startsWith("KV keys"));
  if (section === undefined) throw new Error('docs/storage.md has no "## KV keys" section');
  return section
    .split("\n")
    .map((line) => /^\|\s*`([^`]+)`\s*\|/.exec(line)?.[1])
    .filter((p): p is string => p !== undefined)
    .map((pattern) => {
      const source = pattern
        .split(/\{[A-Za-z]+\}/)
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
        .join(".+");
      return { pattern, regex: new RegExp(`^${source}$`) };
    });
}

describe("docs/storage.md", () => {
  // One route using every feature that makes a key: organization and each kind of match value.
  const file = RouteTableFile.parse({
    routes: [
      {
        connection: "acme-saml",
        organization: "org_acme",
        state: "migrated",
        match: {
          spEntityId: "urn:example:sp",
          idpEntityId: "https://idp.acme.example/metadata",
          oidcIssuer: "https://login.acme.example",
        },
      },
    ],
  });
  // The table's keys, and the one the admin Worker writes beside them (an SP metadata snapshot).
  const keys = [...tableToKvEntries(file, "2026-01-01T00:00:00.000Z").map((e) => e.key), metadataKey("acme-saml")];
  const documented = documentedKeyPatterns(storageDoc);

  it("documents every kind of KV key the writer and the seed write", () => {
    const undocumented = keys.filter((key) => !documented.some((d) => d.regex.test(key)));
    expect(undocumented).toEqual([]);
  });

  it("documents no key that is never written", () => {
    const stale = documented.filter((d) => !keys.some((key) => d.regex.test(key))).map((d) => d.pattern);
    expect(stale).toEqual([]);
  });
});
