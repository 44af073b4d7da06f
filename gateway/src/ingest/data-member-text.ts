/**
 * Finds the exact JSON text of the `data` member of each event in a structured or batch body that
 * `JSON.parse` has already accepted. Keeping that text lets Herald deliver the data byte for byte:
 * `JSON.parse` turns 12345678901234567890 into 12345678901234567000 and `1.0` into `1`, and a
 * gateway must not change the payload it routes (JSON event format 3.1: the data is the
 * producer's).
 *
 * Returns one entry per event (one for an object body, one per element of an array body):
 * the text of its last `data` member (the one `JSON.parse` keeps), or `undefined`. The scan is
 * iterative, so no nesting depth can overflow the stack.
 *
 * @example
 * dataMemberTexts('{"id":"1","data":{"n":12345678901234567890}}') // => ['{"n":12345678901234567890}']
 */
export function dataMemberTexts(json: string): (string | undefined)[] {
  let i = skipSpace(json, 0);
  if (json[i] === "{") return [objectData(json, i).data];
  if (json[i] !== "[") return [];
  const texts: (string | undefined)[] = [];
  i = skipSpace(json, i + 1);
  if (json[i] === "]") return texts;
  for (;;) {
    if (json[i] === "{") {
      const { end, data } = objectData(json, i);
      texts.push(data);
      i = end;
    } else {
      texts.push(undefined);
      i = skipValue(json, i);
    }
    i = skipSpace(json, i);
    if (json[i] !== ",") return texts;
    i = skipSpace(json, i + 1);
  }
}

/** Scans the object at `start` (a `{`); returns where it ends and its last `data` value text. */
function objectData(json: string, start: number): { end: number; data?: string } {
  let data: string | undefined;
  let i = skipSpace(json, start + 1);
  if (json[i] === "}") return { end: i + 1 };
  for (;;) {
    const keyStart = i;
    i = skipString(json, i);
    const rawKey = json.slice(keyStart + 1, i - 1);
    const key = rawKey.includes("\\") ? (JSON.parse(`"${rawKey}"`) as string) : rawKey;
    i = skipSpace(json, skipSpace(json, i) + 1); // the colon
    const valueStart = i;
    i = skipValue(json, i);
    if (key === "data") data = json.slice(valueStart, i);
    i = skipSpace(json, i);
    if (json[i] !== ",") return data === undefined ? { end: i + 1 } : { end: i + 1, data };
    i = skipSpace(json, i + 1);
  }
}

function skipSpace(json: string, i: number): number {
  for (;;) {
    const c = json.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return i;
    i++;
  }
}

/** `json[i]` is a quote; returns the index after the closing quote. */
function skipString(json: string, i: number): number {
  for (i++; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i + 1;
  }
  return i;
}

/** Skips one value (string, object, array, number or literal) starting at `i`. */
function skipValue(json: string, i: number): number {
  const first = json[i];
  if (first === '"') return skipString(json, i);
  if (first === "{" || first === "[") {
    let depth = 0;
    while (i < json.length) {
      const c = json[i];
      if (c === '"') {
        i = skipString(json, i);
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
