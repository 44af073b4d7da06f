import { utf8 as encoder } from "./charset.js";

/**
 * Percent-encodes a CloudEvents attribute value for an HTTP header (HTTP protocol binding
 * 3.1.3.2): space, double-quote, percent and everything outside U+0021..U+007E become `%XY` of
 * their UTF-8 bytes, upper-case hex.
 *
 * @example
 * encodeHeaderValue("Euro € 😀") // => "Euro%20%E2%82%AC%20%F0%9F%98%80"
 */
export function encodeHeaderValue(value: string): string {
  if (SAFE.test(value)) return value;
  let out = "";
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (code > 0x20 && code < 0x7f && code !== 0x22 && code !== 0x25) {
      out += ch;
    } else {
      for (const byte of encoder.encode(ch))
        out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    }
  }
  return out;
}

const SAFE = /^[\x21\x23\x24\x26-\x7e]*$/;
