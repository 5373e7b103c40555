/**
 * Whether the "form" answer (src/callback/redirect.ts) can carry a POST body
 * byte for byte. The page renders each decoded field as a hidden input; the
 * browser parses that HTML and submits the form again with the
 * application/x-www-form-urlencoded serializer (URL Standard §5.2; HTML
 * §4.10.21.4 "constructing the entry list" and "converting an entry list to a
 * list of name-value pairs"). A body survives that round trip only when it is
 * exactly what the serializer would have written itself, and its fields hold
 * nothing the HTML parser or the form submission change:
 *
 * - every byte is one the serializer leaves as it is (`*-._`, digits, ASCII
 *   letters), `+` (a space), or `%XX` with upper-case hex for any other byte —
 *   never a needless escape (`%41`), a lower-case one (`%2b`), `%20`, a raw
 *   `~`, or a byte ≥ 0x80;
 * - every segment is `name=value` with a non-empty name (the browser skips an
 *   input without a name, and always writes the `=`), no empty segments;
 * - every escape decodes as UTF-8 (`%E9` alone, `50%zz` do not);
 * - no NUL (the HTML parser turns even `&#0;` into U+FFFD), no CR or LF other
 *   than CRLF pairs (the submission turns a lone CR or LF into CRLF), no other
 *   C0 control but TAB, no DEL or C1 control (kept out rather than relied on);
 * - no field named `_charset_` (a hidden input of that name is submitted as
 *   the page's encoding, "UTF-8", whatever its value).
 *
 * Anything else is answered with the 307, which carries the body untouched.
 */
import { decodeComponent } from "./query";
import type { FormField } from "./form";

/** Only bytes the serializer writes: safe bytes, '+', '=', '&' and upper-case %XX escapes. */
const SERIALIZER_BYTES = /^(?:[A-Za-z0-9*\-._+=&]|%[0-9A-F]{2})*$/;
/** An escape of a byte the serializer never escapes (0x2A 0x2D 0x2E digits letters 0x5F), or of a space (it writes '+'). */
const NEEDLESS_ESCAPE = /%(?:2[0ADE]|3[0-9]|4[1-9A-F]|5[0-9AF]|6[1-9A-F]|7[0-9A])/;
/** What the HTML parser or the form submission would change, or what is kept out on purpose. */
const UNSTABLE_TEXT = /[\0-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)|(?<!\r)\n/;

/**
 * The fields of `bytes` (a urlencoded body) when the form page re-sends them
 * byte for byte; undefined when it would not (or `complete` is false: the body
 * is longer than the scanned prefix). An empty body has no fields.
 */
export function replayableFields(bytes: Uint8Array, complete: boolean): FormField[] | undefined {
  if (!complete) return undefined;
  if (bytes.length === 0) return [];
  // Every byte is checked to be ASCII below, so latin1 is exact.
  const text = new TextDecoder("latin1").decode(bytes);
  if (!SERIALIZER_BYTES.test(text) || NEEDLESS_ESCAPE.test(text)) return undefined;
  const fields: FormField[] = [];
  for (const segment of text.split("&")) {
    const eq = segment.indexOf("=");
    if (eq <= 0 || segment.indexOf("=", eq + 1) !== -1) return undefined;
    const name = decodeComponent(segment.slice(0, eq));
    const value = decodeComponent(segment.slice(eq + 1));
    if (name === undefined || value === undefined) return undefined;
    if (name.toLowerCase() === "_charset_" || UNSTABLE_TEXT.test(name) || UNSTABLE_TEXT.test(value)) return undefined;
    fields.push({ name, value });
  }
  return fields;
}
