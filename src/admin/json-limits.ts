/**
 * A JSON body's nesting, checked on the text before anything parses it further or
 * copies it to the writer Durable Object: structured clone and validators recurse,
 * so a body like `[[[[…]]]]` 50 000 deep would otherwise overflow a stack (503)
 * instead of being refused for what it is. Sizes are limited by route (app.ts).
 */

/** Deeper than any routes.json or API body (a route's `match` sits at depth 4). */
export const MAX_JSON_DEPTH = 16;

/**
 * Why `text` is refused, or undefined when its arrays and objects nest at most
 * `maxDepth` deep. One pass over the characters, brackets inside strings ignored;
 * it does not validate the JSON (the parser after it does).
 */
export function jsonLimitProblem(text: string, maxDepth: number = MAX_JSON_DEPTH): string | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > maxDepth) {
        return `The JSON body is nested deeper than ${maxDepth} levels (arrays and objects); nothing was read further.`;
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return undefined;
}
