/**
 * Characters of a CESQL string (3.1 "Sequence of Unicode characters") are code points; a lone
 * surrogate counts as one. JavaScript strings are UTF-16, so these helpers find code point
 * positions without building an array of the whole string: a filter may call LENGTH, LEFT, RIGHT,
 * SUBSTRING or LIKE hundreds of times on an attribute of a quarter megabyte, and one array per
 * call made matching one event take seconds. Text without surrogates (all of the BMP: Latin,
 * Cyrillic, CJK, ...) is answered from its length and indexes alone.
 */

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Whether every character of `text` is one UTF-16 unit (it holds no surrogate), so unit indexes
 * are character indexes. A native scan, far faster than walking the string.
 *
 * @example
 * isSingleUnit("héllo"); // true
 * isSingleUnit("a😀"); // false
 */
export function isSingleUnit(text: string): boolean {
  return !SURROGATE.test(text);
}

/**
 * The number of characters (code points) in `text`.
 *
 * @example
 * codePointCount("a😀b"); // 3
 */
export function codePointCount(text: string): number {
  if (isSingleUnit(text)) return text.length;
  let count = 0;
  for (let index = 0; index < text.length; index = skipOne(text, index)) count += 1;
  return count;
}

/**
 * The UTF-16 index `count` characters after `index`, or `text.length` when fewer are left.
 *
 * @example
 * skipForward("😀ab", 0, 1); // 2
 */
export function skipForward(text: string, index: number, count: number): number {
  if (isSingleUnit(text)) return Math.min(text.length, index + count);
  let at = index;
  for (let step = 0; step < count && at < text.length; step += 1) at = skipOne(text, at);
  return at;
}

/**
 * The UTF-16 index `count` characters before `index`, or 0 when fewer are before it.
 *
 * @example
 * skipBackward("ab😀", 4, 1); // 2
 */
export function skipBackward(text: string, index: number, count: number): number {
  if (isSingleUnit(text)) return Math.max(0, index - count);
  let at = index;
  for (let step = 0; step < count && at > 0; step += 1) {
    // A low surrogate right after a high one ends a pair: both go (as codePoints pairs them).
    at -= isLow(text.charCodeAt(at - 1)) && at >= 2 && isHigh(text.charCodeAt(at - 2)) ? 2 : 1;
  }
  return at;
}

/**
 * The code points of a string (a lone surrogate counts as one character).
 *
 * @example
 * codePoints("a😀"); // [97, 128512]
 */
export function codePoints(text: string): number[] {
  const result: number[] = [];
  for (let index = 0; index < text.length; index += 1) {
    const codePoint = text.codePointAt(index)!;
    result.push(codePoint);
    if (codePoint > 0xffff) index += 1;
  }
  return result;
}

/** The index after the character at `index`: a surrogate pair is one character. */
function skipOne(text: string, index: number): number {
  return isHigh(text.charCodeAt(index)) && isLow(text.charCodeAt(index + 1))
    ? index + 2
    : index + 1;
}

function isHigh(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLow(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}
