/**
 * Walks JSON text that `JSON.parse` has already accepted, without parsing it: where whitespace,
 * a string or a whole value ends. Iterative (no nesting depth can overflow the stack) and linear.
 * For finding a value's text exactly as the producer wrote it (see `dataMemberTexts`,
 * `jsonElementTexts`).
 */

/** The index of the first character at or after `i` that is not JSON whitespace. */
export function skipJsonSpace(json: string, i: number): number {
  for (;;) {
    const c = json.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return i;
    i++;
  }
}

/** `json[i]` is a quote: the index just past the string's closing quote. */
export function jsonStringEnd(json: string, i: number): number {
  for (i++; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i + 1;
  }
  return i;
}

/** The index just past the value (string, object, array, number or literal) that starts at `i`. */
export function jsonValueEnd(json: string, i: number): number {
  const first = json[i];
  if (first === '"') return jsonStringEnd(json, i);
  if (first === "{" || first === "[") {
    let depth = 0;
    while (i < json.length) {
      const c = json[i];
      if (c === '"') {
        i = jsonStringEnd(json, i);
        continue;
      }
      if (c === "{" || c === "[") depth++;
      else if (c === "}" || c === "]") {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return i;
  }
  while (i < json.length && !",}] \t\n\r".includes(json[i]!)) i++;
  return i;
}
