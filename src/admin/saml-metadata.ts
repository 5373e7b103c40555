/**
 * Checks a document is SAML 2.0 metadata fit to be served in Auth0's place (SAML 2.0
 * metadata, OASIS saml-metadata-2.0-os §2.3.2): a well-formed XML document, UTF-8, whose
 * root is `EntityDescriptor` in the metadata namespace with an `entityID`, at most
 * MAX_METADATA_BYTES. A DOCTYPE is refused on sight (no DTD, so no entity of any kind is
 * declared or expanded: the SAML security considerations forbid DTD processing), and so is
 * nesting deeper than MAX_DEPTH. saxes parses it without building a tree.
 */
import { SaxesParser } from "saxes";

export const SAML_METADATA_NS = "urn:oasis:names:tc:SAML:2.0:metadata";
/** Auth0's SP metadata of one connection is 2–6 KiB; the API's body limit (64 KiB) is the ceiling. */
export const MAX_METADATA_BYTES = 64 * 1024;
const MAX_DEPTH = 32;

export type MetadataCheck = { ok: true; entityId: string } | { ok: false; reason: string };

/** Whether `bytes` is a SAML metadata document the router may serve (see the module comment). */
export function checkSamlMetadata(bytes: Uint8Array): MetadataCheck {
  if (bytes.byteLength === 0) return { ok: false, reason: "the document is empty" };
  if (bytes.byteLength > MAX_METADATA_BYTES) {
    return {
      ok: false,
      reason: `the document has ${bytes.byteLength} bytes; SP metadata is at most ${MAX_METADATA_BYTES}`,
    };
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, reason: "the document is not UTF-8" };
  }
  const parser = new SaxesParser({ xmlns: true, position: true });
  let problem: string | undefined;
  let depth = 0;
  let root: { ok: true; entityId: string } | undefined;
  const fail = (reason: string): void => {
    problem ??= reason;
  };
  parser.on("error", (err) => fail(`not well-formed XML: ${err.message.slice(0, 160)}`));
  parser.on("doctype", () => fail("the document has a DOCTYPE (DTDs and entities are refused)"));
  parser.on("opentag", (tag) => {
    depth += 1;
    if (depth > MAX_DEPTH) fail(`elements nest deeper than ${MAX_DEPTH}`);
    if (depth !== 1) return;
    if (tag.local !== "EntityDescriptor" || tag.uri !== SAML_METADATA_NS) {
      fail(`the root element is {${tag.uri}}${tag.local}, not EntityDescriptor in ${SAML_METADATA_NS}`);
      return;
    }
    const entityId = tag.attributes["entityID"];
    const value = typeof entityId === "string" ? entityId : entityId?.value;
    if (value === undefined || value.trim() === "") fail("the EntityDescriptor has no entityID");
    else root = { ok: true, entityId: value };
  });
  parser.on("closetag", () => {
    depth -= 1;
  });
  try {
    // Written in slices so a failure stops the parse early.
    for (let i = 0; i < text.length && problem === undefined; i += 16_384) parser.write(text.slice(i, i + 16_384));
    if (problem === undefined) parser.close();
  } catch (err) {
    fail(`not well-formed XML: ${err instanceof Error ? err.message.slice(0, 160) : "parse failed"}`);
  }
  if (problem !== undefined) return { ok: false, reason: problem };
  return root ?? { ok: false, reason: "the document has no root element" };
}
