// RFC 9110 5.1 (field-name = token) and 5.5 (field values: visible ASCII, obs-text, SP, HTAB);
// the checks node:http makes before sending.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const CLOSE = /(?:^|,)[ \t]*close[ \t]*(?:,|$)/i;

/** A header node:http would refuse to send, with its code and text (never sent: no injection). */
export class InvalidHeaderError extends TypeError {
  constructor(
    readonly code: "ERR_INVALID_HTTP_TOKEN" | "ERR_INVALID_CHAR",
    message: string,
  ) {
    super(message);
    this.name = "InvalidHeaderError";
  }
}

/** An HTTP/1.1 request in bytes, and whether it asked to close the connection after it. */
export interface Http1Request {
  readonly bytes: Buffer;
  readonly closeAfter: boolean;
}

/**
 * An HTTP/1.1 request (RFC 9112 3) in one buffer, head and body together so one write sends it:
 * the request line, `Host` first (RFC 9110 7.2; the headers' own `host` when they have one), the
 * headers as given, then `Content-Length` (the client frames the body: a `content-length` or
 * `transfer-encoding` among the headers is left out). Names must be tokens and values must not
 * hold CR, LF, NUL or other controls, as node:http checks: an `InvalidHeaderError` otherwise.
 * The head is written as Latin-1 (as node:http writes header strings), a string body as UTF-8.
 * `path` must already be a valid request target (a parsed URL's path and query are).
 *
 * @example
 * encodeRequest("POST", "/hook", "127.0.0.1:9000", { "ce-id": "1" }, "{}").bytes.toString();
 * // "POST /hook HTTP/1.1\r\nhost: 127.0.0.1:9000\r\nce-id: 1\r\ncontent-length: 2\r\n\r\n{}"
 */
export function encodeRequest(
  method: string,
  path: string,
  host: string,
  headers: Readonly<Record<string, string>>,
  body: Uint8Array | string | undefined,
): Http1Request {
  const hostValue = headers.host ?? host;
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${hostValue}\r\n`;
  let closeAfter = false;
  for (const name in headers) {
    const value = headers[name] as string;
    if (!TOKEN.test(name)) {
      throw new InvalidHeaderError(
        "ERR_INVALID_HTTP_TOKEN",
        `Header name must be a valid HTTP token ["${name}"]`,
      );
    }
    if (!FIELD_VALUE.test(value)) {
      throw new InvalidHeaderError(
        "ERR_INVALID_CHAR",
        `Invalid character in header content ["${name}"]`,
      );
    }
    if (name === "host" || name === "content-length" || name === "transfer-encoding") continue;
    if (name === "connection" && CLOSE.test(value)) closeAfter = true;
    head += `${name}: ${value}\r\n`;
  }
  const length =
    body === undefined ? 0 : typeof body === "string" ? Buffer.byteLength(body) : body.length;
  head += `content-length: ${length}\r\n\r\n`;
  const bytes = Buffer.allocUnsafe(head.length + length);
  bytes.write(head, 0, "latin1");
  if (typeof body === "string") bytes.write(body, head.length, "utf8");
  else if (body !== undefined) bytes.set(body, head.length);
  return { bytes, closeAfter };
}
