import { jsonStringEnd, jsonValueEnd, skipJsonSpace } from "../event/json-text-scan.js";

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
  return scanEvents(json).map((event) => event?.data);
}

/** What the text of one event object says that its parsed value no longer does. */
export interface EventText {
  /** The text of its last `data` member, if any. */
  readonly data?: string;
  /**
   * Members (other than `data`) whose last value is a number written with a fraction or an
   * exponent (`1.0`, `1e2`), which `JSON.parse` turns into integers all the same.
   */
  readonly notIntegers?: ReadonlySet<string>;
  /**
   * Member names written more than once in the object. `JSON.parse` keeps the last, but JSON
   * readers disagree on which one counts (RFC 8259 4), so such an event is refused rather than
   * read as one value where a proxy in front of Herald may have read the other.
   */
  readonly repeated?: ReadonlySet<string>;
}

/**
 * `dataMemberTexts`, with each event's members written as non-integer numbers too (JSON event
 * format 2.2: an Integer is a JSON number with only the integer component). The same one scan:
 * the body is not parsed again. `undefined` for an element that is not an object.
 *
 * @example
 * scanEvents('{"n":1.0,"data":1}') // => [{ data: "1", notIntegers: Set { "n" } }]
 */
export function scanEvents(json: string): (EventText | undefined)[] {
  let i = skipJsonSpace(json, 0);
  if (json[i] === "{") {
    const { end: _, ...event } = objectData(json, i);
    return [event];
  }
  if (json[i] !== "[") return [];
  const events: (EventText | undefined)[] = [];
  i = skipJsonSpace(json, i + 1);
  if (json[i] === "]") return events;
  for (;;) {
    if (json[i] === "{") {
      const { end, ...event } = objectData(json, i);
      events.push(event);
      i = end;
    } else {
      events.push(undefined);
      i = jsonValueEnd(json, i);
    }
    i = skipJsonSpace(json, i);
    if (json[i] !== ",") return events;
    i = skipJsonSpace(json, i + 1);
  }
}

/** Scans the object at `start` (a `{`); returns where it ends and what its text says. */
function objectData(json: string, start: number): EventText & { end: number } {
  let data: string | undefined;
  let notIntegers: Set<string> | undefined;
  let repeated: Set<string> | undefined;
  const seen = new Set<string>();
  let i = skipJsonSpace(json, start + 1);
  if (json[i] === "}") return { end: i + 1 };
  for (;;) {
    const keyStart = i;
    i = jsonStringEnd(json, i);
    const rawKey = json.slice(keyStart + 1, i - 1);
    const key = rawKey.includes("\\") ? (JSON.parse(`"${rawKey}"`) as string) : rawKey;
    if (seen.has(key)) {
      repeated ??= new Set();
      repeated.add(key);
    } else seen.add(key);
    i = skipJsonSpace(json, skipJsonSpace(json, i) + 1); // the colon
    const valueStart = i;
    i = jsonValueEnd(json, i);
    if (key === "data") data = json.slice(valueStart, i);
    else if (
      isNumberStart(json.charCodeAt(valueStart)) &&
      hasFractionOrExponent(json, valueStart, i)
    ) {
      notIntegers ??= new Set();
      notIntegers.add(key);
    } else notIntegers?.delete(key); // JSON.parse keeps the last of a repeated name
    i = skipJsonSpace(json, i);
    if (json[i] !== ",") {
      return {
        end: i + 1,
        ...(data === undefined ? {} : { data }),
        ...(notIntegers === undefined || notIntegers.size === 0 ? {} : { notIntegers }),
        ...(repeated === undefined ? {} : { repeated }),
      };
    }
    i = skipJsonSpace(json, i + 1);
  }
}

/** `-` or a digit: the first character of a JSON number. */
function isNumberStart(c: number): boolean {
  return c === 0x2d || (c >= 0x30 && c <= 0x39);
}

/** Whether the number text in `json[start, end)` has a `.` or an `e`/`E`. */
function hasFractionOrExponent(json: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x2e || c === 0x65 || c === 0x45) return true;
  }
  return false;
}
