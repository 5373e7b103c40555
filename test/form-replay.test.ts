import { describe, expect, it } from "vitest";
import { replayableFields } from "../src/callback/form-replay";
import { SUBMIT_SCRIPT, SUBMIT_SCRIPT_SHA256 } from "../src/callback/redirect";

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const fieldsOf = (text: string) => replayableFields(bytes(text), true);

describe("form mode re-sends a body only when the browser would write it byte for byte", () => {
  it("the CSP's hash is the SHA-256 of the page's one script", async () => {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(SUBMIT_SCRIPT));
    expect(btoa(String.fromCharCode(...new Uint8Array(digest)))).toBe(SUBMIT_SCRIPT_SHA256);
  });

  it("accepts what a browser's form serializer writes, with any field name, and returns the decoded fields", () => {
    const fields: Array<[string, string]> = [
      ["SAMLResponse", "PHNhbWxwOlJlc3BvbnNlLz4=\r\nPHg+"],
      ["RelayState", `rs/?a=1&b=2 "q" <t> 'a' +p %25 ü✓ *-._~\t`],
      ["submit", "x"],
      ["action", "https://evil.example/"],
      ["empty-value", ""],
    ];
    const body = new URLSearchParams(fields).toString();
    expect(fieldsOf(body)).toEqual(fields.map(([name, value]) => ({ name, value })));
    expect(fieldsOf("")).toEqual([]);
  });

  it.each([
    ["an escape that is not UTF-8", "a=%E9"],
    ["a malformed escape", "a=50%zz"],
    ["a lone LF (the browser sends CRLF)", "a=b%0Ac"],
    ["a lone CR", "a=b%0Dc"],
    ["NUL (the HTML parser makes it U+FFFD)", "a=b%00c"],
    ["another C0 control", "a=%1B%5B2J"],
    ["DEL", "a=%7F"],
    ["a C1 control", "a=%C2%9B"],
    ["a control in a name", "a%0A=b"],
    ["_charset_ (submitted as the page's encoding)", "_CharSet_=latin1"],
    ["a lower-case escape", "a=%2b"],
    ["a needless escape", "a=%41"],
    ["%20 (the browser writes +)", "a=b%20c"],
    ["a raw byte the serializer escapes", "a=b~c"],
    ["a raw non-ASCII byte", "a=\u00e9"],
    ["a segment without =", "a=1&flag"],
    ["an empty name (the browser skips the input)", "=value"],
    ["an empty segment", "a=1&&b=2"],
    ["a trailing &", "a=1&"],
    ["a second raw =", "a=b=c"],
  ])("refuses %s: %j", (_why, body) => {
    expect(fieldsOf(body)).toBeUndefined();
  });

  it("refuses a body cut off at the scan limit", () => {
    expect(replayableFields(bytes("a=1"), false)).toBeUndefined();
  });
});
