import { beforeEach, describe, expect, inject, it } from "vitest";
import { SETTINGS_KEY } from "../src/table/kv-layout";
import { countingKv } from "./support/kv";
import { TEST_TABLE } from "./support/table";
import { call, captureLogs, HOST, postForm, received, seed } from "./support/worker";

beforeEach(() => seed(TEST_TABLE));

const legacyPost = (headers: Record<string, string> = {}) =>
  postForm("/login/callback?connection=globex-saml", "SAMLResponse=abc&RelayState=r", headers);

describe("when Auth0 cannot answer", () => {
  it("answers 502 with a page that says Auth0 was unreachable when the origin refuses connections", async () => {
    const { result, logs } = await captureLogs(() =>
      call(legacyPost(), { AUTH0_ORIGIN: `http://127.0.0.1:${inject("closedPort")}` }),
    );
    expect(result.status).toBe(502);
    expect(result.headers.get("cache-control")).toBe("no-store");
    expect(await result.text()).toContain("could not be reached");
    expect(logs.find((l) => l["event"] === "auth0-error")).toBeDefined();
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({ status: 502, decision: "auth0" });
  });

  it("answers 504 when Auth0 does not answer within AUTH0_TIMEOUT_MS", async () => {
    const res = await call(legacyPost({ "x-test-origin": "hang" }), { AUTH0_TIMEOUT_MS: "300" });
    expect(res.status).toBe(504);
    expect(await res.text()).toContain("did not answer in time");
  });

  it("answers problem JSON when the client asks for JSON", async () => {
    const res = await call(new Request(`${HOST}/authorize`, { headers: { accept: "application/json" } }), {
      AUTH0_ORIGIN: `http://127.0.0.1:${inject("closedPort")}`,
    });
    expect(res.status).toBe(502);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ status: 502, title: "Sign-in service unreachable" });
  });

  it("passes Auth0's own 5xx through unchanged instead of retrying", async () => {
    const res = await call(legacyPost({ "x-test-origin": "status-503" }));
    expect(res.status).toBe(503);
    expect(await res.text()).toBe("auth0 stand-in: unavailable");
  });
});

describe("configuration errors", () => {
  it("answers 502 naming AUTH0_ORIGIN when it is missing, never a 500", async () => {
    const { result, logs } = await captureLogs(() => call(legacyPost(), { AUTH0_ORIGIN: undefined }));
    expect(result.status).toBe(502);
    expect(await result.text()).toContain("AUTH0_ORIGIN");
    expect(logs).toContainEqual(expect.objectContaining({ event: "config-error", variable: "AUTH0_ORIGIN" }));
  });

  it("refuses an http AUTH0_ORIGIN in production", async () => {
    const { result, logs } = await captureLogs(() => call(legacyPost(), { ENVIRONMENT: "production" }));
    expect(result.status).toBe(502);
    expect(logs).toContainEqual(
      expect.objectContaining({ variable: "AUTH0_ORIGIN", message: "AUTH0_ORIGIN must be https" }),
    );
  });

  it("sends every callback to Auth0 when another variable is wrong, and logs which", async () => {
    const { result, logs } = await captureLogs(() =>
      call(new Request(`${HOST}/login/callback?connection=acme-saml`), {
        ALLOWED_TARGET_HOSTS: "https://sso.example.com/",
      }),
    );
    expect(result.status).toBe(200);
    expect(logs).toContainEqual(expect.objectContaining({ event: "config-error", variable: "ALLOWED_TARGET_HOSTS" }));
  });
});

describe("hostile or odd callbacks get a defined answer", () => {
  it("forwards a 10 KB connection name to Auth0 without looking it up", async () => {
    const name = "a".repeat(10 * 1024);
    const { kv, gets } = countingKv();
    const { result, logs } = await captureLogs(() =>
      call(new Request(`${HOST}/login/callback?connection=${name}`), { ROUTES: kv }),
    );
    expect(result.status).toBe(200);
    expect(gets).toEqual([SETTINGS_KEY]);
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({
      reason: "invalid-connection-name",
      connection: null,
    });
  });

  it("forwards two connection parameters to Auth0 as they are (ambiguous)", async () => {
    const { result, logs } = await captureLogs(() =>
      call(new Request(`${HOST}/login/callback?connection=acme-saml&connection=globex-saml`)),
    );
    expect(result.status).toBe(200);
    expect((await received(result)).url).toBe("/login/callback?connection=acme-saml&connection=globex-saml");
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({ reason: "ambiguous-connection" });
  });

  it.each(["HEAD", "OPTIONS", "PUT"])("forwards %s on a migrated connection's callback to Auth0", async (method) => {
    const { result, logs } = await captureLogs(() =>
      call(new Request(`${HOST}/login/callback?connection=acme-saml`, { method })),
    );
    expect(result.status).toBe(200);
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({ method, reason: "method-not-routed" });
  });

  it("forwards a connection name with path traversal characters without looking it up", async () => {
    const { kv, gets } = countingKv();
    const res = await call(new Request(`${HOST}/login/callback?connection=..%2F..%2Fsettings`), { ROUTES: kv });
    expect(res.status).toBe(200);
    expect((await received(res)).url).toBe("/login/callback?connection=..%2F..%2Fsettings");
    expect(gets).toEqual([SETTINGS_KEY]);
  });

  it("keeps malformed percent-encoding in the query as it was", async () => {
    const res = await call(new Request(`${HOST}/login/callback?connection=globex-saml&bad=%E0%A4%A&x=%`));
    expect((await received(res)).url).toBe("/login/callback?connection=globex-saml&bad=%E0%A4%A&x=%");
  });
});
