import { describe, expect, it } from "vitest";
import { decide, shortCut, type DecisionInput } from "../src/callback/decide";
import type { LoadedRoute, LoadedSettings } from "../src/table/store";
import { DEFAULT_SETTINGS } from "../src/table/schema";

const TARGET = new URL("https://sso.example.com/cb");
const settings = (over: Partial<LoadedSettings> = {}): DecisionInput["settings"] => ({
  status: "found",
  stale: false,
  value: { ...DEFAULT_SETTINGS, defaultTargetUrl: TARGET, defaultTargetProblem: undefined, ...over },
});
const route = (over: Partial<LoadedRoute> = {}): DecisionInput["route"] => ({
  status: "found",
  stale: false,
  value: {
    connection: "acme",
    state: "migrated",
    version: 1,
    updatedAt: "2026-01-01T00:00:00Z",
    targetUrl: undefined,
    ...over,
  },
});
const input = (over: Partial<DecisionInput> = {}): DecisionInput => ({
  method: "POST",
  fallback: false,
  connectionParam: { kind: "one", name: "acme" },
  settings: settings(),
  connection: "acme",
  route: route(),
  ...over,
});

describe("decide (pure)", () => {
  it.each<[string, Partial<DecisionInput>, string, string]>([
    [
      "kill switch beats a migrated route",
      { settings: settings({ killSwitch: { on: true } }) },
      "auth0",
      "kill-switch",
    ],
    ["fallback beats a migrated route", { fallback: true }, "auth0", "fallback-bounce"],
    [
      "fallback beats probe for an unknown connection",
      { fallback: true, route: { status: "absent", stale: false }, settings: settings({ unknown: "probe" }) },
      "auth0",
      "fallback-bounce",
    ],
    ["a legacy route goes to Auth0", { route: route({ state: "legacy" }) }, "auth0", "legacy"],
    ["a migrated route goes to the new provider", {}, "new", "migrated"],
    [
      "an unknown connection goes to Auth0 by default",
      { route: { status: "absent", stale: false } },
      "auth0",
      "unknown-connection",
    ],
    [
      "an unknown connection is probed when unknown=probe",
      { route: { status: "absent", stale: false }, settings: settings({ unknown: "probe" }) },
      "new",
      "unknown-connection",
    ],
    [
      "nothing identified goes to Auth0 by default",
      { connection: undefined, route: undefined, connectionParam: { kind: "none" } },
      "auth0",
      "unidentified",
    ],
    [
      "an unreadable table goes to Auth0 even with probe",
      { route: { status: "unavailable", error: "x" }, settings: settings({ unknown: "probe" }) },
      "auth0",
      "route-table-unavailable",
    ],
    [
      "an invalid route goes to Auth0",
      { route: { status: "invalid", reason: "x", stale: false } },
      "auth0",
      "route-invalid",
    ],
    [
      "unreadable settings go to Auth0",
      { settings: { status: "unavailable", error: "x" } },
      "auth0",
      "settings-unavailable",
    ],
    [
      "invalid settings go to Auth0",
      { settings: { status: "invalid", reason: "x", stale: false } },
      "auth0",
      "settings-invalid",
    ],
    ["two connection params go to Auth0", { connectionParam: { kind: "many" } }, "auth0", "ambiguous-connection"],
    [
      "an invalid connection name goes to Auth0",
      { connectionParam: { kind: "invalid" } },
      "auth0",
      "invalid-connection-name",
    ],
    ["HEAD is never redirected", { method: "HEAD" }, "auth0", "method-not-routed"],
    ["no target at all goes to Auth0", { settings: settings({ defaultTargetUrl: undefined }) }, "auth0", "no-target"],
    ["shadow mode forwards what would be redirected", { settings: settings({ mode: "shadow" }) }, "auth0", "migrated"],
  ])("%s", (_name, over, destination, reason) => {
    const d = decide(input(over));
    expect(d.destination).toBe(destination);
    expect(d.reason).toBe(reason);
  });

  it("prefers the route's own target over the default", () => {
    const own = new URL("https://sso.example.com/own");
    const d = decide(input({ route: route({ targetUrl: own }) }));
    expect(d.destination === "new" && d.target).toBe(own);
  });

  it("records the would-be target in shadow mode", () => {
    const d = decide(input({ settings: settings({ mode: "shadow" }) }));
    expect(d.destination === "auth0" && d.shadowOf?.target.host).toBe("sso.example.com");
  });
});

