import { decodeBase64 } from "./base64.js";
import { asciiJson, type KnownCharset, knownCharset, unencodable } from "./charset.js";
import { forbiddenInString } from "./cloudevents-string.js";
import { charsetOf, isMediaType, JSON_TYPE } from "./media-type.js";
import { isTimestamp } from "./timestamp.js";
import { isAbsoluteUri, isUriReference } from "./uri-reference.js";

/** A CloudEvents attribute value as it goes on the wire (Type System: String, Integer, Boolean). */
export type AttributeValue = string | number | boolean;

/**
 * An event for `producer.send`: a plain CloudEvent object (or an instance of the `cloudevents`
 * package's `CloudEvent`). Only `type` is required; `id` (UUIDv7), `source` (the producer's),
 * `specversion` and `time` are filled in when absent. `data` may be JSON (any value but a
 * string), a string, or bytes (`Uint8Array`, `ArrayBuffer`, a `DataView` or another typed array:
 * its bytes); `data_base64` is read when there is
 * no `data`. Every other member is an extension attribute.
 */
export interface EventInput {
  readonly type: string;
  readonly id?: string | undefined;
  readonly source?: string | undefined;
  readonly specversion?: string | undefined;
  readonly time?: string | Date | undefined;
  readonly subject?: string | undefined;
  readonly datacontenttype?: string | undefined;
  readonly dataschema?: string | undefined;
  readonly data?: unknown | undefined;
  readonly data_base64?: string | undefined;
  readonly [extension: string]: unknown;
}

/** The event's payload by kind: how it goes into a body or the JSON format's `data` member. */
export type Payload =
  /** JSON data as its JSON text, serialised once (so data without a JSON form is found early). */
  | { readonly kind: "json"; readonly text: string }
  /** A string, and the charset of its `datacontenttype` it is written in (UTF-8 without one). */
  | { readonly kind: "text"; readonly value: string; readonly charset: KnownCharset }
  | { readonly kind: "bytes"; readonly value: Uint8Array };

/** An event ready to encode: checked attributes (`id`, `source`, `type`, ... set) and its payload. */
export interface Envelope {
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly payload: Payload | undefined;
}

/** What fills the gaps of an `EventInput`. */
export interface EnvelopeDefaults {
  readonly source: string;
  readonly newId: () => string;
  readonly now: () => number;
}

// CloudEvents 1.0.2 3.1.1: lower-case ASCII letters and digits.
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;

// The context attributes (CloudEvents 1.0.2 3.1) are all String, URI, URI-reference or Timestamp,
// and non-empty when present. A number there would go as "5" in binary mode and as 5 in
// structured mode: accepted in one, refused in the other.
export const STRING_ATTRIBUTES = new Set([
  "id",
  "source",
  "specversion",
  "type",
  "datacontenttype",
  "dataschema",
  "subject",
  "time",
]);

/**
 * The attributes whose type is narrower than String (CloudEvents 1.0.2 3.1, 3.2: URI-reference,
 * URI, Timestamp, an RFC 2046 media type), checked as the gateway checks them: an event it would
 * refuse (400) is a `TypeError` before anything is sent, and a `datacontenttype` no header can
 * carry (`text/plain; x=€`) no longer fails in `fetch` as a network error, retried. The dataref
 * extension (extensions/dataref.md) is a URI-reference the consumer calls back: the gateway
 * passes extensions on unchanged, so one it cannot follow would reach the sink. `expirytime`
 * (expirytime.md) and `deprecationfrom`/`deprecationsunset` (deprecation.md) are Timestamps,
 * which the gateway checks like `time`.
 */
const TIMESTAMP = "an RFC 3339 timestamp such as 2018-04-05T17:31:00Z, or a Date";
const TYPED: readonly [string, (value: AttributeValue) => boolean, string][] = [
  [
    "source",
    isUriReference,
    "a non-empty URI-reference (RFC 3986); percent-encode other characters",
  ],
  ["dataref", isUriReference, "a URI-reference (RFC 3986); percent-encode other characters"],
  ["dataschema", isAbsoluteUri, "an absolute URI with a scheme (RFC 3986 4.3)"],
  ["datacontenttype", isMediaType, "a media type (RFC 2046)"],
  ["time", isTimestamp, TIMESTAMP],
  ["expirytime", isTimestamp, TIMESTAMP],
  ["deprecationfrom", isTimestamp, TIMESTAMP],
  ["deprecationsunset", isTimestamp, TIMESTAMP],
];

