/**
 * Reads the small self-submitting HTML form of the SAML HTTP-POST binding
 * (SAML 2.0 bindings §3.5.4): `<form method="post" action="{IdP SSO URL}">` with
 * hidden inputs `SAMLRequest` and `RelayState`. Only `<form>` and `<input>` start
 * tags are read; attribute values are decoded for the character references an
 * HTML serializer emits (HTML §13.2.5.72). The caller bounds the page's size.
 */

export interface AutoPostForm {
  action: string;
  /** Named inputs of the first POST form, in document order (first of a name wins). */
  fields: Map<string, string>;
}

const TAG = /<(form|input)\b((?:[^>"']|"[^"]*"|'[^']*')*)>|<\/form\s*>/gi;
const ATTRIBUTE = /([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;

/** The first form with method=post and a SAMLRequest input; undefined when there is none. */
export function findSamlPostForm(html: string): AutoPostForm | undefined {
  let current: AutoPostForm | undefined;
  for (const match of html.matchAll(TAG)) {
    const name = match[1]?.toLowerCase();
    if (name === undefined) {
      // </form>
      if (current?.fields.has("SAMLRequest")) return current;
      current = undefined;
      continue;
    }
    const attributes = parseAttributes(match[2] ?? "");
    if (name === "form") {
      if (current?.fields.has("SAMLRequest")) return current;
      const method = (attributes.get("method") ?? "get").toLowerCase();
      const action = attributes.get("action");
      current = method === "post" && action !== undefined ? { action, fields: new Map() } : undefined;
    } else if (current !== undefined) {
      const field = attributes.get("name");
      const value = attributes.get("value") ?? "";
      if (field !== undefined && !current.fields.has(field)) current.fields.set(field, value);
    }
  }
  return current?.fields.has("SAMLRequest") ? current : undefined;
}

function parseAttributes(source: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const match of source.matchAll(ATTRIBUTE)) {
    const name = match[1]?.toLowerCase();
    if (name === undefined || attributes.has(name)) continue;
    attributes.set(name, decodeCharacterReferences(match[2] ?? match[3] ?? match[4] ?? ""));
  }
  return attributes;
}

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", "#39": "'" };

/** &amp; &lt; &gt; &quot; &apos; and numeric references; anything else is kept as written. */
export function decodeCharacterReferences(value: string): string {
  if (!value.includes("&")) return value;
  return value.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref.startsWith("#")) {
      const code = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}
