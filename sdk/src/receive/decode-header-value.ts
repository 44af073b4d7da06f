const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const NEEDS_DECODING = /[%\u0080-\uffff]/;

/** RFC 7230 3.2.6 quoted-string: `"` *( qdtext / quoted-pair ) `"`; undefined when malformed. */
function unquote(text: string): string | undefined {
  if (text.length < 2 || !text.endsWith('"')) return undefined;
  let out = "";
  for (let i = 1; i < text.length - 1; i++) {
    let ch = text[i]!;
    if (ch === '"') return undefined;
    if (ch === "\\") {
      if (++i >= text.length - 1) return undefined;
      ch = text[i]!;
    }
    out += ch;
  }
  return out;
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/**
 * A `ce-*` header value as the HTTP binding decodes it (3.1.3.2): a double-quoted string is
 * unescaped first (RFC 7230 3.2.6, which older senders used instead of percent-encoding space and
 * `"`), then one round of percent-decoding (lower-case hex too), then the bytes as UTF-8, an
 * invalid or overlong sequence (`%C0%A0`) refused. Characters U+0080..U+00FF are the raw bytes
 * of the field as runtimes hand them over (obs-text as Latin-1), so raw UTF-8 is read as UTF-8.
 * `undefined` when the value cannot be decoded.
 *
 * @example
 * decodeHeaderValue("Euro%20%E2%82%AC"); // "Euro €"
 * decodeHeaderValue('"a \\"b\\""'); // 'a "b"'
 */
export function decodeHeaderValue(raw: string): string | undefined {
  const text = raw.startsWith('"') ? unquote(raw) : raw;
  if (text === undefined || !NEEDS_DECODING.test(text)) return text;
  const bytes = new Uint8Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x25 /* % */) {
      const hi = hexValue(text.charCodeAt(i + 1));
      const lo = hexValue(text.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return undefined;
      bytes[n++] = (hi << 4) | lo;
      i += 2;
    } else if (code > 0xff) {
      return undefined;
    } else {
      bytes[n++] = code;
    }
  }
  try {
    return utf8.decode(bytes.subarray(0, n));
  } catch {
    return undefined;
  }
}
