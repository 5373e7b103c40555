import { beforeEach, describe, expect, it } from "vitest";
import { TEST_TABLE } from "./support/table";
import { call, captureLogs, HOST, received, seed, sha256Hex } from "./support/worker";

beforeEach(() => seed(TEST_TABLE));

describe("pass-through of everything that is not /login/callback", () => {
  it.each([
    ["GET", "/authorize?client_id=abc&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&scope=openid%20profile"],
    ["GET", "/.well-known/openid-configuration"],
    ["GET", "/u/login?state=hKFo2SBz"],
    ["DELETE", "/v2/logout?returnTo=https%3A%2F%2Fapp.example.com"],
  ])("forwards %s %s to Auth0 with path and query unchanged", async (method, path) => {
    const res = await call(new Request(`${HOST}${path}`, { method, headers: { "x-custom": "kept" } }));
    expect(res.status).toBe(200);
    const got = await received(res);
    expect(got.method).toBe(method);
    expect(got.url).toBe(path);
    expect(got.headers["x-custom"]).toBe("kept");
  });

  it("forwards a POST /oauth/token body byte-identical", async () => {
    const body = "grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA&redirect_uri=https%3A%2F%2Fapp%2Fcb";
    const res = await call(
      new Request(`${HOST}/oauth/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body,
      }),
    );
    const got = await received(res);
    expect(got.bodyText).toBe(body);
  });

  it("streams a 2 MiB body to Auth0 byte-identical", async () => {
    const bytes = new Uint8Array(2 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) & 0xff;
    const res = await call(new Request(`${HOST}/u/upload`, { method: "PUT", body: bytes }));
    const got = await received(res);
    expect(got.bodyLength).toBe(bytes.length);
    expect(got.bodySha256).toBe(await sha256Hex(bytes));
  });

  it("returns Auth0's redirect as is, with every Set-Cookie header separate", async () => {
    const res = await call(new Request(`${HOST}/u/login`, { method: "POST", headers: { "x-test-origin": "cookies" } }));
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("https://app.example.com/after-login");
    expect(res.headers.getSetCookie()).toEqual([
      "auth0=abc; Path=/; HttpOnly; Secure; SameSite=None",
      "auth0_compat=abc; Path=/; HttpOnly; Secure",
      "did=s%3Av0%3A123; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT; HttpOnly",
    ]);
  });

  it("answers HEAD and OPTIONS through Auth0", async () => {
    const head = await call(new Request(`${HOST}/authorize`, { method: "HEAD" }));
    expect(head.status).toBe(200);
    expect(head.headers.get("x-origin")).toBe("auth0-stand-in");
    const options = await call(
      new Request(`${HOST}/oauth/token`, { method: "OPTIONS", headers: { origin: "https://app.example.com" } }),
    );
    expect((await received(options)).method).toBe("OPTIONS");
  });
});

describe("the Auth0 origin headers", () => {
  it("always drops a client-sent cname-api-key", async () => {
    const res = await call(new Request(`${HOST}/authorize`, { headers: { "cname-api-key": "attacker" } }));
    expect((await received(res)).headers["cname-api-key"]).toBeUndefined();
  });

  it("in custom-domain mode adds the key and passes exactly the end user's IP", async () => {
    const res = await call(
      new Request(`${HOST}/authorize`, {
        headers: {
          "cname-api-key": "attacker",
          "cf-connecting-ip": "203.0.113.7",
          "x-forwarded-for": "198.51.100.1, 10.0.0.1",
          "true-client-ip": "198.51.100.1",
        },
      }),
      { AUTH0_CNAME_API_KEY: "the-real-key" },
    );
    const got = await received(res);
    expect(got.headers["cname-api-key"]).toBe("the-real-key");
    expect(got.headers["x-forwarded-for"]).toBe("203.0.113.7");
    expect(got.headers["true-client-ip"]).toBe("203.0.113.7");
  });

  it("in custom-domain mode drops spoofed client IP headers when the end user's IP is unknown", async () => {
    const res = await call(
      new Request(`${HOST}/authorize`, {
        headers: { "x-forwarded-for": "198.51.100.1", "true-client-ip": "198.51.100.1" },
      }),
      { AUTH0_CNAME_API_KEY: "the-real-key" },
    );
    const got = await received(res);
    expect(got.headers["x-forwarded-for"]).toBeUndefined();
    expect(got.headers["true-client-ip"]).toBeUndefined();
  });

  it("in tenant-domain mode sends no cname-api-key at all", async () => {
    const res = await call(new Request(`${HOST}/authorize`, { headers: { "cf-connecting-ip": "203.0.113.7" } }));
    const got = await received(res);
    expect(got.headers["cname-api-key"]).toBeUndefined();
  });

  it("refuses to forward to its own host (loop) with a clear 508 page", async () => {
    const res = await call(new Request("http://127.0.0.1:1234/authorize"), { AUTH0_ORIGIN: "http://127.0.0.1:1234" });
    expect(res.status).toBe(508);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.text()).toContain("AUTH0_ORIGIN");
  });

  it("deployed, calls its own host a misconfiguration, not a loop (a same-zone fetch goes to the DNS origin): 502", async () => {
    const { result: res, logs } = await captureLogs(() =>
      call(new Request("https://auth.example.com/authorize"), {
        ENVIRONMENT: "production",
        AUTH0_ORIGIN: "https://auth.example.com",
      }),
    );
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("AUTH0_ORIGIN");
    expect(logs).toContainEqual(expect.objectContaining({ event: "self-origin", variable: "AUTH0_ORIGIN" }));
    expect(logs.some((l) => l["event"] === "loop")).toBe(false);
  });
});
