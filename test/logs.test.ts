import { SignJWT } from "jose";
import { beforeEach, describe, expect, inject, it } from "vitest";
import { TEST_TABLE } from "./support/table";
import { call, captureLogs, form, HOST, postForm, seed } from "./support/worker";

beforeEach(() => seed(TEST_TABLE));

describe("decision logs", () => {
  it("writes one JSON line per callback with connection, identification, decision, reason, target host and duration", async () => {
    const { logs } = await captureLogs(() => call(new Request(`${HOST}/login/callback?connection=acme-saml&code=c`)));
    const lines = logs.filter((l) => l["event"] === "callback");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      event: "callback",
      connection: "acme-saml",
      identifiedBy: "query",
      decision: "new",
      reason: "migrated",
      targetHost: "sso.example.com",
      status: 307,
    });
    expect(typeof lines[0]?.["durationMs"]).toBe("number");
  });

  it("logs what shadow mode would have done while forwarding to Auth0", async () => {
    await seed({ ...TEST_TABLE, settings: { ...TEST_TABLE.settings, mode: "shadow" } });
    const { logs } = await captureLogs(() => call(new Request(`${HOST}/login/callback?connection=acme-saml`)));
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({
      decision: "auth0",
      reason: "migrated",
      shadowDecision: "new",
      shadowTargetHost: "sso.example.com",
    });
  });

  it("never logs a SAMLResponse, RelayState, code, state, cookie, token or the cname key", async () => {
    const secrets = {
      saml: inject("saml").prefixed,
      relay: "RELAYSTATE-SECRET-123",
      code: "CODE-SECRET-456",
      state: "STATE-SECRET-789",
      cookie: "COOKIE-SECRET-abc",
      key: "CNAME-KEY-SECRET-def",
    };
    const idToken = await new SignJWT({ iss: "https://login.pied.test/", nonce: "TOKEN-SECRET-ghi" })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode("k".repeat(32)));
    const { logs } = await captureLogs(async () => {
      await call(
        postForm("/login/callback", form({ SAMLResponse: secrets.saml, RelayState: secrets.relay }), {
          cookie: `auth0=${secrets.cookie}`,
        }),
        { AUTH0_CNAME_API_KEY: secrets.key },
      );
      await call(
        new Request(
          `${HOST}/login/callback?code=${secrets.code}&state=${secrets.state}&iss=https%3A%2F%2Fhooli.okta.test`,
        ),
      );
      await call(postForm("/login/callback", form({ id_token: idToken, state: secrets.state })));
      await call(
        postForm("/login/callback?connection=globex-saml&fallback=auth0", form({ SAMLResponse: secrets.saml })),
      );
    });
    const text = JSON.stringify(logs);
    expect(logs.filter((l) => l["event"] === "callback")).toHaveLength(4);
    for (const secret of [...Object.values(secrets), idToken, "TOKEN-SECRET-ghi"]) {
      expect(text).not.toContain(secret.slice(0, 24));
    }
  });
});
