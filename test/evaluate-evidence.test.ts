/**
 * GET /evaluate with evidence (src/admin/evaluate-evidence.ts): a migrated OIDC connection under
 * unknown: auth0 answers auth0 (its IdP may omit iss) until its recorded callbacks show that
 * every one carried iss; one recorded callback without iss puts the safe answer back.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { RouteInput } from "../src/table/schema";
import { shardName } from "../src/stats/recorder";
import { api, json, resetTable } from "./support/admin";
import { realCallback } from "./support/callbacks";
import { startLogin } from "./support/login-start";
import { call, HOST } from "./support/worker";

const AFFINITY = { AFFINITY_SECRET: "evaluate-evidence-secret-0123456789abcdef" };
const KC: RouteInput = {
  connection: "kc-oidc",
  state: "migrated",
  protocol: "oidc",
  match: { oidcIssuer: "https://kc.test/realms/a" },
};
type Evaluation = { destination: string; reason: string; target?: string; explanation?: string };
const evaluate = async () => json<Evaluation>(await api("/evaluate?connection=kc-oidc", { env: AFFINITY }));

beforeEach(async () => {
  vi.spyOn(console, "log").mockImplementation(() => {});
  await resetTable();
  for (let i = 0; i < 8; i++) {
    const stub = env.TRAFFIC_COUNTER.get(env.TRAFFIC_COUNTER.idFromName(shardName(i)));
    await runInDurableObject(stub, (_i, state) => {
      for (const t of ["minutes", "hours", "last_seen", "unknown_names", "evidence"])
        state.storage.sql.exec(`DELETE FROM ${t}`);
    });
  }
  const table = { settings: { unknown: "auth0", defaultTarget: "https://sso.example.com/cb" }, routes: [KC] };
  expect((await api("/import?mode=replace", { method: "POST", body: table })).status).toBe(200);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("GET /evaluate with evidence", () => {
  it("keeps the safe answer without evidence, says new once every recorded callback carried iss, and goes back when one did not", async () => {
    expect(await evaluate()).toMatchObject({ destination: "auth0", reason: "unidentified" });
    for (let i = 0; i < 3; i++) {
      const res = await call(realCallback("oidc-code-with-iss", KC), AFFINITY);
      await res.body?.cancel();
      expect(res.status).toBe(307);
    }
    const measured = await evaluate();
    expect(measured).toMatchObject({ destination: "new", reason: "migrated", target: "https://sso.example.com/cb" });
    expect(measured.explanation).toMatch(
      /^evidence: 3 logins in 7 days; all identifiable by iss — every recorded callback carried iss/,
    );
    // A login Auth0 started whose callback carried no iss: the connection's IdP does omit it.
    const started = await startLogin("oidc", "kc-oidc", AFFINITY);
    const headers = { cookie: started.cookies.join("; ") };
    const res = await call(
      new Request(`${HOST}/login/callback?code=c&state=${encodeURIComponent(started.handles.state)}`, { headers }),
      AFFINITY,
    );
    await res.body?.cancel();
    expect(await evaluate()).toMatchObject({ destination: "auth0", reason: "unidentified" });
  });
});
