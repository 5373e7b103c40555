/**
 * One pass over a callback's form body, as it arrives, for what identifies its
 * connection: the `SAMLResponse` (base64 SAML 2.0 Response) or `wresult`
 * (WS-Fed RSTR XML) field is decoded incrementally and fed to a streaming XML
 * scan that stops as soon as Issuer, Audience and InResponseTo have been read;
 * `id_token` and `iss` (OIDC form_post) and the opaque handles an IdP echoes
 * (`RelayState`, `wctx`, `state`) are kept when they come before that point.
 *
 * Bounds: at most `limit` bytes are read, and reading stops at the first
 * sign-in message's identifying part; what was read is held by PeekableBody
 * for forwarding, unchanged. Nothing else is buffered beyond small fields.
 */
import { Base64Decoder } from "./base64-stream";
import type { PeekableBody, ScanStep } from "./body";
import { FormReader, type FieldSink } from "./form-stream";
import { SignInXmlScanner, type XmlScan } from "./xml";

/** Fields whose whole value is kept (bounded); a longer value is dropped, not cut. */
const KEPT_FIELDS = { id_token: 64 * 1024, iss: 400, RelayState: 4096, wctx: 4096, state: 4096 } as const;
export type KeptField = keyof typeof KEPT_FIELDS;

export type SignInField = "SAMLResponse" | "wresult";

export type SignInScan =
  | { field: SignInField; result: XmlScan }
  /** SAMLResponse whose value is not base64. */
  | { field: "SAMLResponse"; result: { ok: false; reason: "bad-base64" } };

export interface BodyScanResult {
  /** The first SAMLResponse or wresult field, scanned; undefined when the scanned part had none. */
  signIn: SignInScan | undefined;
  /** Values of the kept fields seen in the scanned part (the first of each). */
  fields: Partial<Record<KeptField, string>>;
  /** The limit cut the body before the scan was done. */
  truncated: boolean;
  /** Bytes of the body read to decide. */
  bytesScanned: number;
}

export interface ScanOptions {
  /**
   * Fields to keep reading for after the sign-in message is identified (e.g.
   * `wctx`, which WS-Fed IdPs post after `wresult`); still bounded by the limit.
   * Default: none — the scan stops at the identifying part.
   */
  readOn?: readonly KeptField[];
}

function isKeptField(name: string): name is KeptField {
  return Object.hasOwn(KEPT_FIELDS, name);
}

/**
 * Scans `body` (an application/x-www-form-urlencoded POST). `charset` is the
 * content type's charset parameter: it decodes a `wresult` (XML sent as text);
 * a SAMLResponse's XML is UTF-8 as SAML requires.
 */
export async function scanCallbackBody(
  body: PeekableBody,
  limit: number,
  charset: string | undefined,
  options: ScanOptions = {},
): Promise<BodyScanResult> {
  const fields: Partial<Record<KeptField, string>> = {};
  const readOn = options.readOn ?? [];
  const allSeen = () => readOn.every((name) => fields[name] !== undefined);
  let signIn: SignInSink | undefined;
  const reader = new FormReader((name) => {
    if ((name === "SAMLResponse" || name === "wresult") && signIn === undefined) {
      signIn = new SignInSink(name, charset, allSeen);
      return signIn;
    }
    if (isKeptField(name) && fields[name] === undefined) {
      return new KeptSink(KEPT_FIELDS[name], (value) => {
        fields[name] = value;
        // Read on only while the sign-in part is not done or a wanted field is missing.
        return signIn?.identified === true && allSeen() ? "stop" : "more";
      });
    }
    return undefined;
  });
  const end = await body.scan(limit, (chunk) => reader.write(chunk));
  if (end.complete) reader.end();
  const scanned = signIn?.result(end.complete);
  return {
    signIn: scanned,
    fields,
    truncated: !end.complete && !end.stopped,
    bytesScanned: end.bytesScanned,
  };
}

/** base64 (SAMLResponse) or text (wresult) -> UTF-8 decoding -> streaming XML scan. */
class SignInSink implements FieldSink {
  private readonly base64: Base64Decoder | undefined;
  private readonly text: TextDecoder;
  private readonly xml = new SignInXmlScanner();
  private badBase64 = false;
  private ended = false;
  /** The XML scan has read what identifies the connection (or refused the document). */
  identified = false;

  constructor(
    private readonly field: SignInField,
    charset: string | undefined,
    private readonly nothingElseWanted: () => boolean,
  ) {
    this.base64 = field === "SAMLResponse" ? new Base64Decoder() : undefined;
    this.text = textDecoder(field === "wresult" ? charset : undefined);
  }

  write(bytes: Uint8Array): ScanStep {
    if (this.identified) return this.nothingElseWanted() ? "stop" : "more";
    let decoded: Uint8Array | undefined = bytes;
    if (this.base64 !== undefined) {
      decoded = this.base64.write(bytes);
      if (decoded === undefined) {
        this.badBase64 = true;
        return this.markIdentified();
      }
    }
    if (this.xml.write(this.text.decode(decoded, { stream: true })) === "done") return this.markIdentified();
    return "more";
  }

  end(): ScanStep {
    this.ended = true;
    if (this.identified) return this.nothingElseWanted() ? "stop" : "more";
    if (this.base64 !== undefined) {
      const last = this.base64.end();
      if (last === undefined) {
        this.badBase64 = true;
        return this.markIdentified();
      }
      this.xml.write(this.text.decode(last, { stream: true }));
    }
    this.xml.write(this.text.decode());
    return this.markIdentified();
  }

  private markIdentified(): ScanStep {
    this.identified = true;
    return this.nothingElseWanted() ? "stop" : "more";
  }

  /** `bodyComplete`: the body ended (a value cut off by the limit is not a broken document). */
  result(bodyComplete: boolean): SignInScan {
    if (this.badBase64) return { field: "SAMLResponse", result: { ok: false, reason: "bad-base64" } };
    return { field: this.field, result: this.xml.finish(this.ended || bodyComplete) };
  }
}

/** Keeps a whole value up to `max` bytes; a longer one is dropped. */
class KeptSink implements FieldSink {
  private chunks: Uint8Array[] = [];
  private length = 0;

  constructor(
    private readonly max: number,
    private readonly keep: (value: string) => ScanStep,
  ) {}

  write(bytes: Uint8Array): ScanStep {
    this.length += bytes.length;
    if (this.length <= this.max) this.chunks.push(bytes.slice());
    else this.chunks = [];
    return "more";
  }

  end(): ScanStep {
    if (this.length > this.max) return "more";
    const all = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      all.set(chunk, offset);
      offset += chunk.length;
    }
    return this.keep(new TextDecoder("utf-8").decode(all));
  }
}

/** The charset's decoder when the platform knows the label, else UTF-8. */
function textDecoder(charset: string | undefined): TextDecoder {
  if (charset !== undefined) {
    try {
      return new TextDecoder(charset);
    } catch {
      // An unknown label: XML's default is UTF-8.
    }
  }
  return new TextDecoder("utf-8");
}

/** The `charset` parameter of a Content-Type (RFC 9110 §8.3), lower-cased, unquoted. */
export function charsetOf(contentType: string | null): string | undefined {
  if (contentType === null) return undefined;
  for (const param of contentType.split(";").slice(1)) {
    const eq = param.indexOf("=");
    if (eq === -1) continue;
    if (param.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    const value = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1")
      .toLowerCase();
    return value === "" ? undefined : value;
  }
  return undefined;
}
