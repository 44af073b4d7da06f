const HEX = "0123456789ABCDEF";

/** Whether a UTF-16 code unit may stay as it is in a header value (HTTP binding 3.1.3.2). */
function isSafe(code: number): boolean {
  // Printable ASCII U+0021..U+007E, except double-quote (U+0022) and percent (U+0025).
  return code >= 0x21 && code <= 0x7e && code !== 0x22 && code !== 0x25;
}

function appendByte(out: string, byte: number): string {
  return `${out}%${HEX[byte >> 4]}${HEX[byte & 0x0f]}`;
}

/** Appends the UTF-8 bytes of one code point (RFC 3629 section 3), each as `%XY`. */
function appendCodePoint(out: string, cp: number): string {
  if (cp < 0x80) return appendByte(out, cp);
  if (cp < 0x800) return appendByte(appendByte(out, 0xc0 | (cp >> 6)), 0x80 | (cp & 0x3f));
  if (cp < 0x10000) {
    const lead = appendByte(out, 0xe0 | (cp >> 12));
    return appendByte(appendByte(lead, 0x80 | ((cp >> 6) & 0x3f)), 0x80 | (cp & 0x3f));
  }
  const lead = appendByte(appendByte(out, 0xf0 | (cp >> 18)), 0x80 | ((cp >> 12) & 0x3f));
  return appendByte(appendByte(lead, 0x80 | ((cp >> 6) & 0x3f)), 0x80 | (cp & 0x3f));
}

/**
 * Percent-encodes an attribute's canonical string for an HTTP header value (HTTP binding
 * 3.1.3.2): space, double-quote, percent and every character outside printable ASCII
 * (U+0021..U+007E, controls included as the spec recommends) become the `%XY` upper-case hex of
 * their UTF-8 bytes; a surrogate pair counts as one character. Everything else is left alone (the
 * result "SHOULD NOT be further encoded"). A lone surrogate, which no valid attribute holds, is
 * encoded as U+FFFD like `TextEncoder` does.
 *
 * @example
 * encodeHeaderValue("Euro € 😀"); // "Euro%20%E2%82%AC%20%F0%9F%98%80"
 * encodeHeaderValue("/orders/42"); // "/orders/42" (returned as is)
 */
export function encodeHeaderValue(value: string): string {
  let i = 0;
  // Fast path: most values (ids, sources, types, times) need no encoding at all.
  while (i < value.length && isSafe(value.charCodeAt(i))) i++;
  if (i === value.length) return value;
  // Values that need encoding and repeat from event to event (`authclaims`, the JSON of a
  // publisher's claims, goes out with every one of its events) are encoded once.
  if (value.length > MAX_REMEMBERED_LENGTH) return encodeFrom(value, i);
  const remembered = encoded.get(value);
  if (remembered !== undefined) return remembered;
  const result = encodeFrom(value, i);
  if (encoded.size >= MAX_REMEMBERED) encoded.clear();
  encoded.set(value, result);
  return result;
}

/** Encoded values by their input; cleared when full, so memory stays bounded. */
const encoded = new Map<string, string>();
const MAX_REMEMBERED = 512;
/** Longer values are encoded each time: at most 512 x 1 KiB (x3 encoded) is ever kept. */
const MAX_REMEMBERED_LENGTH = 1024;

/** Encodes `value` whose first `i` code units are safe. */
function encodeFrom(value: string, start: number): string {
  let i = start;
  let out = value.slice(0, i);
  while (i < value.length) {
    const code = value.charCodeAt(i);
    if (isSafe(code)) {
      out += value[i];
      i++;
      continue;
    }
    let cp = value.codePointAt(i) ?? code;
    i += cp > 0xffff ? 2 : 1;
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // lone surrogate
    out = appendCodePoint(out, cp);
  }
  return out;
}
