/**
 * Header-value codec of the CloudEvents HTTP protocol binding 1.0.2, section 3.1.3.2. The suite
 * encodes what it sends the spec's way, and decodes what its sink receives the same way a
 * conforming receiver must, so a gateway is judged by the spec's rules, not by this suite's.
 */

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Percent-encodes an attribute value for a `ce-*` header: space, double-quote, percent and every
 * character outside U+0021..U+007E become `%XY` of their UTF-8 bytes, upper-case hex.
 *
 * @example
 * percentEncode("Euro € 😀") // => "Euro%20%E2%82%AC%20%F0%9F%98%80"
 */
export function percentEncode(value: string): string {
  let out = "";
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (code >= 0x21 && code <= 0x7e && ch !== '"' && ch !== "%") {
      out += ch;
      continue;
    }
    for (const byte of utf8Encoder.encode(ch)) {
      out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    }
  }
  return out;
}

/** A header value that a conforming receiver must reject. */
export class HeaderDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HeaderDecodeError";
  }
}

/**
 * Decodes a `ce-*` header value: unescape an RFC 7230 3.2.6 quoted-string, then exactly one round
 * of percent-decoding, then strict UTF-8. Throws `HeaderDecodeError` on malformed input.
 *
 * @example
 * decodeHeaderValue("%2541")        // => "%41" (one round only)
 * decodeHeaderValue('"a \\"b\\""')  // => 'a "b"'
 */
export function decodeHeaderValue(raw: string): string {
  const text = raw.startsWith('"') ? unquote(raw) : raw;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x25) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
        throw new HeaderDecodeError(`invalid percent-encoding at position ${i}`);
      }
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (code > 0xff) {
      throw new HeaderDecodeError(`character U+${code.toString(16)} is not a header byte`);
    } else {
      bytes.push(code);
    }
  }
  try {
    return utf8Decoder.decode(Uint8Array.from(bytes));
  } catch {
    throw new HeaderDecodeError("not valid UTF-8 after percent-decoding");
  }
}

function unquote(text: string): string {
  if (text.length < 2 || !text.endsWith('"'))
    throw new HeaderDecodeError("unterminated quoted-string");
  let out = "";
  for (let i = 1; i < text.length - 1; i++) {
    let ch = text[i]!;
    if (ch === "\\") {
      i++;
      if (i >= text.length - 1) throw new HeaderDecodeError("dangling backslash in quoted-string");
      ch = text[i]!;
    } else if (ch === '"') {
      throw new HeaderDecodeError("unescaped double-quote inside quoted-string");
    }
    out += ch;
  }
  return out;
}

/**
 * True when a raw header value is what a conforming *sender* produces (3.1.3.2): only printable
 * ASCII U+0021..U+007E, no double-quote, and every `%` starts a valid escape.
 *
 * @example
 * isSpecEncoded("a%20b") // => true
 * isSpecEncoded("a b")   // => false
 */
export function isSpecEncoded(raw: string): boolean {
  return /^(?:[\x21\x23\x24\x26-\x7e]|%[0-9A-Fa-f]{2})*$/.test(raw);
}
