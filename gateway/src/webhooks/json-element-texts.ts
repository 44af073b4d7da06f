/**
 * The text of each element of the list a JSON Pointer (RFC 6901) names in a JSON document, as
 * written: `jsonElementTexts('{"items":[{"id":12345678901234567891}]}', "/items")` is
 * `['{"id":12345678901234567891}']`. An element's data is then its bytes as the provider sent
 * them, not `JSON.stringify` of the parsed value, which loses integers past 2^53 (an id
 * `12345678901234567891` came out `12345678901234567000`), writes `1.10` as `1.1` and a number
 * too large for a double as `null`.
 *
 * `text` must be JSON that `JSON.parse` took (the caller parsed it first). Where an object
 * repeats a key, the last one counts, as in `JSON.parse`. One pass, no recursion: linear in the
 * text. `undefined` when the pointer does not name a list.
 *
 * @example
 * jsonElementTexts('{"a":[1, {"b":2}]}', "/a"); // ["1", '{"b":2}']
 */
export function jsonElementTexts(text: string, pointer: string): string[] | undefined {
  let start = skipSpace(text, 0);
  const tokens =
    pointer === ""
      ? []
      : pointer
          .slice(1)
          .split("/")
          .map((raw) => raw.replaceAll("~1", "/").replaceAll("~0", "~"));
  for (const token of tokens) {
    const found = memberStart(text, start, token);
    if (found === undefined) return undefined;
    start = found;
  }
  if (text[start] !== "[") return undefined;
  const elements: string[] = [];
  let at = skipSpace(text, start + 1);
  if (text[at] === "]") return elements;
  for (;;) {
    const end = valueEnd(text, at);
    elements.push(text.slice(at, end));
    at = skipSpace(text, end);
    if (text[at] !== ",") return elements;
    at = skipSpace(text, at + 1);
  }
}

/** Where the value of `token` starts in the object or array at `start`; the last of repeated keys. */
function memberStart(text: string, start: number, token: string): number | undefined {
  if (text[start] === "[") {
    if (!/^(?:0|[1-9][0-9]*)$/.test(token)) return undefined;
    const index = Number(token);
    let at = skipSpace(text, start + 1);
    if (text[at] === "]") return undefined;
    for (let i = 0; ; i++) {
      if (i === index) return at;
      at = skipSpace(text, valueEnd(text, at));
      if (text[at] !== ",") return undefined;
      at = skipSpace(text, at + 1);
    }
  }
  if (text[start] !== "{") return undefined;
  let found: number | undefined;
  let at = skipSpace(text, start + 1);
  if (text[at] === "}") return undefined;
  for (;;) {
    const keyEnd = valueEnd(text, at);
    const key = JSON.parse(text.slice(at, keyEnd)) as string;
    at = skipSpace(text, skipSpace(text, keyEnd) + 1); // past the ':'
    if (key === token) found = at;
    at = skipSpace(text, valueEnd(text, at));
    if (text[at] !== ",") return found;
    at = skipSpace(text, at + 1);
  }
}

/** What ends a number, `true`, `false` or `null`. */
const DELIMITERS: ReadonlySet<string> = new Set([",", "]", "}", " ", "\t", "\n", "\r"]);

/** The index just past the JSON value that starts at `start` (valid JSON assumed). */
function valueEnd(text: string, start: number): number {
  const first = text[start];
  if (first === '"') return stringEnd(text, start);
  if (first !== "{" && first !== "[") {
    // A number, true, false or null: up to the next delimiter.
    let at = start;
    while (at < text.length && !DELIMITERS.has(text[at]!)) at++;
    return at;
  }
  let depth = 0;
  let at = start;
  while (at < text.length) {
    const c = text[at]!;
    if (c === '"') {
      at = stringEnd(text, at);
      continue;
    }
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return at + 1;
    }
    at++;
  }
  return at;
}

/** The index just past the string that starts at `start` (its opening quote). */
function stringEnd(text: string, start: number): number {
  let at = start + 1;
  while (at < text.length) {
    const c = text[at]!;
    if (c === "\\") at += 2;
    else if (c === '"') return at + 1;
    else at++;
  }
  return at;
}

const WHITESPACE: ReadonlySet<string> = new Set([" ", "\t", "\n", "\r"]);

/** The index of the first character at or after `at` that is not JSON whitespace. */
function skipSpace(text: string, at: number): number {
  let i = at;
  while (i < text.length && WHITESPACE.has(text[i]!)) i++;
  return i;
}
