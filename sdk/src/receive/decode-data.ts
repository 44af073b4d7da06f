import { decodeText, encodeText, knownCharset, unencodable } from "../charset.js";
import { charsetOf, JSON_TYPE } from "../media-type.js";
import { MalformedMessage, shorten, UnsupportedMode } from "./receive-errors.js";

/*
 * What `data` a sink gets is decided by the event's media type (`datacontenttype`), the same in
 * every mode, as it is the same event (the JSON format's own examples, 3.2, show an XML `data`
 * string and its binary-mode body as one event re-encoded):
 * - a JSON type (`*\/json`, `*\/*+json`, JSON format 3.1.1) is the JSON value;
 * - `text/*` is a string, read in its `charset` (UTF-8 without one);
 * - any other type is bytes (`Uint8Array`): the HTTP binding makes data "available as a sequence
 *   of bytes" encoded as the type declares (2.2), and binary mode cannot tell text from bytes for
 *   `application/xml` or `image/png`. A JSON-format `data` string under such a type is content
 *   encoded as a string (JSON format 3.1.1: "properly encoded according to the datacontenttype"):
 *   it becomes the bytes it encodes, in the type's charset, as a binary-mode body would carry
 *   them (and as the gateway writes that body).
 * `data_base64` is bytes first (JSON format 3.1.2: "MUST decode into a binary runtime data
 * type"), then read as a binary-mode body is (3.1.2: "MAY further interpret this binary data
 * according to the datacontenttype").
 */

/** `type/subtype` of a media type, lower case, without parameters. */
export function essenceOf(contentType: string | null | undefined): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

/**
 * Text in the charset of `contentType` (UTF-8 without one): `utf-8`, `us-ascii` and
 * `iso-8859-1` by hand, as the gateway reads them (`TextDecoder`'s `iso-8859-1` is
 * windows-1252), another one through the runtime's `TextDecoder`, or `undefined` when it does
 * not know it. `MalformedMessage` when the bytes are no text in it.
 */
function textIn(body: Uint8Array, contentType: string, what: string): string | undefined {
  const label = charsetOf(contentType);
  const charset = knownCharset(label);
  const text =
    charset === undefined ? decodeOther(body, label!) : (decodeText(body, charset) ?? null);
  if (text === null) throw new MalformedMessage(`${what} is not valid ${label ?? "utf-8"}`);
  return text;
}

/** `body` in a charset the runtime's `TextDecoder` knows; `undefined` if it does not, `null` if the bytes are no text in it. */
function decodeOther(body: Uint8Array, label: string): string | null | undefined {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label, { fatal: true });
  } catch {
    return undefined;
  }
  try {
    return decoder.decode(body);
  } catch {
    return null;
  }
}

/**
 * JSON text as a value; `what` names it in the error (`the body`, `the data`).
 *
 * @example
 * parseJsonText('{"a":1}', "the data"); // { a: 1 }
 */
export function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new MalformedMessage(`${what} is not valid JSON`);
  }
}

/**
 * The data of `bytes` (a binary-mode body, or `data_base64`) under `contentType`: JSON parsed
 * in its charset, `text/*` a string (the bytes when the runtime knows no such charset), other
 * types and none the bytes. JSON in a charset the runtime does not know is `UnsupportedMode`
 * (415: the format of the notification is not understood, HTTP webhook 2.2).
 *
 * @example
 * dataFromBytes(new TextEncoder().encode("<a/>"), "application/xml"); // Uint8Array(4)
 */
export function dataFromBytes(
  bytes: Uint8Array,
  contentType: string | undefined,
  where = "",
): unknown {
  if (contentType === undefined) return bytes;
  const what = `${where}the data`;
  if (JSON_TYPE.test(contentType)) {
    const text = textIn(bytes, contentType, what);
    if (text === undefined) {
      throw new UnsupportedMode(
        `${what} is JSON in charset ${shorten(charsetOf(contentType)!)}, which is not read here`,
      );
    }
    return parseJsonText(text, what);
  }
  if (essenceOf(contentType).startsWith("text/")) return textIn(bytes, contentType, what) ?? bytes;
  return bytes;
}

/**
 * The data of a JSON-format `data` member under `contentType`: under a JSON type, or none
 * (JSON format 3.1.2: as if `application/json`), the JSON value as it is; otherwise it must be
 * a string (3.1.2: an implementation "MAY fail" otherwise) holding only characters its charset
 * has: a string for `text/*`, the bytes it encodes in that charset for any other type.
 *
 * @example
 * dataFromMember("<a/>", "application/xml"); // Uint8Array [0x3c, 0x61, 0x2f, 0x3e]
 * dataFromMember("café", "text/plain"); // "café"
 */
export function dataFromMember(
  value: unknown,
  contentType: string | undefined,
  where = "",
): unknown {
  if (contentType === undefined || JSON_TYPE.test(contentType)) return value;
  if (typeof value !== "string") {
    throw new MalformedMessage(
      `${where}data must be a string under datacontenttype ${shorten(contentType)} (JSON format 3.1.2; bytes go in data_base64)`,
    );
  }
  const label = charsetOf(contentType);
  const charset = knownCharset(label);
  const text = essenceOf(contentType).startsWith("text/");
  if (charset === undefined) {
    // A string is a string whatever its label; bytes need the charset, written here or not.
    if (text) return value;
    throw new UnsupportedMode(
      `${where}data is a string under charset ${shorten(label!)}, which is not written here (utf-8, us-ascii, iso-8859-1)`,
    );
  }
  const bad = unencodable(value, charset);
  if (bad !== undefined) {
    throw new MalformedMessage(
      `${where}data holds ${bad}, which its charset ${charset} cannot hold (datacontenttype ${shorten(contentType)})`,
    );
  }
  return text ? value : encodeText(value, charset);
}