describe("shortCut (decide's steps before identification)", () => {
  it.each<[string, Partial<DecisionInput>, string]>([
    ["unreadable settings", { settings: { status: "unavailable", error: "down" } }, "settings-unavailable"],
    [
      "the kill switch, before the fallback",
      { fallback: true, settings: settings({ killSwitch: { on: true } }) },
      "kill-switch",
    ],
    ["the fallback, before the method", { fallback: true, method: "OPTIONS" }, "fallback-bounce"],
    ["a method that carries no sign-in", { method: "OPTIONS" }, "method-not-routed"],
  ])("answers Auth0 for %s, whatever the route says", (_name, over, reason) => {
    expect(shortCut(input(over))).toEqual({ destination: "auth0", reason });
    expect(decide(input(over))).toEqual({ destination: "auth0", reason });
  });

  it("passes a routable callback on to identification", () => {
    expect(shortCut(input())).toBeUndefined();
    expect(shortCut(input({ settings: settings({ mode: "shadow" }) }))).toBeUndefined();
  });
});

describe("decide: started by Auth0 (step 2a)", () => {
  it.each<[string, Partial<DecisionInput>, string, string]>([
    ["a login Auth0 started beats a migrated route", { auth0Transaction: true }, "auth0", "auth0-transaction"],
    [
      "a login Auth0 started beats unknown: probe",
      { auth0Transaction: true, route: { status: "absent", stale: false }, settings: settings({ unknown: "probe" }) },
      "auth0",
      "auth0-transaction",
    ],
    [
      "the kill switch comes first",
      { auth0Transaction: true, settings: settings({ killSwitch: { on: true } }) },
      "auth0",
      "kill-switch",
    ],
    ["the fallback bounce comes first", { auth0Transaction: true, fallback: true }, "auth0", "fallback-bounce"],
    ["a login started elsewhere follows the table", { auth0Transaction: false }, "new", "migrated"],
  ])("%s", (_name, over, destination, reason) => {
    const decision = decide(input(over));
    expect(decision.destination).toBe(destination);
    expect(decision.reason).toBe(reason);
  });

  it("in shadow mode says auth0-transaction and has nothing to shadow", () => {
    const decision = decide(input({ auth0Transaction: true, settings: settings({ mode: "shadow" }) }));
    expect(decision).toEqual({ destination: "auth0", reason: "auth0-transaction" });
  });
});

describe("decide (pure), Auth0 retired", () => {
  const retired = (over: Partial<LoadedSettings> = {}) => settings({ auth0: "retired", ...over });
  it.each<[string, Partial<DecisionInput>, string, string]>([
    [
      "a legacy route goes to the new provider",
      { settings: retired(), route: route({ state: "legacy" }) },
      "new",
      "auth0-retired",
    ],
    ["a stored kill switch is ignored", { settings: retired({ killSwitch: { on: true } }) }, "new", "migrated"],
    ["shadow mode is ignored", { settings: retired({ mode: "shadow" }) }, "new", "migrated"],
    ["Auth0's own transaction is not sent back", { settings: retired(), auth0Transaction: true }, "new", "migrated"],
    ["a bounce gets the unserved page", { settings: retired(), fallback: true }, "page", "fallback-bounce"],
    ["HEAD gets a 405 page", { settings: retired(), method: "HEAD" }, "page", "method-not-routed"],
    [
      "no target at all gets the unavailable page",
      { settings: retired({ defaultTargetUrl: undefined }), route: route({ state: "legacy" }) },
      "page",
      "no-target",
    ],
    [
      "unreadable settings with AUTH0_RETIRED get the unavailable page",
      { settings: { status: "unavailable", error: "down" }, auth0Retired: true },
      "page",
      "settings-unavailable",
    ],
    [
      "an unreadable route goes to the default target",
      { settings: retired(), route: { status: "unavailable", error: "down" } },
      "new",
      "auth0-retired",
    ],
  ])("%s", (_name, over, destination, reason) => {
    expect(decide(input(over))).toMatchObject({ destination, reason });
  });
});
