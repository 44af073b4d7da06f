/** `_` in a segment: any one character. Characters are code points (>= 0). */
const ANY_ONE = -1;

/**
 * Compiles a LIKE pattern (CESQL 3.4.3) into a matcher: `%` is any run of characters (possibly
 * none), `_` exactly one character, `\%` and `\_` match `%` and `_` literally, and any other
 * character (a backslash before anything else too) matches itself, case-sensitively. A character
 * is a Unicode code point.
 *
 * No regular expression and no backtracking: the pattern is split at its `%`s into segments; the
 * first must match at the start, the last at the end, and each middle one is taken at its leftmost
 * match after the previous one (leftmost is always safe: a later match leaves less room). So a
 * match costs at most O(text × pattern) steps, and O(text) when the pattern has no `_` (then the
 * segments are found with `indexOf`).
 *
 * @example
 * const matches = compileLikePattern("uploads/%.png");
 * matches("uploads/cat.png"); // true
 * compileLikePattern("a\\_b")("azb"); // false: `\_` is a literal "_"
 */
export function compileLikePattern(pattern: string): (text: string) => boolean {
  const segments = splitPattern(pattern);
  const textSegments = segments.every((segment) => !segment.includes(ANY_ONE))
    ? segments.map((segment) => String.fromCodePoint(...segment))
    : undefined;
  // Plain strings are only safe when no segment could match half of a surrogate pair.
  if (textSegments !== undefined && !textSegments.some(hasSurrogate)) {
    return (text) => matchText(textSegments, text);
  }
  return (text) => matchCodePoints(segments, codePoints(text));
}

function splitPattern(pattern: string): number[][] {
  const segments: number[][] = [[]];
  let current = segments[0]!;
  const chars = codePoints(pattern);
  for (let index = 0; index < chars.length; index += 1) {
    const char = chars[index]!;
    const next = chars[index + 1];
    if (char === 0x5c && (next === 0x25 || next === 0x5f)) {
      current.push(next); // "\%" or "\_": the character itself
      index += 1;
    } else if (char === 0x25) {
      current = [];
      segments.push(current);
    } else {
      current.push(char === 0x5f ? ANY_ONE : char);
    }
  }
  return segments;
}

function matchText(segments: readonly string[], text: string): boolean {
  const first = segments[0]!;
  if (segments.length === 1) return text === first;
  const last = segments[segments.length - 1]!;
  const limit = text.length - last.length;
  if (limit < first.length || !text.startsWith(first) || !text.endsWith(last)) return false;
  let position = first.length;
  for (let index = 1; index < segments.length - 1; index += 1) {
    const segment = segments[index]!;
    const found = text.indexOf(segment, position);
    if (found < 0 || found + segment.length > limit) return false;
    position = found + segment.length;
  }
  return true;
}

function matchCodePoints(segments: readonly number[][], text: readonly number[]): boolean {
  const first = segments[0]!;
  if (segments.length === 1) return first.length === text.length && matchesAt(first, text, 0);
  const last = segments[segments.length - 1]!;
  const limit = text.length - last.length;
  if (limit < first.length || !matchesAt(first, text, 0) || !matchesAt(last, text, limit)) {
    return false;
  }
  let position = first.length;
  for (let index = 1; index < segments.length - 1; index += 1) {
    const segment = segments[index]!;
    let found = position;
    while (found + segment.length <= limit && !matchesAt(segment, text, found)) found += 1;
    if (found + segment.length > limit) return false;
    position = found + segment.length;
  }
  return true;
}

function matchesAt(segment: readonly number[], text: readonly number[], at: number): boolean {
  for (let index = 0; index < segment.length; index += 1) {
    const expected = segment[index]!;
    if (expected !== ANY_ONE && expected !== text[at + index]) return false;
  }
  return true;
}

/** The code points of a string (a lone surrogate counts as one character). */
export function codePoints(text: string): number[] {
  const result: number[] = [];
  for (let index = 0; index < text.length; index += 1) {
    const codePoint = text.codePointAt(index)!;
    result.push(codePoint);
    if (codePoint > 0xffff) index += 1;
  }
  return result;
}

function hasSurrogate(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    if (unit >= 0xd800 && unit <= 0xdfff) return true;
  }
  return false;
}
