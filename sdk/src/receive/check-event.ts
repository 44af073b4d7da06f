import { unencodable } from "../charset.js";
import { forbiddenInString } from "../cloudevents-string.js";
import { isMediaType, repeatedParameter } from "../media-type.js";
import { isTimestamp } from "../timestamp.js";
import { isAbsoluteUri, isUriReference } from "../uri-reference.js";
import { MalformedMessage, shorten } from "./receive-errors.js";
import type { ReceivedEvent } from "./received-event.js";

/** Attributes whose type is narrower than String, and what they must be (spec 3.1, 3.2). */
const TYPED: readonly [string, (value: string) => boolean, string][] = [
  ["source", isUriReference, "a non-empty URI-reference (RFC 3986)"],
  ["dataschema", isAbsoluteUri, "an absolute URI (RFC 3986 4.3)"],
  ["dataref", isUriReference, "a URI-reference (RFC 3986)"],
  ["time", isTimestamp, "an RFC 3339 timestamp"],
  ["datacontenttype", isMediaType, "a media type (RFC 2046)"],
  // Extensions whose documents fix a type (cloudevents/extensions), checked as the gateway does.
  ["expirytime", isTimestamp, "an RFC 3339 timestamp (extensions/expirytime.md)"],
  ["deprecationfrom", isTimestamp, "an RFC 3339 timestamp (extensions/deprecation.md)"],
  ["deprecationsunset", isTimestamp, "an RFC 3339 timestamp (extensions/deprecation.md)"],
  ["deprecationmigration", isAbsoluteUri, "an absolute URI (extensions/deprecation.md)"],
];

/**
 * The Integer and Boolean extensions whose documents fix a range, and the least value: in binary
 * mode (and in deprecation.md's own JSON example) they arrive as their canonical strings, which
 * the gateway takes as it takes the JSON number or boolean.
 */
const INTEGERS: Readonly<Record<string, number>> = { sampledrate: 1, severitynumber: 0 };
const INTEGER_TEXT = /^-?(?:0|[1-9][0-9]*)$/;

/** Why a known Integer or Boolean extension's `value` is not one, or `undefined`. */
function badTypedExtension(name: string, value: unknown): string | undefined {
  if (name === "deprecated") {
    return value === true || value === false || value === "true" || value === "false"
      ? undefined
      : "must be a Boolean: true or false (extensions/deprecation.md)";
  }
  const least = Object.hasOwn(INTEGERS, name) ? INTEGERS[name] : undefined;
  if (least === undefined) return undefined;
  const doc = name === "sampledrate" ? "sampledrate.md" : "severity.md";
  const number =
    typeof value === "string" && INTEGER_TEXT.test(value) ? Number(value) : (value as number);
  return typeof number === "number" && (number | 0) === number && number >= least
    ? undefined
    : `must be an Integer of at least ${least} (extensions/${doc})`;
}

/**
 * Checks the attributes of a decoded event as CloudEvents 1.0.2 types them, as the gateway
 * checks them at ingest (so nothing Herald delivers is refused): the required four present and
 * non-empty, `specversion` 1.0; what `ReceivedEvent` types as strings a non-empty string; a
 * String without control characters, noncharacters or unpaired surrogates (Type System); an
 * Integer within 32 bits (JSON format 2.2); an extension never an object or an array; `source`,
 * `dataschema`, `dataref`, `time` and `datacontenttype` of their form, and so the extensions
 * whose documents type them (`expirytime` a Timestamp, `sampledrate` an Integer from 1, ...,
 * as the gateway's `extension-attributes.ts`). Anything else is a
 * `MalformedMessage` naming the attribute (`where` says which event of a batch): a sink's
 * `event.subject.startsWith(...)` would throw on a number (a 500, retried), and a line break in
 * `subject` would reach its logs.
 */
export function checkEvent(event: Record<string, unknown>, where: string): ReceivedEvent {
  for (const name of ["specversion", "id", "source", "type"]) {
    if (event[name] === undefined) throw new MalformedMessage(`${where}${name} is required`);
  }
  for (const [name, value] of Object.entries(event)) {
    const reason = badTypedExtension(name, value) ?? badValue(name, value);
    if (reason !== undefined) throw new MalformedMessage(`${where}${name} ${reason}`);
  }
  if (event.specversion !== "1.0") {
    throw new MalformedMessage(
      `${where}specversion ${shorten(JSON.stringify(event.specversion))} is not supported; only "1.0" is`,
    );
  }
  for (const [name, valid, what] of TYPED) {
    const value = event[name];
    if (typeof value === "string" && !checked(name, value, valid, where)) {
      throw new MalformedMessage(`${where}${name} must be ${what}`);
    }
  }
  const repeated =
    typeof event.datacontenttype === "string"
      ? checked("datacontenttype", event.datacontenttype, repeatedParameter, where)
      : undefined;
  if (repeated !== undefined) {
    throw new MalformedMessage(
      `${where}datacontenttype gives the parameter ${shorten(repeated)} twice (RFC 6838 4.3)`,
    );
  }
  return event as ReceivedEvent;
}

/**
 * `check(value)`, with a value too long for its regular expression said as such: a run of
 * millions of characters (within `maxBytes`) overflows a regular expression's backtrack stack,
 * and that `RangeError` escaped `receive` (a 500, which the gateway retries) instead of a 400.
 */
function checked<T>(name: string, value: string, check: (value: string) => T, where: string): T {
  try {
    return check(value);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new MalformedMessage(`${where}${name} is too long to check (${value.length} characters)`);
  }
}

// The core attributes are Strings (or of a string form), and so are the dataref extension and the
// extensions below whose documents make them Strings, Timestamps or URIs.
const STRINGS = new Set([
  "specversion",
  "id",
  "source",
  "type",
  "subject",
  "time",
  "datacontenttype",
  "dataschema",
  "dataref",
  // Extensions of a String type (a Timestamp, a URI, a non-empty String), as the gateway takes them.
  "expirytime",
  "deprecationfrom",
  "deprecationsunset",
  "deprecationmigration",
  "partitionkey",
  "sequence",
  "sequencetype",
  "severitytext",
]);

/** Why `value` cannot be the value of attribute `name`, or `undefined`. */
function badValue(name: string, value: unknown): string | undefined {
  if (typeof value === "string") {
    if (value === "" && STRINGS.has(name)) return "must be a non-empty string";
    const bad = forbiddenInString(value) ?? unencodable(value, "utf-8");
    return bad === undefined ? undefined : `holds ${bad}, which a CloudEvents String cannot hold`;
  }
  if (STRINGS.has(name)) {
    return ["specversion", "id", "source", "type"].includes(name)
      ? "must be a non-empty string"
      : "must be a string";
  }
  if (typeof value === "boolean") return undefined;
  // An extension's value is a String, Integer or Boolean (JSON format 2.2), never an object or
  // an array, which no ce-* header could carry either.
  if (typeof value !== "number") return "must be a string, a number or a boolean";
  return (value | 0) === value ? undefined : "must be an integer from -2^31 to 2^31-1";
}
