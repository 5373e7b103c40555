/**
 * Reads who sent an XML sign-in message and for whom, from its structure, as
 * the text arrives: elements are matched by namespace URI and local name, so
 * `samlp:`/`saml:` prefixes, other prefixes and default namespaces all read
 * the same. The scan is done as soon as the identifying part is read — in
 * schema order (SAML 2.0 core §2.3.3 and §3.2.2, SAML 1.1 core §2.3.2) the
 * Response Issuer, the Assertion Issuer, Subject and Conditions (Audience)
 * come before the statements, where thousands of group attributes make a
 * response large — so a multi-megabyte response costs its first few KB.
 *
 * Safety: a document with a DOCTYPE is refused on sight (SAML 2.0 bindings
 * §3.5.5.2 / the SAML security considerations say DTDs must not be processed),
 * and the parser never expands an entity it was not born knowing, so an
 * entity-expansion bomb or an XXE payload costs one failed parse; elements
 * nested deeper than MAX_DEPTH are refused the same way.
 */
import { SaxesParser, type SaxesTagNS } from "saxes";

const SAML2_ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion";
const SAML2_PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol";
/** SAML 1.1 shares the 1.0 assertion namespace (SAML 1.1 core §2.1). */
const SAML1_ASSERTION = "urn:oasis:names:tc:SAML:1.0:assertion";

/** Values kept per kind; more than this in one message is not a real IdP. */
const MAX_VALUES = 4;
const MAX_VALUE_LENGTH = 1024;
/** An AuthnRequest ID is an xs:ID; Auth0's are ~40 characters. */
const MAX_IN_RESPONSE_TO_LENGTH = 256;
/**
 * Deepest element nesting read. Real messages nest about 10 deep (WS-Trust
 * envelope > token > Assertion > Signature > KeyInfo > X509Data > …). saxes
 * resolves every element's namespace by walking the open elements, so
 * unbounded nesting costs O(depth²): a 512 KiB body of `<a>` tags took 90 s
 * of CPU before this limit.
 */
const MAX_DEPTH = 64;

/** Elements that follow the identifying part of an assertion (a scan stops at the first). */
const STATEMENTS = new Set([
  "Advice",
  "AuthnStatement",
  "AttributeStatement",
  "AuthzDecisionStatement",
  "AuthenticationStatement",
  "AuthorizationDecisionStatement",
  "SubjectStatement",
  "Statement",
]);

export interface XmlFacts {
  /** SAML 2.0 <Audience> values, SAML 1.1 <Audience> values. */
  audiences: string[];
  /** Response-level and assertion-level <Issuer>, and SAML 1.1 Issuer attributes, in document order. */
  issuers: string[];
  /** True when the assertion is encrypted: only the Response Issuer was readable. */
  encrypted: boolean;
  /**
   * The SAML 2.0 Response's `InResponseTo` (the ID of the AuthnRequest it
   * answers; SAML 2.0 core §3.2.2), else the SubjectConfirmationData's;
   * undefined for an IdP-initiated response and for WS-Fed tokens.
   */
  inResponseTo: string | undefined;
}

export type XmlScan =
  /** `complete`: the identifying part was read (or the whole document); false when the input was cut first. */
  { ok: true; facts: XmlFacts; complete: boolean } | { ok: false; reason: string };

class Refused extends Error {}
class Done extends Error {}

/**
 * Feed it text with `write` until it answers "done" (or the input ends), then
 * `finish`. Never throws; a refused document is reported by `finish`.
 */
export class SignInXmlScanner {
  private readonly facts: XmlFacts = { audiences: [], issuers: [], encrypted: false, inResponseTo: undefined };
  private readonly parser = new SaxesParser({ xmlns: true, position: false });
  private readonly stack: Array<{ uri: string; local: string }> = [];
  private capture: "audience" | "issuer" | undefined;
  private text = "";
  private started = false;
  private state: { kind: "reading" } | { kind: "done" } | { kind: "refused"; reason: string } = { kind: "reading" };
  private subjectInResponseTo: string | undefined;

  constructor() {
    const parser = this.parser;
    parser.on("error", (err) => {
      throw new Refused(err.message);
    });
    parser.on("doctype", () => {
      throw new Refused("a DOCTYPE is not allowed in a sign-in message");
    });
    parser.on("opentag", (tag) => this.onOpen(tag));
    parser.on("text", (chunk) => {
      if (this.capture !== undefined && this.text.length < MAX_VALUE_LENGTH) this.text += chunk;
    });
    parser.on("closetag", (tag) => this.onClose(tag));
    parser.on("end", () => {
      throw new Done();
    });
  }

