import { codePoints, isSingleUnit } from "./code-points.js";

/** `_` in a segment: any one character. Characters are code points (>= 0). */
const ANY_ONE = -1;

/** Reads the character at an index of the text being matched (a UTF-16 unit or a code point). */
type CharAt = (index: number) => number;

/** Where a middle segment first ends, looking from `from` and ending by `limit`; -1 if nowhere. */
type SegmentFinder = (charAt: CharAt, from: number, limit: number) => number;

/**
 * Compiles a LIKE pattern (CESQL 3.4.3) into a matcher: `%` is any run of characters (possibly
 * none), `_` exactly one character, `\%` and `\_` match `%` and `_` literally, and any other
 * character (a backslash before anything else too) matches itself, case-sensitively. A character
 * is a Unicode code point.
 *
 * No regular expression and no backtracking: the pattern is split at its `%`s into segments; the
 * first must match at the start, the last at the end, and each middle one is taken at its leftmost
 * match after the previous one (leftmost is always safe: a later match leaves less room). Without
 * `_`, segments are found with `indexOf`. With `_`, a middle segment is found in one pass over the
 * text with the bit-parallel Shift-And algorithm, O(text × segment / 32): trying it at every
 * position instead cost O(text × segment), over a second for one `'%____...x%'` of 4000
 * characters against a 250 KB attribute. Text without surrogates is read unit by unit; only text
 * with them is turned into an array of code points first.
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
    : [];
  // Plain strings are only safe when no segment could match half of a surrogate pair.
  if (textSegments.length > 0 && textSegments.every(isSingleUnit)) {
    return (text) => matchText(textSegments, text);
  }
  const matchChars = compileSegments(segments);
  return (text) => {
    // Units are characters here; a pattern's astral or lone-surrogate character matches no unit.
    if (isSingleUnit(text)) return matchChars(text.length, (index) => text.charCodeAt(index));
    const chars = codePointsOf(text);
    return matchChars(chars.length, (index) => chars[index]!);
  };
}

// The code points of the text last matched with surrogates in it. The LIKEs of a filter mostly
// read the same attribute of one event, and an array per LIKE made a 4096-character filter of
// 200 `subject LIKE '%_b%'` take 3 s for one event with a 250 KB emoji subject.
let lastText: string | undefined;
let lastChars: readonly number[] = [];

function codePointsOf(text: string): readonly number[] {
  if (text !== lastText) {
    lastChars = codePoints(text);
    lastText = text;
  }
  return lastChars;
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

function compileSegments(
  segments: readonly number[][],
): (length: number, charAt: CharAt) => boolean {
  const first = segments[0]!;
  const last = segments[segments.length - 1]!;
  const middles = segments.slice(1, -1).map(compileFinder);
  return (length, charAt) => {
    if (segments.length === 1) return first.length === length && matchesAt(first, charAt, 0);
    const limit = length - last.length;
    if (limit < first.length || !matchesAt(first, charAt, 0) || !matchesAt(last, charAt, limit)) {
      return false;
    }
    let position = first.length;
    for (const find of middles) {
      position = find(charAt, position, limit);
      if (position < 0) return false;
    }
    return true;
  };
}

function matchesAt(segment: readonly number[], charAt: CharAt, at: number): boolean {
  for (let index = 0; index < segment.length; index += 1) {
    const expected = segment[index]!;
    if (expected !== ANY_ONE && expected !== charAt(at + index)) return false;
  }
  return true;
}

/** Finds a middle segment at its leftmost place (see `SegmentFinder`). */
function compileFinder(segment: readonly number[]): SegmentFinder {
  // `_`s at either end only ask for room: `%___x%` is an `x` with three characters before it.
  let lead = 0;
  while (lead < segment.length && segment[lead] === ANY_ONE) lead += 1;
  let trail = 0;
  while (trail < segment.length - lead && segment[segment.length - 1 - trail] === ANY_ONE) {
    trail += 1;
  }
  const find = compileShiftAnd(segment.slice(lead, segment.length - trail));
  return (charAt, from, limit) => {
    const end = find(charAt, from + lead, limit - trail);
    return end < 0 ? -1 : end + trail;
  };
}

