import { describe, expect, it } from "vitest";
import type { FlagSnapshot, ProviderConnection } from "../src/sync/workos-client";
import { DEFAULT_SETTINGS, type Route, type Settings } from "../src/table/schema";
import { checkConnectionsSync } from "../src/writer/connections-plan";
import { checkFlagSync } from "../src/writer/flag-plan";
import { checkImport } from "../src/writer/import-plan";

// The writer's plans are pure: the table as it is in, a plan or a Failure out. These run
// without the Durable Object; test/admin-import.test.ts and test/sync-*.test.ts run them through it.

const config = { environment: "production" as const, allowedTargetHosts: new Set(["sso.example.com"]) };
const stored = (over: Partial<Route> & { connection: string }): Route => ({
  state: "legacy",
  version: 1,
  updatedAt: "2026-01-01T00:00:00.000Z",
  ...over,
});
const withProvider = (provider: Partial<NonNullable<Settings["provider"]>>): Settings => ({
  ...DEFAULT_SETTINGS,
  provider: { requireActive: false, autoMigrate: false, flagSlug: "sso", mirrorFlag: false, ...provider },
});

describe("checkImport", () => {
  it("refuses the whole import, naming each row, for a duplicate and a match value a kept route claims", () => {
    const current = [stored({ connection: "kept", match: { idpEntityId: "https://idp.example" } })];
    const result = checkImport(
      {
        routes: [
          { connection: "a", state: "legacy" },
          { connection: "a", state: "legacy" },
          { connection: "b", state: "legacy", match: { idpEntityId: "https://idp.example" } },
        ],
        replace: false,
      },
      current,
      DEFAULT_SETTINGS,
      config,
    );
    expect(result.ok).toBe(false);
    expect(!result.ok && result.status).toBe(422);
    expect(!result.ok && result.errors?.map((e) => e.field)).toEqual([
      "routes.1.connection",
      "routes.2.match.idpEntityId",
    ]);
  });

  it("diffs against the table: replace removes what the file lacks, and unchanged rows stay unchanged", () => {
    const current = [stored({ connection: "same" }), stored({ connection: "gone" })];
    const result = checkImport(
      {
        routes: [
          { connection: "same", state: "legacy" },
          { connection: "new", state: "legacy" },
        ],
        replace: true,
      },
      current,
      DEFAULT_SETTINGS,
      config,
    );
    expect(result.ok && result.value.diff).toMatchObject({
      added: ["new"],
      removed: ["gone"],
      unchanged: ["same"],
      settingsChanged: false,
    });
  });

  it("applies requireActive as the imported settings will be, to the rows it writes", () => {
    const result = checkImport(
      {
        routes: [{ connection: "m", state: "migrated" }],
        settings: { provider: withProvider({ requireActive: true }).provider },
        replace: false,
      },
      [],
      DEFAULT_SETTINGS,
      config,
    );
    expect(!result.ok && result.errors?.[0]?.field).toBe("routes.0.state");
  });
});

describe("checkConnectionsSync", () => {
  const active: ProviderConnection = { id: "conn_1", name: "acme", state: "active", organizationId: "org_1" };

  it("links by name and, with autoMigrate, migrates a legacy route whose provider connection is active", () => {
    const result = checkConnectionsSync(
      [stored({ connection: "acme" })],
      withProvider({ autoMigrate: true }),
      [active],
      "2026-02-02T00:00:00.000Z",
    );
    expect(result.ok && result.value.writes).toEqual([
      {
        connection: "acme",
        state: "migrated",
        providerConnectionId: "conn_1",
        providerState: "active",
        providerOrganizationId: "org_1",
        providerSyncedAt: "2026-02-02T00:00:00.000Z",
      },
    ]);
    expect(result.ok && result.value.report.migrated).toEqual(["acme"]);
  });

  it("answers 502 and writes nothing when the provider's data would make an invalid route", () => {
    const result = checkConnectionsSync(
      [stored({ connection: "acme" })],
      DEFAULT_SETTINGS,
      [{ ...active, organizationId: "x".repeat(300) }],
      "2026-02-02T00:00:00.000Z",
    );
    expect(!result.ok && result.status).toBe(502);
  });
});

describe("checkFlagSync", () => {
  const flag: FlagSnapshot = {
    slug: "sso",
    enabled: true,
    defaultValue: false,
    organizations: [{ id: "org_1", enabled: true }],
  };

  it("mirrors an enabled organization into include, as the route's organization", () => {
    const routes = [stored({ connection: "acme", organization: "acme-org", providerOrganizationId: "org_1" })];
    const result = checkFlagSync(routes, withProvider({}), flag);
    expect(result.ok && result.value.settings.rollout.include).toEqual(["acme-org"]);
  });

  it("answers 409 when settings.provider.flagSlug changed since the flag was read", () => {
    const result = checkFlagSync([], withProvider({ flagSlug: "other" }), flag);
    expect(!result.ok && result.status).toBe(409);
  });
});
