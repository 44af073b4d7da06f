/**
 * Decodes a `ce-*` header value per HTTP protocol binding 3.1.3.2: first unescape an RFC 7230
 * 3.2.6 quoted-string (with backslash escapes), then perform exactly one round of
 * percent-decoding, then decode the bytes as UTF-8, rejecting invalid sequences (for example the
 * overlong `%C0%A0`). Unnecessarily encoded characters are accepted; lower-case hex is accepted.
 *
 * Raw bytes above U+007F (obs-text, which Node hands over as Latin-1) are taken as bytes too, so a
 * sender that put raw UTF-8 in a header is understood, and raw invalid UTF-8 is rejected.
 *
 * Returns the decoded string, or an error message.
 *
 * @example
 * decodeHeaderValue("Euro%20%E2%82%AC") // => { ok: true, value: "Euro €" }
 * decodeHeaderValue('"a \\"b\\""')       // => { ok: true, value: 'a "b"' }
 * decodeHeaderValue("%2541")            // => { ok: true, value: "%41" } (one round only)
 */
export function decodeHeaderValue(
  raw: string,
): { readonly ok: true; readonly value: string } | { readonly ok: false; readonly error: string } {
  let text = raw;
  if (text.startsWith('"')) {
    const unquoted = unquote(text);
    if (unquoted === undefined) return { ok: false, error: "is a malformed quoted-string" };
    text = unquoted;
  }
  // Fast path: nothing to decode (the common case on the ingest hot path).
  if (!NEEDS_DECODING.test(text)) return { ok: true, value: text };
  const bytes = new Uint8Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x25 /* % */) {
      const hi = hexValue(text.charCodeAt(i + 1));
      const lo = hexValue(text.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) {
        return { ok: false, error: `has an invalid percent-encoding at position ${i}` };
      }
      bytes[n++] = (hi << 4) | lo;
      i += 2;
    } else if (code > 0xff) {
      return { ok: false, error: "holds a character that is not a byte" };
    } else {
      bytes[n++] = code;
    }
  }
  try {
    return { ok: true, value: utf8.decode(bytes.subarray(0, n)) };
  } catch {
    return { ok: false, error: "is not valid UTF-8 after percent-decoding" };
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const NEEDS_DECODING = /[%\u0080-\uffff]/;

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/** RFC 7230 3.2.6 quoted-string: `"` *( qdtext / quoted-pair ) `"`; undefined when malformed. */
function unquote(text: string): string | undefined {
  if (text.length < 2 || !text.endsWith('"')) return undefined;
  let out = "";
  for (let i = 1; i < text.length - 1; i++) {
    const ch = text[i]!;
    if (ch === "\\") {
      i++;
      if (i >= text.length - 1) return undefined;
      out += text[i];
    } else if (ch === '"') {
      return undefined;
    } else {
      out += ch;
    }
  }
  return out;
}
