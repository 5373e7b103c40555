import { describe, expect, it } from "vitest";
import { parseConfig, parseStatsConfig, parseWorkosConfig } from "../src/config";

const base = { AUTH0_ORIGIN: "https://tenant.us.auth0.com" };

describe("configuration", () => {
  it("keeps what forwarding needs, AUTH0_TIMEOUT_MS included, when another variable is wrong", () => {
    const r = parseConfig({ ...base, AUTH0_TIMEOUT_MS: "5000", AUTH0_CNAME_API_KEY: " key ", KV_READ_TIMEOUT_MS: "x" });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.forward).toEqual({
      auth0Origin: new URL("https://tenant.us.auth0.com"),
      cnameApiKey: "key",
      auth0TimeoutMs: 5000,
    });
    expect(!r.ok && r.problems.map((p) => p.variable)).toEqual(["KV_READ_TIMEOUT_MS"]);
  });

  it("has nothing to forward with when AUTH0_ORIGIN is wrong", () => {
    const r = parseConfig({ AUTH0_ORIGIN: "http://tenant.us.auth0.com" });
    expect(!r.ok && r.forward).toBeUndefined();
  });

  it.each([
    [{ STATS_SHARDS: "0" }, "STATS_SHARDS", 'must be a number from 1 to 64, got "0"'],
    [{ STATS_FLUSH_MS: "soon" }, "STATS_FLUSH_MS", "must be a number from 0 to 10000"],
    [{ STATS_FALLBACK_ALERT_SHARE: "5" }, "STATS_FALLBACK_ALERT_SHARE", "from 0 to 1"],
    [{ STATS_EVIDENCE: "no" }, "STATS_EVIDENCE", 'must be "on" or "off", not "no"'],
  ])("names a wrong stats variable and uses its default: %o", (over, variable, message) => {
    const { config, problems } = parseStatsConfig(over);
    // The defaults; the propagation grace is ROUTE_CACHE_SECONDS' default (10 s) + KV's 60 s.
    expect(config).toEqual({
      shards: 8,
      flushMs: 2000,
      fallbackAlertShare: 0.05,
      propagationGraceMs: 70_000,
      evidence: true,
    });
    expect(problems).toEqual([{ variable, message: expect.stringContaining(message) as unknown }]);
  });

  it("reads fractional stats values and rounds the shard count down", () => {
    expect(parseStatsConfig({ STATS_SHARDS: "2.5", STATS_FALLBACK_ALERT_SHARE: "0.2" }).config).toMatchObject({
      shards: 2,
      fallbackAlertShare: 0.2,
    });
  });

  it.each([
    [{}, "WORKOS_API_KEY", "is not set"],
    [{ WORKOS_API_KEY: "sk_test", WORKOS_API_URL: "http://api.workos.com" }, "WORKOS_API_URL", "must be https"],
    [{ WORKOS_API_KEY: "sk_test", WORKOS_API_URL: "https://api.workos.com/?x=1" }, "WORKOS_API_URL", "without query"],
  ])("names what stops the WorkOS client: %o", (env, variable, reason) => {
    const r = parseWorkosConfig(env);
    expect(r).toEqual({ ok: false, variable, reason: expect.stringContaining(reason) as unknown });
  });

  it("defaults the WorkOS API URL and allows http on loopback in development", () => {
    const r = parseWorkosConfig({ WORKOS_API_KEY: "sk_test" });
    expect(r.ok && r.config.apiUrl.href).toBe("https://api.workos.com/");
    const local = parseWorkosConfig({
      ENVIRONMENT: "development",
      WORKOS_API_KEY: "k",
      WORKOS_API_URL: "http://127.0.0.1:1",
    });
    expect(local.ok).toBe(true);
  });
});
