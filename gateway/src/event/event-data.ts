import { attributeString, type CloudEvent } from "./cloud-event.js";

/** What a binary-mode message carries for an event's data: the body bytes and its media type. */
export interface DataBody {
  /** `undefined` when the event has no data. */
  readonly body: Uint8Array | undefined;
  /** The HTTP `Content-Type`; `undefined` when nothing declares one. */
  readonly contentType: string | undefined;
}

const utf8 = new TextEncoder();
// `fatal` so that bytes which are not UTF-8 are reported instead of silently turned into U+FFFD.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** The media type without parameters, lower-cased (`"Application/JSON; charset=x"` -> `"application/json"`). */
function essence(contentType: string): string {
  const semicolon = contentType.indexOf(";");
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

/**
 * Whether a `datacontenttype` declares JSON-formatted content: its media type, stripped of
 * parameters, has the subtype `json` or a subtype ending in `+json`; an absent one counts as
 * `application/json` (JSON event format 3.1.1).
 *
 * @example
 * isJsonMediaType("application/cloudevents+json; charset=utf-8"); // true
 * isJsonMediaType(undefined); // true
 * isJsonMediaType("text/plain"); // false
 */
export function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return true;
  const type = essence(contentType);
  const slash = type.indexOf("/");
  if (slash <= 0) return false;
  const subtype = type.slice(slash + 1);
  return subtype === "json" || subtype.endsWith("+json");
}

/**
 * Whether bytes of this media type, when they are valid UTF-8, may travel as a `data` string:
 * `text/*` with no charset or a UTF-8 compatible one. Any other charset means the bytes are not
 * meant to be read as UTF-8, so they stay binary.
 *
 * @example
 * isUtf8TextMediaType("text/plain; charset=utf-8"); // true
 * isUtf8TextMediaType("text/plain; charset=iso-8859-1"); // false
 */
export function isUtf8TextMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined || !essence(contentType).startsWith("text/")) return false;
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1]?.toLowerCase();
  return (
    charset === undefined || charset === "utf-8" || charset === "utf8" || charset === "us-ascii"
  );
}

/**
 * Decodes bytes as UTF-8, or `undefined` when they are not valid UTF-8.
 *
 * @example
 * decodeUtf8(new Uint8Array([0x68, 0x69])); // "hi"
 * decodeUtf8(new Uint8Array([0xc0, 0xa0])); // undefined (overlong encoding)
 */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Standard Base64 (RFC 4648 section 4, with padding), the encoding of `data_base64`
 * (JSON event format 2.2, type `Binary`). Web Standards only, so it runs on every runtime.
 *
 * @example
 * encodeBase64(new Uint8Array([1, 2, 3])); // "AQID"
 */
export function encodeBase64(bytes: Uint8Array): string {
  // btoa takes a "binary string"; build it in chunks so large payloads do not overflow the
  // argument limit of String.fromCharCode.
  const chunk = 0x8000;
  let binary = "";
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/**
 * JSON text of a `json`-kind data value. Throws a `TypeError` when the value has no JSON form
 * (`undefined`, a function, a `BigInt`), which only a programming mistake upstream produces.
 *
 * @example
 * jsonText({ a: 1 }); // '{"a":1}'
 */
export function jsonText(value: unknown): string {
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) throw new TypeError("event data has no JSON representation");
  return text;
}

/**
 * The body of a binary-mode message (HTTP binding 3.1.1 and 3.1.2): the data as bytes, and the
 * `Content-Type` that declares them.
 * - `json` kind: the JSON text as UTF-8; the content type is `datacontenttype`, or
 *   `application/json` when absent (JSON event format 3.1.2 asks to make the implied type explicit
 *   when re-encoding);
 * - `text` kind: the string as UTF-8; `datacontenttype`, or `text/plain; charset=utf-8` when absent;
 * - `binary` kind: the bytes as they are; `datacontenttype` when present;
 * - no data: no body; the content type still mirrors `datacontenttype`.
 *
 * @example
 * dataBody({ attributes, data: { kind: "json", value: { a: 1 } } });
 * // { body: Uint8Array('{"a":1}'), contentType: "application/json" }
 */
export function dataBody(event: CloudEvent): DataBody {
  const declared = attributeString(event, "datacontenttype");
  const data = event.data;
  switch (data?.kind) {
    case undefined:
      return { body: undefined, contentType: declared };
    case "json":
      return {
        body: utf8.encode(jsonText(data.value)),
        contentType: declared ?? "application/json",
      };
    case "text":
      return {
        body: utf8.encode(data.value),
        contentType: declared ?? "text/plain; charset=utf-8",
      };
    case "binary":
      return { body: data.value, contentType: declared };
  }
}
