import { describe, expect, it } from "vitest";
import { BrowserCookies } from "../scripts/browser-cookies";

const MARK = "crb-umbrella-saml=29485.bm9uY2U.dGFn; Max-Age=900; Path=/login/callback; Secure; HttpOnly; SameSite=None";

describe("the demo traffic's cookie jar (scripts/browser-cookies.ts)", () => {
  it("sends the router's bounce mark back on the bounce to the same host, whatever the port", () => {
    const jar = new BrowserCookies();
    jar.store(new URL("http://localhost:8787/login/callback?connection=umbrella-saml"), [MARK], 0);
    expect(
      jar.header(new URL("http://localhost:8787/login/callback?connection=umbrella-saml&fallback=auth0"), 1000),
    ).toBe("crb-umbrella-saml=29485.bm9uY2U.dGFn");
  });

  it("keeps it from other hosts, other paths and after its Max-Age", () => {
    const jar = new BrowserCookies();
    jar.store(new URL("http://localhost:8787/login/callback"), [MARK], 0);
    expect(jar.header(new URL("http://127.0.0.1:8787/login/callback"), 1000)).toBeUndefined();
    expect(jar.header(new URL("http://localhost:8787/login/callbacks"), 1000)).toBeUndefined();
    expect(jar.header(new URL("http://localhost:8787/u/login"), 1000)).toBeUndefined();
    expect(jar.header(new URL("http://localhost:8787/login/callback"), 900_000)).toBeUndefined();
  });

  it("replaces a cookie of the same name and deletes one set with Max-Age=0", () => {
    const jar = new BrowserCookies();
    const url = new URL("http://localhost:8787/login/callback");
    jar.store(url, ["a=1; Path=/", "b=2; Path=/login/callback"], 0);
    jar.store(url, ["a=3; Path=/"], 0);
    expect(jar.header(url, 1)).toBe("b=2; a=3");
    jar.store(url, ["b=; Max-Age=0; Path=/login/callback"], 1);
    expect(jar.header(url, 2)).toBe("a=3");
  });
});
