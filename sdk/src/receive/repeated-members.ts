/*
 * JSON.parse keeps the last of a member written twice, where other readers take the first
 * (RFC 8259 4: "the behavior of software that receives such an object is unpredictable"). In a
 * CloudEvent, where each attribute "MUST only appear at most once" (spec "Context Attributes"),
 * a sink and a proxy in front of it could then read two different events from one body: such an
 * event is refused, as the gateway refuses it at ingest. The text scanned here is JSON that
 * JSON.parse has already taken, so the scan need not check its grammar.
 */

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function skipSpace(text: string, i: number): number {
  while (isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** Where the string starting at `i` (its `"`) ends, after its closing `"`. */
function stringEnd(text: string, i: number): number {
  for (i++; ; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */) i++;
    else if (c === 0x22 /* " */) return i + 1;
  }
}

/** Where the JSON value starting at `i` ends: nested objects and arrays by depth, iteratively. */
function valueEnd(text: string, i: number): number {
  const first = text.charCodeAt(i);
  if (first === 0x22) return stringEnd(text, i);
  if (first === 0x7b /* { */ || first === 0x5b /* [ */) {
    for (let depth = 0; ; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) i = stringEnd(text, i) - 1;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if ((c === 0x7d || c === 0x5d) && --depth === 0) return i + 1;
    }
  }
  // A number, true, false or null: up to what follows it.
  for (;;) {
    const c = text.charCodeAt(i);
    if (Number.isNaN(c) || c === 0x2c || c === 0x7d || c === 0x5d || isSpace(c)) return i;
    i++;
  }
}

/** The first member name the object at `i` (its `{`) gives twice, and where it ends. */
function objectAt(text: string, i: number): { repeated: string | undefined; end: number } {
  const seen = new Set<string>();
  let repeated: string | undefined;
  i = skipSpace(text, i + 1);
  if (text.charCodeAt(i) === 0x7d) return { repeated, end: i + 1 };
  for (;;) {
    const start = i;
    i = stringEnd(text, i);
    const raw = text.slice(start, i);
    const name = raw.includes("\\") ? (JSON.parse(raw) as string) : raw.slice(1, -1);
    if (seen.has(name)) repeated ??= name;
    else seen.add(name);
    i = valueEnd(text, skipSpace(text, skipSpace(text, i) + 1));
    i = skipSpace(text, i);
    if (text.charCodeAt(i) !== 0x2c /* , */) return { repeated, end: i + 1 };
    i = skipSpace(text, i + 1);
  }
}

/**
 * For each event of a JSON body that `JSON.parse` took (an object, or an array of them), the
 * first member it gives twice, or `undefined`; one entry for an object, one per element of an
 * array (`undefined` for an element that is no object).
 *
 * @example
 * repeatedMembers('[{"id":"a","id":"b"},{"id":"c"}]'); // ["id", undefined]
 */
export function repeatedMembers(text: string): (string | undefined)[] {
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) === 0x7b) return [objectAt(text, i).repeated];
  if (text.charCodeAt(i) !== 0x5b) return [];
  const found: (string | undefined)[] = [];
  i = skipSpace(text, i + 1);
  if (text.charCodeAt(i) === 0x5d) return found;
  for (;;) {
    if (text.charCodeAt(i) === 0x7b) {
      const object = objectAt(text, i);
      found.push(object.repeated);
      i = object.end;
    } else {
      found.push(undefined);
      i = valueEnd(text, i);
    }
    i = skipSpace(text, i);
    if (text.charCodeAt(i) !== 0x2c) return found;
    i = skipSpace(text, i + 1);
  }
}
