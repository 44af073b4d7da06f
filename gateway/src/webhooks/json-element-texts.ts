import { jsonValueEnd, skipJsonSpace } from "../event/json-text-scan.js";

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
  let start = skipJsonSpace(text, 0);
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
  let at = skipJsonSpace(text, start + 1);
  if (text[at] === "]") return elements;
  for (;;) {
    const end = jsonValueEnd(text, at);
    elements.push(text.slice(at, end));
    at = skipJsonSpace(text, end);
    if (text[at] !== ",") return elements;
    at = skipJsonSpace(text, at + 1);
  }
}

/** Where the value of `token` starts in the object or array at `start`; the last of repeated keys. */
function memberStart(text: string, start: number, token: string): number | undefined {
  if (text[start] === "[") {
    if (!/^(?:0|[1-9][0-9]*)$/.test(token)) return undefined;
    const index = Number(token);
    let at = skipJsonSpace(text, start + 1);
    if (text[at] === "]") return undefined;
    for (let i = 0; ; i++) {
      if (i === index) return at;
      at = skipJsonSpace(text, jsonValueEnd(text, at));
      if (text[at] !== ",") return undefined;
      at = skipJsonSpace(text, at + 1);
    }
  }
  if (text[start] !== "{") return undefined;
  let found: number | undefined;
  let at = skipJsonSpace(text, start + 1);
  if (text[at] === "}") return undefined;
  for (;;) {
    const keyEnd = jsonValueEnd(text, at);
    const key = JSON.parse(text.slice(at, keyEnd)) as string;
    at = skipJsonSpace(text, skipJsonSpace(text, keyEnd) + 1); // past the ':'
    if (key === token) found = at;
    at = skipJsonSpace(text, jsonValueEnd(text, at));
    if (text[at] !== ",") return found;
    at = skipJsonSpace(text, at + 1);
  }
}