function attributeValue(name: string, value: unknown): AttributeValue {
  // An empty source is left to the URI-reference check below, which says what source must be.
  const bad =
    typeof value === "string"
      ? value === "" && name !== "source"
      : !(value instanceof Date && name === "time");
  if (bad && STRING_ATTRIBUTES.has(name)) {
    throw new TypeError(
      `attribute ${name} must be a non-empty string${name === "time" ? " (RFC 3339) or a Date" : ""}`,
    );
  }
  // The CloudEvents Integer is a 32-bit signed integer (Type System): exactly the numbers that
  // `| 0` (ToInt32) leaves as they are; a fraction, NaN, an infinity or 2^31 it changes.
  if (
    typeof value === "string" ||
    typeof value === "boolean" ||
    (typeof value === "number" && (value | 0) === value)
  ) {
    return value;
  }
  if (value instanceof Date) {
    // An invalid Date's toISOString throws a RangeError naming no attribute, and one outside the
    // years 0000-9999 writes "+010000-01-01T..." or "-000001-...", which is no RFC 3339 time.
    const year = value.getUTCFullYear();
    if (!(year >= 0 && year <= 9999)) {
      throw new TypeError(`attribute ${name} is an invalid Date or not in the years 0000-9999`);
    }
    return value.toISOString();
  }
  throw new TypeError(
    `attribute ${name} must be a string, an integer from -2^31 to 2^31-1, or a boolean`,
  );
}

/**
 * An object that JSON writes as `{}` although it holds something: a `Blob` or `File` (bytes), a
 * `Map`, a `Set`, a `Promise` (an `await` left out), an `Error`, an instance with private fields.
 * Only objects of a class are suspect (a plain `{}` is just that) and only without a `toJSON`.
 * `value` is what JSON wrote as `{}`: an object, never `null`.
 */
function lostInJson(value: object): string | undefined {
  const proto: unknown = Object.getPrototypeOf(value);
  // A plain object, of this realm or another (an iframe's, a vm context's Object.prototype).
  if (proto === null || Object.getPrototypeOf(proto) === null) return undefined;
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return undefined;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name ? `a ${name}` : "an instance of a class";
}

/**
 * JSON data, serialised here: a value `JSON.stringify` drops (a function, a symbol, `undefined`,
 * a `toJSON` returning `undefined`) would be a silently missing `data`, and a `Blob`, `Map` or
 * `Promise` written as `{}` a silently empty one, so both are a `TypeError`.
 */
function jsonPayload(value: unknown): Payload {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError("data has no JSON form");
  const lost = text === "{}" ? lostInJson(value as object) : undefined;
  if (lost !== undefined) {
    throw new TypeError(`data is ${lost}, which JSON writes as {}: pass a plain object or bytes`);
  }
  return { kind: "json", text };
}

