/**
 * The `charset` of a media type, and text in the charsets the gateway writes and reads itself:
 * UTF-8, US-ASCII and ISO-8859-1 (README "What Herald checks"). By hand, not `TextDecoder`:
 * its `iso-8859-1` and `us-ascii` labels are windows-1252 (WHATWG Encoding), which differs.
 */

/** A charset the SDK writes string data in, and reads text in, as the gateway does. */
export type KnownCharset = "utf-8" | "us-ascii" | "iso-8859-1";

/**
 * The charset a label names, UTF-8 for none, `undefined` for one the SDK does not handle: the
 * IANA names and their common aliases (utf8; ascii; iso_8859-1, iso8859-1, latin1, l1), any case.
 *
 * @example
 * knownCharset("Latin1"); // "iso-8859-1"
 * knownCharset("utf-16"); // undefined
 */
export function knownCharset(label: string | undefined): KnownCharset | undefined {
  // Patterns, not a table of labels: fewer bytes in every producer bundle.
  return label === undefined || /^utf-?8$/i.test(label)
    ? "utf-8"
    : /^(us-)?ascii$/i.test(label)
      ? "us-ascii"
      : /^(iso[-_]?8859-1|latin1|l1)$/i.test(label)
        ? "iso-8859-1"
        : undefined;
}

/** Global: read with `match` and `replace` (which start at 0), never `exec` or `test`. */
export const LONE_SURROGATES =
  /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const NON_ASCII = /[\u0080-\uffff]/;
const NON_LATIN1 = /[\u0100-\uffff]/;

/**
 * The first character of `text` that `charset` has no bytes for, described, or `undefined`:
 * UTF-8 has none for an unpaired surrogate, US-ASCII stops at U+007F, ISO-8859-1 at U+00FF.
 *
 * @example
 * unencodable("€5", "iso-8859-1"); // "€ (U+20AC)"
 */
export function unencodable(text: string, charset: KnownCharset): string | undefined {
  const pattern =
    charset === "utf-8" ? LONE_SURROGATES : charset === "us-ascii" ? NON_ASCII : NON_LATIN1;
  const bad = text.match(pattern)?.[0];
  if (bad === undefined) return undefined;
  const hex = `U+${bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
  return charset === "utf-8" ? `an unpaired surrogate (${hex})` : `${bad} (${hex})`;
}

/** The one `TextEncoder` of the producer (each module had its own: bytes in every bundle). */
export const utf8 = new TextEncoder();
// Pure: only the receive side decodes, so a producer bundle leaves it out.
const strictUtf8 = /* @__PURE__ */ new TextDecoder("utf-8", { fatal: true });

/**
 * `text` as bytes in `charset`; every character must fit (see `unencodable`).
 *
 * @example
 * encodeText("café", "iso-8859-1"); // Uint8Array [0x63, 0x61, 0x66, 0xe9]
 */
export function encodeText(text: string, charset: KnownCharset): Uint8Array {
  if (charset === "utf-8") return utf8.encode(text);
  // US-ASCII and ISO-8859-1: each character is one byte of the same value.
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/**
 * `bytes` read as `charset`, or `undefined` when they are not text in it (invalid UTF-8, a byte
 * over 0x7F in US-ASCII; every byte is a character in ISO-8859-1). A UTF-8 byte order mark is
 * dropped, as `TextDecoder` drops it (JSON text may start with one).
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
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    const chunk = bytes.subarray(i, i + 0x8000);
    if (charset === "us-ascii" && chunk.some((b) => b > 0x7f)) return undefined;
    text += String.fromCharCode(...chunk);
  }
  return text;
}

/**
 * JSON text with every non-ASCII character as a `\u` escape: the same JSON value, and bytes that
 * are the same in UTF-8, US-ASCII and ISO-8859-1 (outside strings JSON text is ASCII already).
 *
 * @example
 * asciiJson('{"city":"Köln"}'); // '{"city":"K\\u00f6ln"}'
 */
export function asciiJson(text: string): string {
  return text.replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
