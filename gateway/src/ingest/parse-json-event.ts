import type { Violation } from "../errors/errors.js";
import { charsetParameter, knownCharset, unencodable } from "../event/charset.js";
import type { AttributeValue, CloudEvent, EventData } from "../event/cloud-event.js";
import { typedExtensions } from "../event/extension-attributes.js";
import { jsonTooDeep, MAX_JSON_DEPTH } from "../event/json-depth.js";
import { isJsonEssence, parseMediaType } from "../event/media-type.js";
import { validateAttributes } from "../event/validate-attributes.js";
import type { EventText } from "./data-member-text.js";

export type ParsedEvent =
  | { readonly ok: true; readonly event: CloudEvent }
  | { readonly ok: false; readonly violations: readonly Violation[] };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Turns one JSON value in the CloudEvents JSON event format (json-format.md section 3) into a
 * CloudEvent, validating it. `text` is what the scan of its JSON text found (see `scanEvents`):
 * the `data` member's text as received, kept beside the parsed value, and the members written
 * as `1.0` or `1e2`, which are not Integers (2.2) though `JSON.parse` makes them whole numbers. `null` members are treated as absent (2.2); `data` and
 * `data_base64` are mutually exclusive (3.1.1); `data_base64` must be valid Base64 (RFC 4648);
 * with a non-JSON `datacontenttype`, `data` must be a string (3.1.2) that its charset can carry
 * (3.1.1: properly encoded; no lone surrogate in UTF-8); a `data` member under a charset Herald
 * cannot write (anything but UTF-8, US-ASCII, ISO-8859-1) is refused.
 *
 * @example
 * parseJsonEvent({ specversion: "1.0", id: "1", source: "/s", type: "t", data: { a: 1 } })
 * // => { ok: true, event: { attributes: {...}, data: { kind: "json", value: { a: 1 } } } }
 */
export function parseJsonEvent(value: unknown, text?: EventText): ParsedEvent {
  const dataText = text?.data;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, violations: [{ attribute: "event", message: "must be a JSON object" }] };
  }
  const attributes: Record<string, AttributeValue> = {};
  const violations: Violation[] = [];
  const refused = new Set<string>();
  let hasData = false;
  let rawData: unknown;
  let rawBase64: unknown;
  for (const [name, member] of Object.entries(value)) {
    if (member === null && name !== "data") continue;
    if (name === "__proto__") {
      violations.push({ attribute: name, message: "is not a valid attribute name" });
    } else if (name === "data") {
      hasData = true;
      rawData = member;
    } else if (name === "data_base64") {
      rawBase64 = member;
    } else if (
      typeof member === "string" ||
      typeof member === "number" ||
      typeof member === "boolean"
    ) {
      attributes[name] = member;
    } else {
      refused.add(name);
      violations.push({ attribute: name, message: "must be a string, an integer or a boolean" });
    }
  }
  // One by one: spread as arguments, the 130,000 violations of a 1 MiB batch's one event of
  // three-character names overflowed the stack (a 500, not a 400).
  for (const violation of validateAttributes(attributes, refused)) violations.push(violation);
  if (text?.notIntegers !== undefined) notIntegers(attributes, text.notIntegers, violations);
  for (const name of text?.repeated ?? []) {
    violations.push({
      attribute: name,
      message:
        "is given twice in the event object; send it once (JSON readers disagree on which one counts)",
    });
  }
  const data = parseData(attributes.datacontenttype, hasData, rawData, rawBase64, violations);
  // Keep the received text of JSON data so numbers and formatting reach sinks unchanged.
  const json = data?.kind === "json" && dataText !== undefined ? { ...data, text: dataText } : data;
  if (violations.length > 0) return { ok: false, violations };
  const typed = typedExtensions(attributes);
  return {
    ok: true,
    event: json === undefined ? { attributes: typed } : { attributes: typed, data: json },
  };
}

/**
 * An Integer is a JSON number with only the integer component (JSON event format 2.2):
 * `JSON.parse` reads `1.0` and `1e2` as integers, so the text says which were written so.
 */
function notIntegers(
  attributes: Readonly<Record<string, AttributeValue>>,
  names: ReadonlySet<string>,
  violations: Violation[],
): void {
  // A set, not a search of `violations` per name: an event of 24,000 members written `1.0`
  // took seconds of the event loop to refuse (each search ran over those already refused).
  const refused = new Set(violations.map((v) => v.attribute));
  for (const name of names) {
    const value = attributes[name];
    if (typeof value !== "number" || !Number.isInteger(value)) continue;
    if (refused.has(name)) continue;
    violations.push({
      attribute: name,
      message:
        "must be an integer written without a fraction or exponent, such as 100 (JSON format 2.2)",
    });
  }
}

function parseData(
  contentType: AttributeValue | undefined,
  hasData: boolean,
  rawData: unknown,
  rawBase64: unknown,
  violations: Violation[],
): EventData | undefined {
  if (rawBase64 !== undefined) {
    if (hasData) {
      violations.push({
        attribute: "data_base64",
        message: "data and data_base64 must not both be present (JSON format 3.1.1)",
      });
      return undefined;
    }
    if (typeof rawBase64 !== "string" || !BASE64.test(rawBase64)) {
      violations.push({ attribute: "data_base64", message: "must be a Base64 string (RFC 4648)" });
      return undefined;
    }
    return { kind: "binary", value: decodeBase64(rawBase64) };
  }
  if (!hasData) return undefined;
  if (jsonTooDeep(rawData)) {
    violations.push({ attribute: "data", message: `nests deeper than ${MAX_JSON_DEPTH} levels` });
    return undefined;
  }
  const declared = typeof contentType === "string" ? contentType : undefined;
  const essence = declared === undefined ? undefined : parseMediaType(declared)?.essence;
  const label = declared === undefined ? undefined : charsetParameter(declared)?.name;
  const charset = knownCharset(label);
  if (charset === undefined) {
    // A binary-mode sink gets datacontenttype as Content-Type (HTTP binding 3.1.1), so the
    // data must be written in its charset, and Herald writes only these.
    violations.push({
      attribute: "data",
      message:
        `cannot be written in charset ${label} (datacontenttype): Herald writes data as ` +
        "utf-8, us-ascii or iso-8859-1; declare one of them, or send bytes as data_base64",
    });
    return undefined;
  }
  if (essence === undefined || isJsonEssence(essence)) return { kind: "json", value: rawData };
  if (typeof rawData !== "string") {
    violations.push({
      attribute: "data",
      message: `must be a string for datacontenttype ${essence} (use data_base64 for bytes)`,
    });
    return undefined;
  }
  // Properly encoded in the charset of datacontenttype (JSON event format 3.1.1), not relabelled
  // or patched with U+FFFD on the way to a sink.
  const bad = unencodable(rawData, charset);
  if (bad !== undefined) {
    violations.push({
      attribute: "data",
      message:
        charset === "utf-8"
          ? `must be properly encoded text (JSON format 3.1.1): it holds ${bad}, which has no UTF-8 form`
          : `cannot be written in charset ${label} (datacontenttype): it holds ${bad}; declare charset=utf-8`,
    });
    return undefined;
  }
  return { kind: "text", value: rawData };
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
