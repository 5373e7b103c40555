/**
 * Reads an Auth0 SAML AuthnRequest (SAML 2.0 core §3.4.1) as it leaves for the IdP:
 * its `ID` (which the IdP's Response echoes as `InResponseTo`), its
 * `AssertionConsumerServiceURL` and its `<Issuer>` (Auth0's SP entity ID,
 * by default `urn:auth0:{tenant}:{connection}`).
 *
 * Encodings (SAML 2.0 bindings): HTTP-Redirect §3.4.4.1 — DEFLATE (RFC 1951, raw)
 * then base64; HTTP-POST §3.5.4 — base64 only. Inflation is bounded, so a
 * deflate bomb costs at most MAX_XML_BYTES. A DOCTYPE is refused, entities are
 * never expanded (as in src/callback/xml.ts).
 */
import { SaxesParser, type SaxesTagNS } from "saxes";
import { concatBytes } from "../bytes";
import { base64ToBytes } from "./base64";

const SAML2_ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion";
const SAML2_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol";
/** Auth0's AuthnRequests are about 1 KB; anything near this is not one. */
export const MAX_XML_BYTES = 64 * 1024;
const MAX_VALUE_LENGTH = 1024;

export interface AuthnRequestFacts {
  /** The request's `ID` attribute (xs:ID), echoed by the IdP as `InResponseTo`. */
  id: string | undefined;
  assertionConsumerServiceUrl: string | undefined;
  /** The `<saml:Issuer>` child of the request: the SP entity ID. */
  issuer: string | undefined;
}

export type SamlBinding = "redirect" | "post";

/** undefined when the value is not a readable AuthnRequest in that binding's encoding. */
export async function readAuthnRequest(encoded: string, binding: SamlBinding): Promise<AuthnRequestFacts | undefined> {
  const bytes = base64ToBytes(encoded);
  if (bytes === undefined) return undefined;
  const xmlBytes = binding === "redirect" ? await inflateRaw(bytes, MAX_XML_BYTES) : bytes;
  if (xmlBytes === undefined || xmlBytes.length > MAX_XML_BYTES) return undefined;
  return scanAuthnRequest(new TextDecoder("utf-8").decode(xmlBytes));
}

/** Raw DEFLATE (RFC 1951) inflation that stops with undefined past `limit` bytes or on bad data. */
export async function inflateRaw(bytes: Uint8Array<ArrayBuffer>, limit: number): Promise<Uint8Array | undefined> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel();
        return undefined;
      }
      chunks.push(value);
    }
  } catch {
    return undefined;
  }
  return concatBytes(chunks, total);
}

class Refused extends Error {}
class Finished extends Error {}

/** The facts of an AuthnRequest document; undefined when the root is anything else. */
export function scanAuthnRequest(xml: string): AuthnRequestFacts | undefined {
  const facts: AuthnRequestFacts = { id: undefined, assertionConsumerServiceUrl: undefined, issuer: undefined };
  let depth = 0;
  let capturing = false;
  let text = "";
  const parser = new SaxesParser({ xmlns: true, position: false });
  parser.on("error", (err) => {
    throw new Refused(err.message);
  });
  parser.on("doctype", () => {
    throw new Refused("a DOCTYPE is not allowed in an AuthnRequest");
  });
  parser.on("opentag", (tag: SaxesTagNS) => {
    depth++;
    if (depth === 1) {
      if (tag.uri !== SAML2_PROTOCOL || tag.local !== "AuthnRequest") throw new Refused("not an AuthnRequest");
      facts.id = plainAttribute(tag, "ID");
      facts.assertionConsumerServiceUrl = plainAttribute(tag, "AssertionConsumerServiceURL");
    } else if (depth === 2 && tag.uri === SAML2_ASSERTION && tag.local === "Issuer") {
      capturing = true;
      text = "";
    }
  });
  parser.on("text", (chunk) => {
    if (capturing && text.length < MAX_VALUE_LENGTH) text += chunk;
  });
  parser.on("closetag", () => {
    depth--;
    if (capturing) {
      const issuer = text.trim();
      if (issuer !== "" && issuer.length <= MAX_VALUE_LENGTH) facts.issuer = issuer;
      // Issuer is the first child (core §3.2.1): nothing after it is needed.
      throw new Finished();
    }
  });
  try {
    parser.write(xml).close();
  } catch (err) {
    if (err instanceof Finished) return facts;
    return undefined;
  }
  return facts;
}

function plainAttribute(tag: SaxesTagNS, name: string): string | undefined {
  const attribute = tag.attributes[name];
  if (attribute === undefined || attribute.uri !== "") return undefined;
  const value = attribute.value.trim();
  return value === "" || value.length > MAX_VALUE_LENGTH ? undefined : value;
}
