/**
 * Identifying a callback from the first bytes of its body, as they arrive:
 * every IdP dialect the field has shown us, any chunking and any legal
 * percent-encoding, a 5 MiB response, and what a cut-off or broken body gives.
 */
import fc from "fast-check";
import { beforeEach, describe, expect, inject, it, vi } from "vitest";
import { Base64Decoder } from "../src/callback/base64-stream";
import { PeekableBody } from "../src/callback/body";
import { charsetOf, scanCallbackBody, type BodyScanResult } from "../src/callback/body-scan";
import { PercentDecoder } from "../src/callback/form-stream";
import { SignInXmlScanner } from "../src/callback/xml";
import type { RouteTableFile } from "../src/table/schema";
import type { Dialect } from "./support/dialects-setup";
import { TEST_TABLE } from "./support/table";
import { call, captureLogs, HOST, received, seed, sha256Hex } from "./support/worker";

vi.setConfig({ testTimeout: 60_000 });

const LIMIT = 512 * 1024;
const dialects = inject("dialects");
const hugeSaml = inject("hugeSaml");
const encoder = new TextEncoder();
const scannerWrite = SignInXmlScanner.prototype.write;

/** The form body a browser posts for a dialect (URLSearchParams = the HTML form serializer). */
function bodyOf(d: Dialect, extra: Record<string, string> = {}): string {
  const fields: Record<string, string> = d.field === "wresult" ? { wa: "wsignin1.0" } : {};
  fields[d.field] = d.value;
  return new URLSearchParams({ ...fields, ...extra }).toString();
}

/** A body stream that hands out `bytes` in the given chunk sizes and counts what was pulled. */
function streamOf(
  bytes: Uint8Array,
  sizes: number[] = [bytes.length],
): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  let offset = 0;
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      const size = Math.max(1, sizes[i++ % sizes.length] ?? bytes.length);
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
  return { stream, pulled: () => Math.min(offset, bytes.length) };
}

async function scan(body: string | Uint8Array, sizes?: number[], contentType?: string, limit = LIMIT) {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const { stream, pulled } = streamOf(bytes, sizes);
  const peekable = new PeekableBody(stream, String(bytes.length));
  const result = await scanCallbackBody(peekable, limit, charsetOf(contentType ?? null));
  return { result, pulled: pulled(), peekable, bytes };
}

function factsOf(result: BodyScanResult) {
  const r = result.signIn?.result;
  if (r === undefined || !r.ok) return { error: r === undefined ? "no sign-in field" : r.reason };
  return {
    issuers: r.facts.issuers,
    audiences: r.facts.audiences,
    encrypted: r.facts.encrypted,
    inResponseTo: r.facts.inResponseTo ?? null,
  };
}

async function forwarded(peekable: PeekableBody): Promise<Uint8Array> {
  return new Uint8Array(await new Response(peekable.forForwarding()).arrayBuffer());
}

describe("each IdP dialect is identified from the body scan", () => {
  it.each(dialects.map((d) => [d.name, d] as const))("%s", async (_name, d) => {
    const { result, peekable, bytes } = await scan(bodyOf(d, { RelayState: "rs-1" }), undefined, d.contentType);
    expect(factsOf(result)).toEqual(d.expected);
    expect(result.truncated).toBe(false);
    expect(await forwarded(peekable)).toEqual(bytes);
  });

  it("reads the same facts whatever the chunking and the (legal) percent-encoding", async () => {
    const reference = new Map<string, unknown>();
    for (const d of dialects) reference.set(d.name, d.expected);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...dialects),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 12 }),
        fc.infiniteStream(fc.integer({ min: 0, max: 3 })),
        async (d, sizes, choices) => {
          // Re-encode the field: each byte as-is where legal, or %XX in upper or lower case.
          const body = reencode(bodyOf(d), choices);
          const { result, peekable, bytes } = await scan(body, sizes, d.contentType);
          expect(factsOf(result)).toEqual(d.expected);
          expect(await forwarded(peekable)).toEqual(bytes);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("keeps RelayState, wctx and state when they come before the message", async () => {
    const d = dialects.find((x) => x.field === "wresult");
    if (d === undefined) throw new Error("no WS-Fed dialect");
    const body = `wctx=rm%3D0%26id%3Dpassive&state=s1&RelayState=r1&${bodyOf(d)}`;
    const { result } = await scan(body);
    expect(result.fields).toMatchObject({ wctx: "rm=0&id=passive", state: "s1", RelayState: "r1" });
  });
});

