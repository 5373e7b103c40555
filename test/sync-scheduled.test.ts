import { beforeEach, describe, expect, it } from "vitest";
import type { Env } from "../src/env";
import { runScheduledSync } from "../src/writer/scheduled-sync";
import { api, json, resetTable } from "./support/admin";
import { captureLogs, testEnv } from "./support/worker";
import { fakeWorkos, workosEnv } from "./support/workos";

const KEY = "sk_test_sync_scheduled";
const SLUG = "workos-sso-enabled";

type SyncLine = {
  event: string;
  trigger: string;
  connections: { outcome: string; counts?: Record<string, number>; problem?: string };
  flags: { outcome: string; counts?: Record<string, number>; problem?: string };
  durationMs: number;
};
type Audit = { entries: Array<{ action: string; actor: string }> };

/** Runs one scheduled sync; returns the JSON lines it logged. */
async function runOnce(env: Env): Promise<SyncLine[]> {
  const { logs } = await captureLogs(() => runScheduledSync(env, { retryBaseMs: 1 }));
  return logs.filter((l) => l["event"] === "sync") as unknown as SyncLine[];
}

beforeEach(async () => {
  await resetTable();
  await fakeWorkos(KEY, {
    connections: [{ id: "conn_acme", name: "acme-saml", state: "active", organization_id: "org_W_ACME" }],
    flags: {
      [SLUG]: {
        enabled: true,
        default_value: false,
        targets: { organizations: [{ id: "org_W_ACME", enabled: true }], users: [] },
      },
    },
  });
  await api("/routes/acme-saml", { method: "PUT", body: { state: "rollout", organization: "org_acme" } });
});

describe("runScheduledSync (the cron trigger)", () => {
  it("syncs connections, skips the flag mirror while mirrorFlag is off, and logs one line", async () => {
    const lines = await runOnce(testEnv(workosEnv(KEY)));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      event: "sync",
      trigger: "scheduled",
      connections: { outcome: "applied", counts: { providerConnections: 1, updated: 1, flagged: 0 } },
      flags: { outcome: "skipped", problem: "settings.provider.mirrorFlag is off" },
    });
    const route = await json<{ providerState?: string }>(await api("/routes/acme-saml"));
    expect(route.providerState).toBe("active");
    const { entries } = await json<Audit>(await api("/audit"));
    expect(entries[0]).toMatchObject({ action: "sync.workos", actor: "sync:workos" });
  });

  it("mirrors the flag too when settings.provider.mirrorFlag is on", async () => {
    await api("/settings", { method: "PUT", body: { provider: { mirrorFlag: true } } });
    const [line] = await runOnce(testEnv(workosEnv(KEY)));
    expect(line?.flags).toMatchObject({ outcome: "applied", counts: { include: 1, added: 1 } });
    expect((await json<{ include: string[] }>(await api("/rollout"))).include).toEqual(["org_acme"]);
    const second = await runOnce(testEnv(workosEnv(KEY)));
    expect(second[0]).toMatchObject({ connections: { outcome: "unchanged" }, flags: { outcome: "unchanged" } });
  });

  it("during a WorkOS outage logs the failure, changes nothing and does not throw", async () => {
    await api("/settings", { method: "PUT", body: { provider: { mirrorFlag: true } } });
    await runOnce(testEnv(workosEnv(KEY)));
    const before = await json<unknown>(await api("/export"));
    await fakeWorkos(KEY, { failures: "always" });
    const [line] = await runOnce(testEnv(workosEnv(KEY)));
    expect(line?.connections.outcome).toBe("failed");
    expect(line?.connections.problem).toMatch(/^502 .*WorkOS answered 503 3 times/);
    expect(line?.flags.outcome).toBe("failed");
    expect(await json<unknown>(await api("/export"))).toEqual(before);
  });

  it("without WORKOS_API_KEY logs one skipped line", async () => {
    const [line] = await runOnce(testEnv(workosEnv(undefined)));
    expect(line).toMatchObject({
      connections: { outcome: "skipped", problem: "WORKOS_API_KEY is not set" },
      flags: { outcome: "skipped" },
    });
  });

  it("does not throw when the writer itself is unreachable", async () => {
    const broken = {
      idFromName: () => {
        throw new Error("writer unreachable");
      },
    } as unknown as Env["ROUTE_WRITER"];
    const [line] = await runOnce(testEnv({ ...workosEnv(KEY), ROUTE_WRITER: broken }));
    expect(line?.connections).toMatchObject({ outcome: "failed", problem: "unexpected: writer unreachable" });
    expect(line?.flags.outcome).toBe("failed");
  });
});
