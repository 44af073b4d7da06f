/**
 * Characters of a CESQL string (3.1 "Sequence of Unicode characters") are code points; a lone
 * surrogate counts as one. JavaScript strings are UTF-16, so these helpers find code point
 * positions without building an array per call: a filter may call LENGTH, LEFT, RIGHT, SUBSTRING
 * or LIKE hundreds of times on an attribute of a quarter megabyte, and one array (or one walk) per
 * call made matching one event take seconds. Text without surrogates (all of the BMP: Latin,
 * Cyrillic, CJK, ...) is answered from its length and indexes alone; a long text with them is
 * walked once and its character starts kept (see `characterStarts`).
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
  const starts = characterStarts(text);
  if (starts !== undefined) return starts.length - 1;
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
  const starts = characterStarts(text);
  if (starts !== undefined) {
    return starts[Math.min(starts.length - 1, characterAt(starts, index) + count)]!;
  }
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
  const starts = characterStarts(text);
  if (starts !== undefined) return starts[Math.max(0, characterAt(starts, index) - count)]!;
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

/** Texts shorter than this are walked: a walk costs less than looking them up. */
const MIN_INDEXED_LENGTH = 256;
/** How many texts keep their character starts: a filter mostly reads one or two attributes. */
const INDEXED_TEXTS = 4;
const indexed: { text: string; starts: Uint32Array }[] = [];

/**
 * Where each character of a long text with surrogates starts (UTF-16 indexes), then
 * `text.length`; kept for the last few texts. LENGTH, LEFT, RIGHT and SUBSTRING each walked the
 * whole text otherwise: a filter as long as allowed calls them some 200 times, and on a quarter
 * megabyte of emoji that was half a second per event. `undefined` for a short text.
 */
function characterStarts(text: string): Uint32Array | undefined {
  if (text.length < MIN_INDEXED_LENGTH) return undefined;
  for (const entry of indexed) if (entry.text === text) return entry.starts;
  const all = new Uint32Array(text.length + 1);
  let count = 0;
  for (let index = 0; index < text.length; index = skipOne(text, index)) all[count++] = index;
  all[count] = text.length;
  const starts = all.slice(0, count + 1);
  indexed.unshift({ text, starts });
  if (indexed.length > INDEXED_TEXTS) indexed.pop();
  return starts;
}

/** The number of the character starting at `index` (the first one starting at or after it). */
function characterAt(starts: Uint32Array, index: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (starts[middle]! < index) low = middle + 1;
    else high = middle;
  }
  return low;
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
