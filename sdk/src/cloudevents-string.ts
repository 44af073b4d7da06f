/**
 * A quick look for what may be forbidden: the BMP's control characters and noncharacters, and
 * any low surrogate DFFE or DFFF, which ends U+1FFFE/U+1FFFF ... U+10FFFE/U+10FFFF (and other
 * code points, which the exact check below lets through).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what the spec forbids
const MAYBE_FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\ufdd0-\ufdef\ufffe\uffff\udffe\udfff]/;

/**
 * What in `text` a CloudEvents String cannot hold, said with its code point (`a control
 * character (U+000A)`, `a noncharacter (U+FDD0)`), or `undefined` when there is none: control
 * characters U+0000-U+001F and U+007F-U+009F, and the noncharacters U+FDD0-U+FDEF and
 * U+xFFFE/U+xFFFF (CloudEvents 1.0.2 "Type System: String"). The gateway refuses such an
 * attribute (400) in every mode; unpaired surrogates are found by `unencodable`.
 *
 * @example
 * forbiddenInString("line1\nline2"); // "a control character (U+000A)"
 * forbiddenInString("café"); // undefined
 */
export function forbiddenInString(text: string): string | undefined {
  // The common case, nothing forbidden, without walking the text character by character (this
  // runs for every string attribute of every event sent). The same classes as the gateway's.
  if (!MAYBE_FORBIDDEN.test(text)) return undefined;
  for (const char of text) {
    const cp = char.codePointAt(0)!;
    const kind =
      cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)
        ? "a control character"
        : (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe
          ? "a noncharacter"
          : undefined;
    if (kind !== undefined) return `${kind} (U+${cp.toString(16).toUpperCase().padStart(4, "0")})`;
  }
  return undefined;
}
