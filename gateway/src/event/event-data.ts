import { attributeString, type CloudEvent } from "./cloud-event.js";
import { isJsonEssence, parseMediaType } from "./media-type.js";

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
  return parseMediaType(contentType)?.essence ?? "";
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
  return contentType === undefined || isJsonEssence(essence(contentType));
}

/** Where a media type's `charset` value sits (as written), and what it says (lower-cased). */
interface CharsetParameter {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

// One `; name=value` of a media type (RFC 9110 section 8.3.1), the value a token or a quoted
// string; lenient about whitespace. Sticky, so a quoted `;charset=` inside another parameter's
// value is never taken for the charset.
const PARAMETER = /[ \t]*;[ \t]*(?:([^\s;="]+)[ \t]*=[ \t]*("(?:[^"\\]|\\.)*"|[^\s;"]*))?[ \t]*/dy;

/** The first `charset` parameter of a media type; parameters after one it cannot read are not. */
function charsetParameter(contentType: string): CharsetParameter | undefined {
  let at = contentType.indexOf(";");
  if (at === -1) return undefined;
  while (at < contentType.length) {
    PARAMETER.lastIndex = at;
    const match = PARAMETER.exec(contentType);
    if (match === null || PARAMETER.lastIndex === at) return undefined;
    at = PARAMETER.lastIndex;
    const [start, end] = match.indices?.[2] ?? [0, 0];
    if (match[1]?.toLowerCase() === "charset" && match[2] !== undefined) {
      const raw = match[2];
      const value = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw;
      return { name: value.toLowerCase(), start, end };
    }
  }
  return undefined;
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
  const charset = charsetParameter(contentType)?.name;
  return (
    charset === undefined || charset === "utf-8" || charset === "utf8" || charset === "us-ascii"
  );
}

const NON_ASCII = /[\u0080-\uffff]/;

/**
 * `contentType` as a label for `text` encoded as UTF-8: unchanged unless its `charset` parameter
 * names another encoding, which is then rewritten to `utf-8`, every other parameter kept as
 * written. `us-ascii` stays while the text is ASCII (then its UTF-8 bytes are ASCII).
 *
 * Herald re-encodes string data as UTF-8 (its only encoder, as in `fetch`); labelling the bytes
 * with the original charset (`iso-8859-1`, `utf-16`) would make the sink misread every non-ASCII
 * character. A media type without a charset is left as it is.
 *
 * @example
 * utf8ContentType("text/plain; charset=ISO-8859-1; format=flowed", "café");
 * // "text/plain; charset=utf-8; format=flowed"
 * utf8ContentType("application/xml", "<a/>"); // "application/xml"
 */
export function utf8ContentType(contentType: string, text: string): string {
  const charset = charsetParameter(contentType);
  if (charset === undefined || charset.name === "utf-8" || charset.name === "utf8") {
    return contentType;
  }
  if (charset.name === "us-ascii" && !NON_ASCII.test(text)) return contentType;
  return `${contentType.slice(0, charset.start)}utf-8${contentType.slice(charset.end)}`;
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
 * - for both, a declared `charset` other than UTF-8 (`iso-8859-1`, `utf-16`) is rewritten to
 *   `utf-8`, other parameters kept (see `utf8ContentType`): the string is re-encoded, so the label
 *   must say how, or the sink misreads it;
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
    case "json": {
      const text = data.text ?? jsonText(data.value);
      return {
        body: utf8.encode(text),
        contentType: declared === undefined ? "application/json" : utf8ContentType(declared, text),
      };
    }
    case "text":
      return {
        body: utf8.encode(data.value),
        contentType:
          declared === undefined
            ? "text/plain; charset=utf-8"
            : utf8ContentType(declared, data.value),
      };
    case "binary":
      return { body: data.value, contentType: declared };
  }
}