  /** More of the document; "done" once the identifying part has been read or the document was refused. */
  write(text: string): "more" | "done" {
    if (this.state.kind !== "reading") return "done";
    let input = text;
    if (!this.started) {
      // A BOM, or a newline some IdPs put before the XML declaration, is not part of the document.
      input = input.replace(/^[\uFEFF\s]+/, "");
      if (input === "") return "more";
      this.started = true;
    }
    return this.run(() => this.parser.write(input));
  }

  /** The input ended (`ended`: the whole document was given) or was cut off by the scan limit. */
  finish(ended: boolean): XmlScan {
    if (this.state.kind === "reading" && ended) this.run(() => this.parser.close());
    if (this.state.kind === "refused") return { ok: false, reason: this.state.reason };
    if (this.state.kind === "reading" && ended) return { ok: false, reason: "unreadable XML" };
    this.facts.inResponseTo ??= this.subjectInResponseTo;
    return { ok: true, facts: this.facts, complete: this.state.kind === "done" };
  }

  private run(step: () => unknown): "more" | "done" {
    try {
      step();
      return "more";
    } catch (err) {
      if (err instanceof Done) this.state = { kind: "done" };
      else {
        const reason = err instanceof Refused ? err.message.slice(0, 200) : "unreadable XML";
        this.state = { kind: "refused", reason };
      }
      return "done";
    }
  }

  private onOpen(tag: SaxesTagNS): void {
    const { uri, local } = tag;
    const parent = this.stack[this.stack.length - 1];
    if (this.stack.length >= MAX_DEPTH) throw new Refused(`elements nested deeper than ${MAX_DEPTH}`);
    this.stack.push({ uri, local });
    const saml2 = uri === SAML2_ASSERTION;
    const saml1 = uri === SAML1_ASSERTION;
    if (uri === SAML2_PROTOCOL && local === "Response" && this.facts.inResponseTo === undefined) {
      this.facts.inResponseTo = attribute(tag, "InResponseTo", MAX_IN_RESPONSE_TO_LENGTH);
    }
    if (saml2 && local === "EncryptedAssertion") {
      // Only what came before it (the Response's Issuer and InResponseTo) can be read.
      this.facts.encrypted = true;
      throw new Done();
    }
    if ((saml2 || saml1) && STATEMENTS.has(local)) throw new Done();
    if (saml2 && local === "SubjectConfirmationData") {
      this.subjectInResponseTo ??= attribute(tag, "InResponseTo", MAX_IN_RESPONSE_TO_LENGTH);
    }
    if ((saml2 || saml1) && local === "Audience") {
      this.capture = "audience";
      this.text = "";
    } else if (
      saml2 &&
      local === "Issuer" &&
      parent !== undefined &&
      ((parent.uri === SAML2_PROTOCOL && parent.local === "Response") ||
        (parent.uri === SAML2_ASSERTION && parent.local === "Assertion"))
    ) {
      this.capture = "issuer";
      this.text = "";
    } else if (saml1 && local === "Assertion") {
      // SAML 1.1 (WS-Fed/ADFS): the issuer is an attribute of <Assertion>.
      const issuer = attribute(tag, "Issuer", MAX_VALUE_LENGTH);
      if (issuer !== undefined) add(this.facts.issuers, issuer);
    }
  }

  private onClose(tag: SaxesTagNS): void {
    this.stack.pop();
    if (this.capture === "audience") add(this.facts.audiences, this.text);
    if (this.capture === "issuer") add(this.facts.issuers, this.text);
    this.capture = undefined;
    // Conditions (with the Audience) is the last identifying element of an assertion.
    if ((tag.uri === SAML2_ASSERTION || tag.uri === SAML1_ASSERTION) && tag.local === "Conditions") throw new Done();
  }
}

/** The whole-document form of SignInXmlScanner (for callers that hold the text). */
export function scanSignInXml(xml: string): XmlScan {
  const scanner = new SignInXmlScanner();
  scanner.write(xml);
  return scanner.finish(true);
}

function attribute(tag: SaxesTagNS, name: string, maxLength: number): string | undefined {
  const attr = tag.attributes[name];
  if (attr === undefined || attr.uri !== "") return undefined;
  const value = attr.value.trim();
  return value === "" || value.length > maxLength ? undefined : value;
}

function add(list: string[], raw: string): void {
  const value = raw.trim();
  if (value === "" || value.length > MAX_VALUE_LENGTH || list.length >= MAX_VALUES) return;
  if (!list.includes(value)) list.push(value);
}
