/**
 * The `charset` of a media type, and text in the few charsets Herald encodes and decodes itself:
 * UTF-8, US-ASCII and ISO-8859-1 (RFC 2046 4.1.2, IANA character-set names). Only Web standards
 * and hand-written byte loops, so it runs on every runtime (no Node `Buffer`; `TextDecoder`'s
 * `iso-8859-1` is windows-1252, which is not the same).
 */

/** A charset Herald can write string data in. */
export type KnownCharset = "utf-8" | "us-ascii" | "iso-8859-1";

/** Labels (lower-cased) of the known charsets: the IANA names and their common aliases. */
const LABELS: ReadonlyMap<string, KnownCharset> = new Map([
  ["utf-8", "utf-8"],
  ["utf8", "utf-8"],
  ["us-ascii", "us-ascii"],
  ["ascii", "us-ascii"],
  ["iso-8859-1", "iso-8859-1"],
  ["iso_8859-1", "iso-8859-1"],
  ["iso8859-1", "iso-8859-1"],
  ["latin1", "iso-8859-1"],
  ["l1", "iso-8859-1"],
]);

/**
 * The charset a label names, `"utf-8"` for no label (Herald's default for text), or `undefined`
 * for a label Herald cannot encode in.
 *
 * @example
 * knownCharset("Latin1"); // "iso-8859-1"
 * knownCharset("utf-16"); // undefined
 */
export function knownCharset(label: string | undefined): KnownCharset | undefined {
  return label === undefined ? "utf-8" : LABELS.get(label.toLowerCase());
}

/** Where a media type's `charset` value sits (as written), and what it says (lower-cased). */
export interface CharsetParameter {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

// One `; name=value` of a media type (RFC 9110 section 8.3.1), the value a token or a quoted
// string; lenient about whitespace. Sticky, so a quoted `;charset=` inside another parameter's
// value is never taken for the charset.
const PARAMETER = /[ \t]*;[ \t]*(?:([^\s;="]+)[ \t]*=[ \t]*("(?:[^"\\]|\\.)*"|[^\s;"]*))?[ \t]*/dy;

/**
 * The first `charset` parameter of a media type; parameters after one it cannot read are not.
 *
 * @example
 * charsetParameter('text/plain; charset="ISO-8859-1"')?.name; // "iso-8859-1"
 */
export function charsetParameter(contentType: string): CharsetParameter | undefined {
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

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const NON_ASCII = /[\u0080-\uffff]/;
const NON_LATIN1 = /[\u0100-\uffff]/;

/**
 * The first character of `text` that `charset` cannot represent, described (`"é (U+00E9)"`), or
 * `undefined` when all fit: UTF-8 needs well-formed UTF-16 (a lone surrogate has no UTF-8
 * form), US-ASCII characters up to U+007F, ISO-8859-1 up to U+00FF.
 *
 * @example
 * unencodable("café", "us-ascii"); // "é (U+00E9)"
 * unencodable("a\ud800", "utf-8"); // "an unpaired surrogate (U+D800)"
 */
export function unencodable(text: string, charset: KnownCharset): string | undefined {
  const bad =
    charset === "utf-8"
      ? LONE_SURROGATE.exec(text)
      : (charset === "us-ascii" ? NON_ASCII : NON_LATIN1).exec(text);
  if (bad === null) return undefined;
  const hex = `U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
  return charset === "utf-8" ? `an unpaired surrogate (${hex})` : `${bad[0]} (${hex})`;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * `text` as bytes in `charset`, or `undefined` when a character does not fit (see `unencodable`).
 *
 * @example
 * encodeText("café", "iso-8859-1"); // Uint8Array [0x63, 0x61, 0x66, 0xe9]
 */
export function encodeText(text: string, charset: KnownCharset): Uint8Array | undefined {
  if (unencodable(text, charset) !== undefined) return undefined;
  if (charset === "utf-8") return utf8.encode(text);
  // Every character is one byte with the same value in both (checked above).
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/**
 * `bytes` read as `charset`, or `undefined` when they are not text in it (invalid UTF-8, a byte
 * over 0x7F in US-ASCII; every byte is a character in ISO-8859-1). A UTF-8 byte order mark is
 * kept, as a binary-mode body would keep it.
 *
 * @example
 * decodeText(new Uint8Array([0x63, 0x61, 0x66, 0xe9]), "iso-8859-1"); // "café"
 */
export function decodeText(bytes: Uint8Array, charset: KnownCharset): string | undefined {
  if (charset === "utf-8") {
    try {
      return strictUtf8.decode(bytes);
    } catch {
      return undefined;
    }
  }
  const limit = charset === "us-ascii" ? 0x7f : 0xff;
  const chunk = 0x8000;
  let text = "";
  for (let i = 0; i < bytes.length; i += chunk) {
    const part = bytes.subarray(i, i + chunk);
    if (limit === 0x7f && part.some((byte) => byte > limit)) return undefined;
    text += String.fromCharCode(...part);
  }
  return text;
}

/**
 * JSON text with every non-ASCII character written as a `\uXXXX` escape: the same JSON value,
 * in bytes that read alike as UTF-8, US-ASCII and ISO-8859-1. Outside strings JSON is ASCII, so
 * only string contents change.
 *
 * @example
 * asciiJson('{"a":"é"}'); // '{"a":"\\u00e9"}'
 */
export function asciiJson(text: string): string {
  if (!NON_ASCII.test(text)) return text;
  return text.replace(
    /[\u0080-\uffff]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