function payloadOf(data: unknown, dataBase64: unknown): Payload | undefined {
  if (data === undefined) {
    if (dataBase64 === undefined || dataBase64 === null) return undefined;
    // The one base64 decoder: `Uint8Array.from(atob(...), mapper)` took over a second for 5 MB.
    const value = typeof dataBase64 === "string" ? decodeBase64(dataBase64) : undefined;
    if (value === undefined) throw new TypeError("data_base64 must be a base64 string");
    return { kind: "bytes", value };
  }
  if (typeof data === "string") return { kind: "text", value: data, charset: "utf-8" };
  // Any typed array or a DataView is its bytes, as `fetch` would send it (not JSON `{}`).
  if (ArrayBuffer.isView(data)) {
    return { kind: "bytes", value: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  }
  if (data instanceof ArrayBuffer) return { kind: "bytes", value: new Uint8Array(data) };
  return jsonPayload(data);
}

/**
 * Checks an `EventInput` and fills in what is missing: `specversion` 1.0, an `id` (once: every
 * retry reuses it), the producer's `source`, `time` now. Members left `undefined` or `null` are
 * absent (the `cloudevents` package's instances carry such keys). A wrong attribute name or value
 * type is a programming mistake: `TypeError`.
 *
 * @example
 * toEnvelope({ type: "com.example.order.created", data: { orderId: 42 } }, defaults);
 * // { attributes: { specversion: "1.0", id: "0193...", source: "/orders", type: ..., time: ... },
 * //   payload: { kind: "json", text: '{"orderId":42}' } }
 */
export function toEnvelope(input: EventInput, defaults: EnvelopeDefaults): Envelope {
  if (input === null || typeof input !== "object")
    throw new TypeError("an event must be an object");
  const attributes: Record<string, AttributeValue> = { specversion: "1.0" };
  for (const name of Object.keys(input)) {
    if (name === "data" || name === "data_base64") continue;
    const value = input[name];
    if (value === undefined || value === null) continue;
    if (!ATTRIBUTE_NAME.test(name)) {
      throw new TypeError(
        `attribute name ${JSON.stringify(name)} must be lower-case letters and digits`,
      );
    }
    attributes[name] = attributeValue(name, value);
  }
  // The JSON format and binary mode this SDK writes are those of CloudEvents 1.0 only.
  if (attributes.specversion !== "1.0") {
    throw new TypeError(
      `specversion ${JSON.stringify(attributes.specversion)} is not written here (only 1.0)`,
    );
  }
  attributes.id ??= defaults.newId();
  attributes.source ??= defaults.source;
  attributes.time ??= new Date(defaults.now()).toISOString();
  // Present, type is a non-empty string (attributeValue checked it).
  if (attributes.type === undefined) {
    throw new TypeError("an event needs a type");
  }
  for (const [name, valid, what] of TYPED) {
    const value = attributes[name];
    if (value !== undefined && !valid(value)) {
      throw new TypeError(`${name} ${JSON.stringify(value)} must be ${what}`);
    }
  }
  // After the URI checks, whose messages (percent-encode) fit those attributes better.
  for (const [name, value] of Object.entries(attributes)) {
    // A CloudEvents String is Unicode text (Type System): an unpaired surrogate has no UTF-8
    // form either, so binary mode would send U+FFFD in its place, a value nobody gave.
    const bad =
      typeof value === "string"
        ? (forbiddenInString(value) ?? unencodable(value, "utf-8"))
        : undefined;
    if (bad !== undefined) {
      throw new TypeError(`attribute ${name} holds ${bad}, which a CloudEvents String cannot hold`);
    }
  }
  return {
    attributes,
    payload: inCharset(
      asDeclared(payloadOf(input.data, input.data_base64), attributes),
      attributes,
    ),
  };
}

/**
 * Text and JSON data as written in the `charset` of `datacontenttype`, as the gateway writes a
 * `data` member (UTF-8, US-ASCII, ISO-8859-1): a string in that charset, JSON with non-ASCII
 * characters as `\u` escapes outside UTF-8. So `"café"` under `text/plain; charset=iso-8859-1`
 * is the 4 bytes `63 61 66 e9` in binary mode, what the gateway itself would send a binary sink,
 * not UTF-8 bytes that a consumer decoding the declared charset reads as `cafÃ©`. A character
 * the charset has no bytes for, or another charset, is a `TypeError`: the gateway would refuse
 * such a `data` member (400), and in binary mode the body would say something else.
 */
function inCharset(
  payload: Payload | undefined,
  attributes: Record<string, AttributeValue>,
): Payload | undefined {
  if (payload === undefined || payload.kind === "bytes") return payload;
  // A string when present: attributeValue checked it.
  const type = attributes.datacontenttype as string | undefined;
  const label = charsetOf(type);
  const charset = knownCharset(label);
  if (charset === undefined) {
    throw new TypeError(
      `data is ${payload.kind === "text" ? "a string" : "JSON"} under charset ${label}, which is not written here (utf-8, us-ascii, iso-8859-1): pass its bytes`,
    );
  }
  if (payload.kind === "json") {
    return charset === "utf-8" ? payload : { kind: "json", text: asciiJson(payload.text) };
  }
  const bad = unencodable(payload.value, charset);
  if (bad !== undefined) {
    throw new TypeError(`data holds ${bad}, which ${charset} cannot hold`);
  }
  return { kind: "text", value: payload.value, charset };
}

/**
 * The payload as its `datacontenttype` says it is (JSON format 3.1.1), the same in every mode:
 * - a string under a JSON type is JSON text the producer serialised itself: it is sent as that
 *   JSON value (binary: the text as the body; structured: the value as `data`). A string that is
 *   not JSON there would be a JSON event with data that is not JSON: `TypeError`;
 * - JSON data under a type that is not JSON is its JSON text, as a string of that type: the JSON
 *   format stores such data as a string ("MUST store a string representation of the data
 *   value"), and binary mode sends the same text as its body.
 */
function asDeclared(
  payload: Payload | undefined,
  attributes: Record<string, AttributeValue>,
): Payload | undefined {
  // A string when present: attributeValue checked it.
  const type = attributes.datacontenttype as string | undefined;
  if (
    payload === undefined ||
    payload.kind === "bytes" ||
    type === undefined ||
    (payload.kind === "json") === JSON_TYPE.test(type)
  ) {
    return payload;
  }
  if (payload.kind === "json") return { kind: "text", value: payload.text, charset: "utf-8" };
  try {
    return jsonPayload(JSON.parse(payload.value));
  } catch {
    throw new TypeError(
      `data is a string under datacontenttype ${type} but not JSON text; pass the value itself or its JSON text`,
    );
  }
}
