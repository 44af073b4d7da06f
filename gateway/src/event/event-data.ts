import {
  asciiJson,
  charsetParameter,
  encodeText,
  type KnownCharset,
  knownCharset,
} from "./charset.js";
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

/**
 * The charset in which bytes of this media type may travel as a `data` string (JSON event format
 * 3.1.1): for `text/*` only, UTF-8 when no charset is declared, else the declared one when
 * Herald can read it (`utf-8`, `us-ascii`, `iso-8859-1`); `undefined` otherwise, and the bytes
 * stay binary.
 *
 * @example
 * textCharset("text/plain"); // "utf-8"
 * textCharset("text/plain; charset=latin1"); // "iso-8859-1"
 * textCharset("text/plain; charset=utf-16"); // undefined
 */
export function textCharset(contentType: string | undefined): KnownCharset | undefined {
  if (contentType === undefined || !essence(contentType).startsWith("text/")) return undefined;
  return knownCharset(charsetParameter(contentType)?.name);
}

const NON_ASCII = /[\u0080-\uffff]/;

/**
 * `contentType` as a label for `text` encoded as UTF-8: unchanged unless its `charset` parameter
 * names another encoding, which is then rewritten to `utf-8`, every other parameter kept as
 * written. `us-ascii` stays while the text is ASCII (then its UTF-8 bytes are ASCII).
 *
 * Only for data stored before ingest refused what its charset cannot carry (see `dataBody`):
 * such text goes out as UTF-8, and labelling the bytes with the original charset would make the
 * sink misread every non-ASCII character. A media type without a charset is left as it is.
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
 * `Content-Type` that declares them, which is `datacontenttype` as sent (3.1.1: populated from
 * it), so the bytes are written in its charset.
 * - `json` kind: the JSON text; `application/json` when `datacontenttype` is absent (JSON event
 *   format 3.1.2 asks to make the implied type explicit when re-encoding). UTF-8 (RFC 8259 8.1),
 *   and with a `us-ascii` or `iso-8859-1` charset, non-ASCII characters as `\uXXXX` escapes, so
 *   the bytes read the same in either;
 * - `text` kind: the string in the declared charset (`utf-8`, `us-ascii`, `iso-8859-1`; UTF-8
 *   when none is declared); `text/plain; charset=utf-8` when `datacontenttype` is absent;
 * - `binary` kind: the bytes as they are; `datacontenttype` when present;
 * - no data: no body; the content type still mirrors `datacontenttype`.
 *
 * Ingest refuses string data its charset cannot carry. An event stored before it did goes out as
 * UTF-8 with the charset rewritten to `utf-8` (see `utf8ContentType`), rather than mislabelled.
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
      if (declared === undefined)
        return { body: utf8.encode(text), contentType: "application/json" };
      const charset = knownCharset(charsetParameter(declared)?.name);
      if (charset === undefined) {
        return { body: utf8.encode(text), contentType: utf8ContentType(declared, text) };
      }
      return {
        body: utf8.encode(charset === "utf-8" ? text : asciiJson(text)),
        contentType: declared,
      };
    }
    case "text": {
      if (declared === undefined) {
        return { body: utf8.encode(data.value), contentType: "text/plain; charset=utf-8" };
      }
      const charset = knownCharset(charsetParameter(declared)?.name);
      const body = charset === undefined ? undefined : encodeText(data.value, charset);
      if (body !== undefined) return { body, contentType: declared };
      return {
        body: utf8.encode(data.value),
        contentType: utf8ContentType(declared, data.value),
      };
    }
    case "binary":
      return { body: data.value, contentType: declared };
  }
}
