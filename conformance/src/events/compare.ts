import { isDeepStrictEqual } from "node:util";
import { isJsonMediaType, mediaTypeEssence } from "../http/media-type.js";
import type { ObservedEvent } from "../sink/decode-delivery.js";

/**
 * Attributes a gateway may add on the way (DESIGN.md "Attributes the gateway sets"): provenance
 * (`recordedtime`), the authcontext extension and the distributed-tracing extension.
 */
export const GATEWAY_ADDED_ATTRIBUTES: readonly string[] = [
  "recordedtime",
  "authtype",
  "authid",
  "authclaims",
  "traceparent",
  "tracestate",
];

/** What the `data` of a delivered event must be equivalent to. */
export type ExpectedData =
  | { readonly bytes: Uint8Array }
  | { readonly json: unknown }
  | { readonly absent: true };

/**
 * Differences between the attributes sent and those observed; empty when equivalent. In binary
 * deliveries every value is compared by its canonical string (spec "Type System"); in structured
 * deliveries JSON types must be kept. `time` values are equal when they name the same instant.
 * Extra observed attributes are differences unless listed in `added` (or an implied
 * `datacontenttype: application/json`).
 *
 * @example
 * attributeDifferences({ id: "1", comexampleint: 5 }, observed) // => [] when both match
 */
export function attributeDifferences(
  expected: Readonly<Record<string, unknown>>,
  observed: ObservedEvent,
  added: readonly string[] = GATEWAY_ADDED_ATTRIBUTES,
): string[] {
  const out: string[] = [...observed.problems];
  for (const [name, want] of Object.entries(expected)) {
    const got = observed.attributes[name];
    if (got === undefined) {
      out.push(`${name}: missing (expected ${JSON.stringify(want)})`);
    } else if (!sameValue(name, want, got, observed.mode)) {
      out.push(`${name}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
    }
  }
  for (const name of Object.keys(observed.attributes)) {
    if (name in expected || added.includes(name)) continue;
    if (name === "datacontenttype" && impliedJson(observed.attributes[name])) continue;
    out.push(`${name}: unexpected attribute ${JSON.stringify(observed.attributes[name])}`);
  }
  return out;
}

/**
 * A JSON-format event without `datacontenttype` implies `application/json`, and a gateway SHOULD
 * make that explicit when it re-encodes the event (JSON event format 3.1.2), so it may appear.
 */
function impliedJson(value: unknown): boolean {
  return typeof value === "string" && mediaTypeEssence(value) === "application/json";
}

function sameValue(
  name: string,
  want: unknown,
  got: unknown,
  mode: ObservedEvent["mode"],
): boolean {
  const w = mode === "binary" ? canonical(want) : want;
  if (w === got) return true;
  if (name === "time" && typeof w === "string" && typeof got === "string") {
    const a = Date.parse(w);
    return !Number.isNaN(a) && a === Date.parse(got);
  }
  return false;
}

/** Canonical string encoding of an attribute value (spec "Type System"). */
export function canonical(value: unknown): string {
  return typeof value === "string" ? value : String(value);
}

/**
 * Why the observed `data` is not equivalent to the expected one, or `undefined` when it is.
 * Binary deliveries compare body bytes (or parsed JSON); structured deliveries accept `data` or
 * `data_base64` as the JSON event format 3.1 allows. `datacontenttype` is the event's.
 *
 * @example
 * dataDifference({ json: { a: 1 } }, observed, "application/json") // => undefined
 */
export function dataDifference(
  expected: ExpectedData,
  observed: ObservedEvent,
  datacontenttype: string | undefined,
): string | undefined {
  return observed.mode === "binary"
    ? binaryDataDifference(expected, observed.body)
    : structuredDataDifference(expected, observed.envelope ?? {}, datacontenttype);
}

function binaryDataDifference(expected: ExpectedData, body: Uint8Array): string | undefined {
  if ("absent" in expected) {
    return body.byteLength === 0 ? undefined : `expected no body, got ${body.byteLength} bytes`;
  }
  if ("bytes" in expected) {
    return bytesEqual(expected.bytes, body)
      ? undefined
      : `body differs: expected ${describeBytes(expected.bytes)}, got ${describeBytes(body)}`;
  }
  const parsed = tryParseJson(body);
  if (!parsed.ok) return `body is not JSON: ${describeBytes(body)}`;
  return isDeepStrictEqual(parsed.value, expected.json)
    ? undefined
    : `body JSON differs: expected ${JSON.stringify(expected.json)}, got ${JSON.stringify(parsed.value)}`;
}

function structuredDataDifference(
  expected: ExpectedData,
  envelope: Readonly<Record<string, unknown>>,
  datacontenttype: string | undefined,
): string | undefined {
  const hasData = "data" in envelope;
  const base64 = envelope.data_base64;
  if (hasData && base64 !== undefined) return "envelope has both data and data_base64";
  if ("absent" in expected) {
    return hasData || base64 !== undefined
      ? "expected no data, but the envelope has some"
      : undefined;
  }
  if (typeof base64 === "string") {
    const bytes = new Uint8Array(Buffer.from(base64, "base64"));
    if ("bytes" in expected) {
      return bytesEqual(bytes, expected.bytes)
        ? undefined
        : "data_base64 decodes to different bytes";
    }
    const parsed = tryParseJson(bytes);
    return parsed.ok && isDeepStrictEqual(parsed.value, expected.json)
      ? undefined
      : "data_base64 does not decode to the expected JSON";
  }
  if (!hasData) return "envelope has neither data nor data_base64";
  const data = envelope.data;
  if ("json" in expected) {
    return isDeepStrictEqual(data, expected.json)
      ? undefined
      : `data differs: expected ${JSON.stringify(expected.json)}, got ${JSON.stringify(data)}`;
  }
  // Bytes that arrived in binary mode: a JSON media type (or none, JSON format 3.1.1) carries them
  // as a JSON value, any other as a string (3.1.1 "string representation").
  if (datacontenttype === undefined || isJsonMediaType(datacontenttype)) {
    const parsed = tryParseJson(expected.bytes);
    if (parsed.ok && isDeepStrictEqual(data, parsed.value)) return undefined;
  }
  const text = tryUtf8(expected.bytes);
  if (text !== undefined && data === text) return undefined;
  return `data ${JSON.stringify(data)} is not equivalent to the ${expected.bytes.byteLength} bytes sent`;
}

function tryParseJson(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  const text = tryUtf8(bytes);
  if (text === undefined) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function tryUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** Byte-wise equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i]);
}

function describeBytes(bytes: Uint8Array): string {
  const text = tryUtf8(bytes);
  const shown =
    text === undefined
      ? Buffer.from(bytes.subarray(0, 32)).toString("hex")
      : JSON.stringify(text.slice(0, 60));
  return `${bytes.byteLength} bytes ${shown}`;
}
