import { charsetParameter, decodeText, type KnownCharset, knownCharset } from "./charset.js";
import { attributeString, type CloudEvent } from "./cloud-event.js";
import { decodeUtf8, encodeBase64, isJsonMediaType, jsonText, textCharset } from "./event-data.js";

/** Media type of a single event in the JSON event format (JSON event format 3). */
export const CLOUDEVENTS_JSON = "application/cloudevents+json";

/**
 * How `data` appears in the JSON event format. `text` is the member's JSON text when it must be
 * written verbatim (the original bytes of a JSON payload, so e.g. integers beyond 2^53 survive).
 */
type DataMember =
  | { readonly name: "data"; readonly value: unknown; readonly text?: string }
  | { readonly name: "data_base64"; readonly value: string };

/** Member names reserved for the payload; attributes never use them (CloudEvents 1.0.2 3.1). */
const DATA_MEMBERS = new Set(["data", "data_base64"]);

/**
 * Chooses the `data` member per JSON event format 3.1.1:
 * - `json` kind: `data` holds the JSON value;
 * - `text` kind: `data` holds the string;
 * - `binary` kind: `data_base64`, except that bytes which are JSON in the charset of a declared
 *   JSON `datacontenttype` (UTF-8 when none is declared; `us-ascii`, `iso-8859-1`) become the
 *   `data` JSON value (a JSON serializer MUST, however deeply they nest: Herald's structured
 *   ingest refuses `data` deeper than `MAX_JSON_DEPTH`, a limit of its own), and text under a
 *   `text/*` type, read in its charset (UTF-8 when none is declared; `us-ascii`, `iso-8859-1`), becomes a `data`
 *   string. Both read back to the same bytes a binary-mode message would carry (`dataBody`
 *   writes the string in that charset again). Bytes that are not text in the charset, or a
 *   charset Herald cannot read, stay `data_base64`. Bytes with no `datacontenttype` are opaque (a binary-mode
 *   body without `Content-Type`): 3.1.1 writes Binary data as `data_base64`, and `data` would
 *   claim they are JSON. (The `json` kind without one came from a `data` member: that stays JSON.)
 */
function dataMember(event: CloudEvent): DataMember | undefined {
  const data = event.data;
  switch (data?.kind) {
    case undefined:
      return undefined;
    case "json":
      return data.text === undefined
        ? { name: "data", value: data.value }
        : { name: "data", value: data.value, text: data.text };
    case "text":
      return { name: "data", value: data.value };
    case "binary":
      return bytesMember(data.value, attributeString(event, "datacontenttype"));
  }
}

function bytesMember(bytes: Uint8Array, declared: string | undefined): DataMember {
  if (declared !== undefined && isJsonMediaType(declared)) {
    // Read in the declared charset: `data` is then the JSON those bytes say, which `dataBody`
    // writes in that charset again. Under one Herald cannot write (`utf-16`), the bytes stay
    // bytes: as `data`, the JSON could not be written back as the charset says, and Herald's
    // structured ingest refuses such a `data` member.
    const charset = knownCharset(charsetParameter(declared)?.name);
    const parsed = charset === undefined ? undefined : parseJsonBytes(bytes, charset);
    if (parsed !== undefined) return { name: "data", ...parsed };
  } else {
    const charset = textCharset(declared);
    const text = charset === undefined ? undefined : decodeText(bytes, charset);
    if (text !== undefined) return { name: "data", value: text };
  }
  return { name: "data_base64", value: encodeBase64(bytes) };
}

/** The parsed value and trimmed text of JSON bytes in `charset`, if they are JSON. */
function parseJsonBytes(
  bytes: Uint8Array,
  charset: KnownCharset,
): { value: unknown; text: string } | undefined {
  const text = charset === "utf-8" ? decodeUtf8(bytes) : decodeText(bytes, charset);
  if (text === undefined) return undefined;
  try {
    // JSON.parse accepts exactly the JSON grammar, so a text it accepts can be embedded as is.
    return { value: JSON.parse(text), text: text.trim() };
  } catch {
    return undefined;
  }
}

function attributeMembers(event: CloudEvent): Record<string, unknown> {
  const members: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(event.attributes)) {
    // Attribute values map to JSON strings, numbers and booleans as they are (JSON format 2.2).
    if (!DATA_MEMBERS.has(name)) members[name] = value;
  }
  return members;
}

/**
 * The event as a JSON event format object (JSON event format 3): every attribute, extensions
 * included, as a top-level member, then `data` or `data_base64` (see `serializeEvent` for the
 * choice). Use it to embed an event in a larger document, e.g. a batch.
 *
 * @example
 * toJsonObject({
 *   attributes: { specversion: "1.0", id: "1", source: "/s", type: "t" },
 *   data: { kind: "binary", value: new Uint8Array([0xff]) },
 * });
 * // { specversion: "1.0", id: "1", source: "/s", type: "t", data_base64: "/w==" }
 */
export function toJsonObject(event: CloudEvent): Record<string, unknown> {
  const members = attributeMembers(event);
  const data = dataMember(event);
  if (data !== undefined) members[data.name] = data.value;
  return members;
}

/**
 * The event as `application/cloudevents+json` text (JSON event format 3): attributes as members;
 * `json` data as the `data` JSON value, `text` data as a `data` string, `binary` data as
 * `data_base64` unless the bytes are JSON in the charset of a declared JSON content type (then
 * `data`, written with the original JSON text, so nothing is lost to number precision) or text
 * in the charset of a `text/*` content type (then a `data` string, see `dataMember`). Bytes without a content type are
 * always `data_base64`.
 *
 * Throws a `TypeError` only when `json` data has no JSON form (a programming mistake upstream).
 *
 * @example
 * serializeEvent({
 *   attributes: { specversion: "1.0", id: "1", source: "/s", type: "t" },
 *   data: { kind: "json", value: { a: 1 } },
 * });
 * // '{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"a":1}}'
 */
export function serializeEvent(event: CloudEvent): string {
  const attributes = JSON.stringify(attributeMembers(event));
  const data = dataMember(event);
  if (data === undefined) return attributes;
  const valueText = "text" in data && data.text !== undefined ? data.text : jsonText(data.value);
  const member = `${JSON.stringify(data.name)}:${valueText}`;
  // Splice the member into the attribute object: `{}` -> `{m}`, `{...}` -> `{...,m}`.
  return attributes === "{}" ? `{${member}}` : `${attributes.slice(0, -1)},${member}}`;
}