/**
 * Shift-And: bit `j` of the state is set when the last `j + 1` characters read match the
 * segment's first `j + 1`; a character may stand at its own positions and at every `_`. The state
 * is one bit per segment character, in 32-bit words. A character's positions are kept as a mask
 * when it has more of them than there are words, else as a list, so the masks take O(segment)
 * memory (a mask per distinct character would be 2 MB for 4000 distinct ones) and a step costs
 * O(words) either way.
 */
function compileShiftAnd(segment: readonly number[]): SegmentFinder {
  const length = segment.length;
  if (length === 0) return (_charAt, from, limit) => (from <= limit ? from : -1);
  const words = (length + 31) >>> 5;
  const anyOne = new Uint32Array(words);
  const positions = new Map<number, number[]>();
  segment.forEach((char, j) => {
    if (char === ANY_ONE) anyOne[j >>> 5]! |= 1 << (j & 31);
    else if (positions.has(char)) positions.get(char)!.push(j);
    else positions.set(char, [j]);
  });
  const lastWord = (length - 1) >>> 5;
  const lastBit = 1 << ((length - 1) & 31);
  if (words === 1) return compileShortFinder(anyOne[0]!, positions, lastBit);
  const masks = new Map<number, Uint32Array>();
  const lists = new Map<number, readonly number[]>();
  for (const [char, list] of positions) {
    if (list.length <= words) {
      lists.set(char, list);
      continue;
    }
    const mask = anyOne.slice();
    for (const j of list) mask[j >>> 5]! |= 1 << (j & 31);
    masks.set(char, mask);
  }
  const state = new Uint32Array(words);
  const kept: number[] = [];
  return (charAt, from, limit) => {
    // Reused: a finder runs to the end before it can be called again (evaluation is synchronous).
    state.fill(0);
    for (let index = from; index < limit; index += 1) {
      const char = charAt(index);
      let carry = 1;
      for (let word = 0; word < words; word += 1) {
        const bits = state[word]!;
        state[word] = (bits << 1) | carry;
        carry = bits >>> 31;
      }
      const mask = masks.get(char);
      if (mask !== undefined) {
        for (let word = 0; word < words; word += 1) state[word]! &= mask[word]!;
      } else {
        const list = lists.get(char) ?? [];
        kept.length = 0;
        for (const j of list) if ((state[j >>> 5]! & (1 << (j & 31))) !== 0) kept.push(j);
        for (let word = 0; word < words; word += 1) state[word]! &= anyOne[word]!;
        for (const j of kept) state[j >>> 5]! |= 1 << (j & 31);
      }
      if ((state[lastWord]! & lastBit) !== 0) return index + 1;
    }
    return -1;
  };
}

/** A segment of at most 32 characters (nearly all of them): the state is one number, ASCII a table. */
function compileShortFinder(
  anyOne: number,
  positions: ReadonlyMap<number, readonly number[]>,
  lastBit: number,
): SegmentFinder {
  const ascii = new Int32Array(128).fill(anyOne);
  const others = new Map<number, number>();
  for (const [char, list] of positions) {
    let mask = anyOne;
    for (const j of list) mask |= 1 << j;
    if (char < 128) ascii[char] = mask;
    else others.set(char, mask);
  }
  return (charAt, from, limit) => {
    let state = 0;
    for (let index = from; index < limit; index += 1) {
      const char = charAt(index);
      state = ((state << 1) | 1) & (char < 128 ? ascii[char]! : (others.get(char) ?? anyOne));
      if ((state & lastBit) !== 0) return index + 1;
    }
    return -1;
  };
}
