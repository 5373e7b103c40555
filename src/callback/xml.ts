/**
 * Reads who sent an XML sign-in message and for whom, from its structure:
 * elements are matched by namespace URI and local name, so `samlp:`/`saml:`
 * prefixes, other prefixes and default namespaces all read the same.
 *
 * Safety: a document with a DOCTYPE is refused on sight (SAML 2.0 bindings
 * §3.5.5.2 / the SAML security considerations say DTDs must not be processed),
 * and the parser never expands an entity it was not born knowing, so an
 * entity-expansion bomb or an XXE payload costs one failed parse.
 */
import { SaxesParser, type SaxesTagNS } from "saxes";

const SAML2_ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion";
const SAML2_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol";
/** SAML 1.1 shares the 1.0 assertion namespace (SAML 1.1 core §2.1). */
const SAML1_ASSERTION = "urn:oasis:names:tc:SAML:1.0:assertion";

/** Values kept per kind; more than this in one message is not a real IdP. */
const MAX_VALUES = 4;
const MAX_VALUE_LENGTH = 1024;

export interface XmlFacts {
  /** SAML 2.0 <Audience> values, SAML 1.1 <Audience> values. */
  audiences: string[];
  /** Response-level and assertion-level <Issuer>, and SAML 1.1 Issuer attributes, in document order. */
  issuers: string[];
  /** True when the assertion is encrypted: only the Response Issuer was readable. */
  encrypted: boolean;
}

export type XmlScan = { ok: true; facts: XmlFacts } | { ok: false; reason: string };

class Refused extends Error {}

export function scanSignInXml(xml: string): XmlScan {
  const facts: XmlFacts = { audiences: [], issuers: [], encrypted: false };
  const stack: Array<{ uri: string; local: string }> = [];
  let capture: "audience" | "issuer" | undefined;
  let text = "";

  const parser = new SaxesParser({ xmlns: true, position: false });
  parser.on("error", (err) => {
    throw new Refused(err.message);
  });
  parser.on("doctype", () => {
    throw new Refused("a DOCTYPE is not allowed in a sign-in message");
  });
  parser.on("opentag", (tag: SaxesTagNS) => {
    const uri = tag.uri;
    const local = tag.local;
    const parent = stack[stack.length - 1];
    stack.push({ uri, local });
    if (uri === SAML2_ASSERTION && local === "EncryptedAssertion") facts.encrypted = true;
    if ((uri === SAML2_ASSERTION || uri === SAML1_ASSERTION) && local === "Audience") {
      capture = "audience";
      text = "";
    } else if (
      uri === SAML2_ASSERTION &&
      local === "Issuer" &&
      parent !== undefined &&
      ((parent.uri === SAML2_PROTOCOL && parent.local === "Response") ||
        (parent.uri === SAML2_ASSERTION && parent.local === "Assertion"))
    ) {
      capture = "issuer";
      text = "";
    } else if (uri === SAML1_ASSERTION && local === "Assertion") {
      // SAML 1.1 (WS-Fed/ADFS): the issuer is an attribute of <Assertion>.
      const issuer = tag.attributes["Issuer"];
      if (issuer !== undefined && issuer.uri === "") add(facts.issuers, issuer.value);
    }
  });
  parser.on("text", (chunk) => {
    if (capture !== undefined && text.length < MAX_VALUE_LENGTH) text += chunk;
  });
  parser.on("closetag", () => {
    stack.pop();
    if (capture === "audience") add(facts.audiences, text);
    if (capture === "issuer") add(facts.issuers, text);
    capture = undefined;
  });

  try {
    parser.write(xml).close();
  } catch (err) {
    if (err instanceof Refused) return { ok: false, reason: err.message.slice(0, 200) };
    return { ok: false, reason: "unreadable XML" };
  }
  return { ok: true, facts };
}

function add(list: string[], raw: string): void {
  const value = raw.trim();
  if (value === "" || value.length > MAX_VALUE_LENGTH || list.length >= MAX_VALUES) return;
  if (!list.includes(value)) list.push(value);
}