/**
 * Writes a urlencoded body another legal way, at random: a plain character as
 * %XX (upper or lower case), an escape's hex in the other case, `+` as %20.
 * `&` and `=` delimit fields and stay.
 */
function reencode(body: string, choices: fc.Stream<number>): string {
  const it = choices[Symbol.iterator]();
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] ?? "";
    const choice = it.next().value ?? 0;
    if (ch === "%") {
      const hex = body.slice(i + 1, i + 3);
      out += `%${choice % 2 === 0 ? hex.toUpperCase() : hex.toLowerCase()}`;
      i += 2;
    } else if (ch === "&" || ch === "=" || choice < 2) {
      out += ch;
    } else if (ch === "+") {
      out += "%20";
    } else {
      const hex = ch.charCodeAt(0).toString(16).padStart(2, "0");
      out += `%${choice === 2 ? hex.toUpperCase() : hex.toLowerCase()}`;
    }
  }
  return out;
}

describe("a 5 MiB response", () => {
  it("is identified from its first KB and the rest is never read to decide", async () => {
    const body = bodyOf(hugeSaml, { RelayState: "rs" });
    expect(body.length).toBeGreaterThanOrEqual(5 * 1024 * 1024);
    // 4 KiB chunks: the Response and Assertion Issuer, Subject and Conditions take ~6 KB of the form.
    const { result, pulled, peekable, bytes } = await scan(body, [4 * 1024]);
    expect(factsOf(result)).toEqual(hugeSaml.expected);
    expect(result.truncated).toBe(false);
    expect(result.bytesScanned).toBeLessThanOrEqual(12 * 1024);
    expect(pulled).toBeLessThanOrEqual(12 * 1024);
    expect(peekable.bytesRead).toBeLessThanOrEqual(pulled);
    // The forwarded body is still all of it, byte for byte.
    const out = await forwarded(peekable);
    expect(out.length).toBe(bytes.length);
    expect(await sha256Hex(new Uint8Array(out))).toBe(await sha256Hex(new Uint8Array(bytes)));
  });

  it("stops inside one big chunk as well", async () => {
    const { result, bytes } = await scan(bodyOf(hugeSaml), undefined);
    expect(factsOf(result)).toEqual(hugeSaml.expected);
    expect(result.bytesScanned).toBeLessThan(bytes.length);
  });

  it("decodes and parses at most one 512-byte slice past the identifying part of a chunk", async () => {
    const xml = new TextDecoder().decode(Uint8Array.from(atob(hugeSaml.value), (c) => c.charCodeAt(0)));
    const conditionsEnd = /<\/(?:[\w.-]+:)?Conditions>/.exec(xml);
    if (conditionsEnd === null) throw new Error("fixture without Conditions");
    const identifyingPart = conditionsEnd.index + conditionsEnd[0].length;
    let fed = 0;
    const write = vi.spyOn(SignInXmlScanner.prototype, "write").mockImplementation(function (
      this: SignInXmlScanner,
      text: string,
    ) {
      fed += text.length;
      return scannerWrite.call(this, text);
    });
    try {
      // The whole 5 MiB body in one chunk: the form slices it, the scan stops in the slice it needs.
      const { result } = await scan(bodyOf(hugeSaml), undefined);
      expect(factsOf(result)).toEqual(hugeSaml.expected);
    } finally {
      write.mockRestore();
    }
    // A 512-byte slice of the form decodes to at most 384 bytes of XML.
    expect(fed).toBeGreaterThanOrEqual(identifyingPart);
    expect(fed).toBeLessThanOrEqual(identifyingPart + 384);
  });
});

