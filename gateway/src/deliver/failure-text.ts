import { charsetParameter, decodeText, knownCharset } from "../event/charset.js";

/** Most bytes of failure text an outcome carries (DESIGN.md: `heralderrordata` is at most 1024). */
export const MAX_ERROR_BYTES = 1024;

/**
 * `text` cut to at most `maxBytes` UTF-8 bytes, at a character boundary (a surrogate pair is never
 * split).
 *
 * @example
 * truncateUtf8("héllo", 2); // "h" ("é" takes two bytes and would not fit)
 */
export function truncateUtf8(text: string, maxBytes: number = MAX_ERROR_BYTES): string {
  // Fast path: one UTF-16 unit never takes more than three UTF-8 bytes.
  if (text.length * 3 <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const cp = char.codePointAt(0) ?? 0;
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}

/**
 * The start of a sink's response body as failure text, at most `maxBytes` UTF-8 bytes: read in
 * the charset its `Content-Type` names when that is ISO-8859-1 (a Java server's error page is
 * often Latin-1: `café` is not `caf\uFFFD`), otherwise as UTF-8 (invalid bytes replaced, an
 * incomplete last character dropped; US-ASCII is a part of it).
 *
 * @example
 * bodyText(new TextEncoder().encode("upstream down")); // "upstream down"
 * bodyText(new Uint8Array([0x63, 0x61, 0x66, 0xe9]), "text/html; charset=ISO-8859-1"); // "café"
 */
export function bodyText(
  bytes: Uint8Array,
  contentType: string | null = null,
  maxBytes: number = MAX_ERROR_BYTES,
): string {
  const head = bytes.subarray(0, maxBytes);
  const label = contentType === null ? undefined : charsetParameter(contentType)?.name;
  if (label !== undefined && knownCharset(label) === "iso-8859-1") {
    // Every byte is a character: never undefined.
    return truncateUtf8(decodeText(head, "iso-8859-1") ?? "", maxBytes);
  }
  // `stream: true` keeps a character cut at the end pending instead of emitting U+FFFD for it.
  return truncateUtf8(new TextDecoder().decode(head, { stream: true }), maxBytes);
}

function messageOf(err: unknown): string {
  // Connecting to a name with several addresses fails with an AggregateError without a message.
  if (err instanceof AggregateError && err.message === "") {
    return err.errors.map(messageOf).filter(Boolean).join("; ");
  }
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/**
 * A short, single-line description of a network failure: the error's message and, when it has
 * one, its cause's (`fetch` reports `fetch failed`, the cause says `connect ECONNREFUSED ...`).
 * At most `maxBytes` UTF-8 bytes.
 *
 * @example
 * describeError(new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:9") }));
 * // "fetch failed: connect ECONNREFUSED 127.0.0.1:9"
 */
export function describeError(err: unknown, maxBytes: number = MAX_ERROR_BYTES): string {
  const parts = [oneLine(messageOf(err))];
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause !== undefined) {
    // Compared on one line: a message made from the cause's description (`fetchFailed`) holds
    // it without the line breaks it had (an OpenSSL message ends in one).
    const inner = oneLine(messageOf(cause));
    if (inner !== "" && !parts[0]?.includes(inner)) parts.push(inner);
  }
  const text = parts.filter(Boolean).join(": ");
  return truncateUtf8(text || "unknown error", maxBytes);
}

/** `text` on one line: each run of white space one space, none at either end. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
