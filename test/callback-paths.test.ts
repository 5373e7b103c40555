/**
 * Which spellings of /login/callback are routed like the callback (docs/design.md,
 * "Which paths are the callback"): every one a server in front of Auth0 could
 * take for it; everything else passes through to Auth0 untouched.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { canonicalSegments, isCallbackPath } from "../src/request-path";
import { TEST_TABLE } from "./support/table";
import { call, received, seed } from "./support/worker";

beforeEach(() => seed(TEST_TABLE));

/** [spelling, why it is the callback] */
const ROUTED: Array<[string, string]> = [
  ["/login/callback", "the path itself"],
  ["/login/callback/", "trailing slash (Express's default non-strict routing)"],
  ["/login/callback//", "trailing slashes merged (Cloudflare normalization)"],
  ["/LOGIN/callback", "case (Express's default case-insensitive routing)"],
  ["/login/Callback", "case"],
  ["/Login/CALLBACK/", "case and trailing slash"],
  ["/login/./callback", "dot segment (RFC 3986 §5.2.4)"],
  ["/login/x/../callback", "dot segments"],
  ["/login/%2e/callback", "encoded dot segment (WHATWG URL parsing)"],
  ["/x/%2E%2E/login/callback", "encoded dot-dot"],
  ["/login/callback/.", "trailing dot segment"],
  ["/login/%63allback", "percent-encoded unreserved letter (RFC 3986 §6.2.2.2)"],
  ["/%6C%6F%67%69%6E/%63%61%6C%6C%62%61%63%6B", "every letter encoded"],
  ["/login/%43allback", "encoded upper-case letter"],
  ["/login%2Fcallback", "encoded slash (servers that decode %2F before matching)"],
  ["/login%2fcallback%2f", "encoded slash, lower-case hex"],
  ["/login/%2563allback", "double-encoded letter (a server that decodes twice)"],
  ["/login/callback;jsessionid=abc", "path parameter (RFC 3986 §3.3)"],
  ["/login;x=1/callback;y", "path parameters on each segment"],
  ["//login/callback", "leading slashes merged"],
  ["/login//callback", "inner slashes merged"],
  ["/login\\callback", "backslash as slash (WHATWG, Cloudflare normalization)"],
  ["/login%5Ccallback", "encoded backslash"],
];

const PASSED: Array<[string, string]> = [
  ["/login", "another Auth0 path"],
  ["/login/callbacks", "a longer name"],
  ["/login/callback/x", "a deeper path"],
  ["/login/callback.json", "an extension"],
  ["/login/callback/..", "dot-dot leaves /login"],
  ["/callback", "no /login"],
  ["/xlogin/callback", "another first segment"],
  ["/login/call%20back", "an encoded space is not removed by anyone"],
  ["/login/callback%00", "a NUL byte is part of the name"],
  ["/login/callback%20", "a trailing encoded space"],
  ["/u/login/callback", "under another path"],
];

describe("spellings of /login/callback (pure)", () => {
  it.each(ROUTED)("%s is the callback: %s", (path) => {
    expect(isCallbackPath(path)).toBe(true);
  });
  it.each(PASSED)("%s is not the callback: %s", (path) => {
    expect(isCallbackPath(path)).toBe(false);
  });
  it("folds case, dots, encodings and parameters into segments", () => {
    expect(canonicalSegments("/LOGIN/./x/../Callback;jsessionid=1/")).toEqual(["login", "callback"]);
    expect(canonicalSegments("/%")).toEqual(["%"]);
    expect(canonicalSegments("/%E0%A4%A")).toEqual(["\ufffd%a"]);
  });
});

describe("spellings of /login/callback through the Worker", () => {
  it.each(ROUTED)("routes %s like the callback (%s): a migrated connection is redirected", async (path) => {
    const res = await call(new Request(`https://auth.example.com${path}?connection=acme-saml`));
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe("https://sso.example.com/auth0/acme/callback?connection=acme-saml");
  });

  it.each(ROUTED)("forwards %s to Auth0 spelled as sent when fallback=auth0 is present", async (path) => {
    const sent = `https://auth.example.com${path}?connection=acme-saml&fallback=auth0`;
    const got = await received(await call(new Request(sent)));
    expect(got.url).toBe(`${new URL(sent).pathname}?connection=acme-saml`);
  });

  it.each(PASSED)("passes %s through to Auth0 untouched (%s)", async (path) => {
    const sent = `https://auth.example.com${path}?connection=acme-saml`;
    const res = await call(new Request(sent));
    expect(res.status).toBe(200);
    const got = await received(res);
    expect(got.url).toBe(`${new URL(sent).pathname}?connection=acme-saml`);
  });
});