describe("cut-off and broken bodies", () => {
  const d = dialects[0] as Dialect;

  it("uses what was read when the limit cuts the message before its Audience, and says so", async () => {
    const body = bodyOf(d);
    const xml = atob(d.value);
    const issuerEnd = xml.indexOf("</saml:Issuer>") + "</saml:Issuer>".length;
    expect(issuerEnd).toBeLessThan(xml.indexOf("Audience>"));
    // The limit just past the Response's Issuer: it is read, the Audience is not.
    const b64Chars = Math.ceil((issuerEnd + 3) / 3) * 4;
    const limit = "SAMLResponse=".length + encodeURIComponent(d.value.slice(0, b64Chars)).length;
    const { result } = await scan(body, undefined, undefined, limit);
    expect(result.truncated).toBe(true);
    const r = result.signIn?.result;
    expect(r).toMatchObject({ ok: true, complete: false });
    if (r?.ok === true) {
      expect(r.facts.issuers).toEqual(d.expected.issuers);
      expect(r.facts.audiences).toEqual([]);
    }
  });

  it("refuses a document that ends before the identifying part", async () => {
    const xml = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">x`;
    const { result } = await scan(`SAMLResponse=${encodeURIComponent(btoa(xml))}`);
    expect(result.signIn?.result).toMatchObject({ ok: false });
  });

  it.each([
    ["a character outside the alphabet", "PHg+*A=="],
    ["data after the padding", "PHg+PC94Pg==PHg+"],
    ["a single dangling character", "PHg+P"],
    ["nothing", ""],
  ])("calls %s bad base64", async (_name, value) => {
    const { result } = await scan(`SAMLResponse=${encodeURIComponent(value)}&RelayState=r`);
    expect(result.signIn?.result).toEqual({ ok: false, reason: "bad-base64" });
  });

  it("refuses a DOCTYPE that arrives split over many chunks", async () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`;
    const { result } = await scan(`SAMLResponse=${encodeURIComponent(btoa(xml))}`, [3]);
    expect(result.signIn?.result).toMatchObject({ ok: false, reason: expect.stringContaining("DOCTYPE") });
  });
});

describe("decoding pieces", () => {
  it("percent-decodes escapes cut anywhere by chunk boundaries", () => {
    const input = encoder.encode("a%2Bb+c%2fd%zz%4%");
    for (let cut = 0; cut <= input.length; cut++) {
      const decoder = new PercentDecoder();
      const parts = [decoder.decode(input.subarray(0, cut)), decoder.decode(input.subarray(cut)), decoder.flush()];
      expect(new TextDecoder().decode(concat(parts))).toBe("a+b c/d%zz%4%");
    }
  });

  it("decodes base64 cut anywhere, with or without padding and line breaks", () => {
    for (const text of ["<x></x>", "<x>é</x>!", "ab", "abc", "abcd"]) {
      const b64 = btoa(String.fromCharCode(...encoder.encode(text)));
      for (const variant of [b64, b64.replace(/=+$/, ""), b64.replace(/(.{3})/g, "$1\r\n")]) {
        const bytes = encoder.encode(variant);
        for (let cut = 0; cut <= bytes.length; cut++) {
          const d = new Base64Decoder();
          const parts = [d.write(bytes.subarray(0, cut)), d.write(bytes.subarray(cut)), d.end()];
          expect(parts.every((p) => p !== undefined)).toBe(true);
          expect(new TextDecoder().decode(concat(parts as Uint8Array[]))).toBe(text);
        }
      }
    }
  });

  it.each([
    ["application/x-www-form-urlencoded", undefined],
    ["application/x-www-form-urlencoded; charset=UTF-8", "utf-8"],
    ['application/x-www-form-urlencoded;Charset="ISO-8859-1"', "iso-8859-1"],
    ["application/x-www-form-urlencoded; boundary=x; charset=windows-1252", "windows-1252"],
  ])("reads the charset of %s", (contentType, charset) => {
    expect(charsetOf(contentType)).toBe(charset);
  });

  it("decodes a wresult in the content type's charset", async () => {
    const xml = `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" Issuer="http://adfs.müller.test/trust"><saml:Conditions/></saml:Assertion>`;
    const latin1 = Uint8Array.from([...`wa=wsignin1.0&wresult=${xml}`].map((c) => c.charCodeAt(0)));
    const { result } = await scan(latin1, undefined, "application/x-www-form-urlencoded; charset=ISO-8859-1");
    expect(factsOf(result)).toMatchObject({ issuers: ["http://adfs.müller.test/trust"] });
  });
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** TEST_TABLE plus the dialects' connections that only an issuer identifies. */
const DIALECT_TABLE: RouteTableFile = {
  ...TEST_TABLE,
  routes: [
    ...TEST_TABLE.routes.filter((r) => r.connection !== "hooli-adfs"),
    {
      connection: "hooli-adfs",
      state: "legacy",
      protocol: "adfs",
      match: { idpEntityId: "http://adfs.hooli.test/adfs/services/trust" },
    },
    {
      connection: "umbrella-google",
      state: "migrated",
      protocol: "samlp",
      match: { idpEntityId: "https://accounts.google.com/o/saml2?idpid=C03xk9q2b" },
    },
    {
      connection: "vandelay-adfs",
      state: "migrated",
      protocol: "adfs",
      match: { idpEntityId: "http://adfs.vandelay.test/adfs/services/trust" },
    },
  ],
};

describe("the router identifies every dialect on /login/callback", () => {
  beforeEach(() => seed(DIALECT_TABLE));

  /** Which connection each dialect's message belongs to, by its Audience or its Issuer. */
  function connectionOf(d: Dialect): string {
    const audience = d.expected.audiences.find((a) => a.split(":").length === 4);
    if (audience !== undefined) return audience.split(":")[3] ?? "";
    const issuer = d.expected.issuers[0] ?? "";
    const route = DIALECT_TABLE.routes.find((r) => r.match?.idpEntityId === issuer);
    return route?.connection ?? "";
  }

  it.each(dialects.map((d) => [d.name, d] as const))("%s", async (_name, d) => {
    const body = bodyOf(d, { RelayState: "rs" });
    const { result, logs } = await captureLogs(() =>
      call(new Request(`${HOST}/login/callback`, { method: "POST", headers: { "content-type": d.contentType }, body })),
    );
    const log = logs.find((l) => l["event"] === "callback");
    expect(log).toMatchObject({
      connection: connectionOf(d),
      bodyScan: d.field === "SAMLResponse" ? "saml" : "wsfed",
    });
    if (result.status === 200) expect((await received(result)).bodySha256).toBe(await sha256Hex(encoder.encode(body)));
    else expect(result.status).toBe(307);
  });

  it("identifies a 5 MiB response (past the 512 KiB scan limit) and forwards it byte-identical", async () => {
    await seed({ ...DIALECT_TABLE, settings: { ...DIALECT_TABLE.settings, mode: "shadow" } });
    const body = encoder.encode(bodyOf(hugeSaml, { RelayState: "rs" }));
    const { stream, pulled } = streamOf(body, [64 * 1024]);
    const { result, logs } = await captureLogs(() =>
      call(
        new Request(`${HOST}/login/callback`, {
          method: "POST",
          headers: { "content-type": hugeSaml.contentType, "content-length": String(body.length) },
          body: stream,
          duplex: "half",
        } as RequestInit),
      ),
    );
    expect(logs.find((l) => l["event"] === "callback")).toMatchObject({
      connection: "acme-saml",
      identifiedBy: "saml-audience",
      bodyScan: "saml",
      shadowDecision: "new",
    });
    const got = await received(result);
    expect(got.bodyLength).toBe(body.length);
    expect(got.bodySha256).toBe(await sha256Hex(body));
    expect(got.headers["content-length"]).toBe(String(body.length));
    expect(pulled()).toBe(body.length);
  });

  it("redirects a 5 MiB response of a migrated connection after reading only its head", async () => {
    const body = encoder.encode(bodyOf(hugeSaml, { RelayState: "rs" }));
    const { stream, pulled } = streamOf(body, [64 * 1024]);
    const res = await call(
      new Request(`${HOST}/login/callback`, {
        method: "POST",
        headers: { "content-type": hugeSaml.contentType },
        body: stream,
        duplex: "half",
      } as RequestInit),
    );
    expect(res.status).toBe(307);
    expect(res.headers.get("location")).toBe("https://sso.example.com/auth0/acme/callback");
    expect(pulled()).toBeLessThanOrEqual(64 * 1024);
  });
});
