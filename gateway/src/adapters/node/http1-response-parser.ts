/**
 * What an `Http1ResponseParser` reports, in order: at most one `onHead` (interim 1xx responses are
 * skipped), `onBody` for each run of body bytes, then `onComplete`; or `onError` at any point.
 * The parser stops calling once `abort` is called from inside a callback.
 */
export interface Http1ResponseHandler {
  /** The final response's status line and header section; read them from the parser. */
  onHead(parser: Http1ResponseParser): void;
  /** Body bytes `chunk[start, end)`, decoded from chunked framing; valid during the call only. */
  onBody(chunk: Buffer, start: number, end: number): void;
  /** The response ended; `extra` when bytes followed it in the same chunk (nothing pipelined). */
  onComplete(extra: boolean): void;
  onError(err: Http1ParseError): void;
}

/**
 * A response that breaks HTTP/1.1 (RFC 9112): the connection it came on cannot be trusted any
 * more. The message reads like node:http's (`Parse Error: ...`), the code like llhttp's.
 *
 * @example
 * new Http1ParseError("HPE_INVALID_STATUS", "invalid status line").message;
 * // "Parse Error: invalid status line"
 */
export class Http1ParseError extends Error {
  constructor(
    readonly code: string,
    reason: string,
  ) {
    super(`Parse Error: ${reason}`);
    this.name = "Http1ParseError";
  }
}

/**
 * Most bytes of a head (status line, header fields, the empty line), of a chunk-size line and of
 * a trailer section: Node's default `maxHeaderSize`.
 */
export const MAX_HEAD_BYTES = 16 * 1024;
/**
 * Most bytes of chunk extensions (with the whitespace before them) in one body, as Node bounds
 * them: each chunk may carry one data byte, so without a bound over the whole body a sink could
 * send a gigabyte of framing before the drain limit (counted in data bytes) is reached.
 */
const MAX_CHUNK_EXTENSION_BYTES = 16 * 1024;
/** Hex digits of a chunk size at most (a 64-bit number): no endless run of leading zeros. */
const MAX_CHUNK_SIZE_DIGITS = 16;
/** Interim (1xx) responses skipped before the parser gives up on a server sending only those. */
const MAX_INTERIM = 32;

// Parser states.
const HEAD = 0;
const BODY_LENGTH = 1;
const BODY_EOF = 2;
const CHUNK_SIZE = 3;
const CHUNK_SIZE_WS = 4;
const CHUNK_EXT = 5;
const CHUNK_SIZE_LF = 6;
const CHUNK_DATA = 7;
const CHUNK_DATA_CR = 8;
const CHUNK_DATA_LF = 9;
const TRAILER_START = 10;
const TRAILER_LINE = 11;
const TRAILER_LINE_LF = 12;
const TRAILER_END_LF = 13;
const DONE = 14;
const IDLE = 15;
const STOPPED = 16;

/** How the body of a response is delimited (RFC 9112 6.3). */
export type BodyFraming = "none" | "length" | "chunked" | "close";

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
// tchar (RFC 9110 5.6.2): "!#$%&'*+-.^_`|~", DIGIT, ALPHA.
const TOKEN_CHARS = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TOKEN_CHARS[c.charCodeAt(0)] = 1;
}
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX["0123456789abcdef".charCodeAt(i)] = i;
  HEX["0123456789ABCDEF".charCodeAt(i)] = i;
}

/** field-vchar, SP, HTAB (RFC 9110 5.5): no CTL (so no CR, LF, NUL) and no DEL. */
const isFieldChar = (c: number) => (c >= SP && c !== 0x7f) || c === HTAB;
const isOws = (c: number) => c === SP || c === HTAB;

/** Every element of a comma-separated list, OWS trimmed, empty elements dropped (RFC 9110 5.6.1). */
function listElements(value: string, into: string[]): void {
  for (const part of value.split(",")) {
    const element = part.trim();
    if (element !== "") into.push(element);
  }
}

/**
 * An incremental HTTP/1.1 response parser (RFC 9112) for a client that never pipelines: feed it
 * what the socket reads, across any chunk boundaries, and it reports one response at a time to
 * its handler. Strict where leniency lets a server desynchronise the connection: CRLF line ends
 * only (a bare LF in a head, or a head that does not start as HTTP/1.x does, is an error at once,
 * not a wait for a CRLF CRLF that never comes), no obsolete line folding, no whitespace before a field's colon, one Content-Length value,
 * not both Content-Length and Transfer-Encoding, a head of at most 16 KiB, chunk extensions of at
 * most 16 KiB per body and chunk sizes of at most 16 hex digits. Body framing follows
 * RFC 9112 6.3: 204 and 304 have none (and one that declares a body anyway is not reused after),
 * then Transfer-Encoding (chunked last: chunked, else until close), then Content-Length, else
 * until close. Interim 1xx responses are skipped; 101 is an
 * error (the client never asks to switch protocols). Header values are read as Latin-1, as
 * node:http does.
 *
 * @example
 * const parser = new Http1ResponseParser(handler);
 * socket.on("data", (chunk) => parser.execute(chunk));
 * socket.on("end", () => parser.finish());
 */
export class Http1ResponseParser {
  /** The final response's status code (after `onHead`). */
  status = 0;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minorVersion = 1;
  /** The header fields as sent: name, value, name, value... (values without surrounding OWS). */
  rawHeaders: string[] = [];
  /** How the body is delimited. */
  framing: BodyFraming = "none";
  /** The body's length for `framing === "length"`, else -1. */
  contentLength = -1;
  /** Whether the connection can carry another request after this response (framing allowing). */
  keepAlive = false;
  /** The sink's `Keep-Alive: timeout=n` hint in seconds, -1 without one. */
  keepAliveTimeout = -1;

  private state = IDLE;
  /** The head read so far (Latin-1, one char per byte) while it spans chunks. */
  private pending = "";
  private remaining = 0;
  private lineBytes = 0;
  private extensionBytes = 0;
  private interim = 0;

  constructor(private readonly handler: Http1ResponseHandler) {}

  /** Expects a new response (call before each request goes out). */
  reset(): void {
    this.state = HEAD;
    this.pending = "";
    this.interim = 0;
  }

  /** Stops reporting: nothing more is parsed until `reset`. */
  abort(): void {
    this.state = STOPPED;
  }

  /**
   * The connection ended (EOF). Completes a body delimited by the close and answers `true`;
   * answers `false` when the response was cut short or had not come (the caller decides).
   */
  finish(): boolean {
    if (this.state !== BODY_EOF) return false;
    this.state = IDLE;
    this.handler.onComplete(false);
    return true;
  }

  /** Parses bytes read from the connection. */
  execute(chunk: Buffer): void {
    const length = chunk.length;
    let pos = 0;
    for (;;) {
      if (this.state === DONE) {
        this.state = IDLE;
        this.handler.onComplete(pos < length);
        return;
      }
      if (pos >= length) return;
      switch (this.state) {
        case HEAD:
          pos = this.readHead(chunk, pos);
          break;
        case BODY_LENGTH:
        case CHUNK_DATA: {
          const end = pos + Math.min(this.remaining, length - pos);
          this.remaining -= end - pos;
          if (this.remaining === 0) this.state = this.state === BODY_LENGTH ? DONE : CHUNK_DATA_CR;
          this.handler.onBody(chunk, pos, end);
          pos = end;
          break;
        }
        case BODY_EOF:
          this.handler.onBody(chunk, pos, length);
          pos = length;
          break;
        case IDLE:
          this.fail("HPE_UNEXPECTED_DATA", "data after the response");
          return;
        case STOPPED:
          return;
        default:
          pos = this.readFraming(chunk, pos);
      }
    }
  }

  private fail(code: string, reason: string): void {
    this.state = STOPPED;
    this.handler.onError(new Http1ParseError(code, reason));
  }

  /** Reads head bytes from `pos`; at the end of a head, parses it. Answers the next position. */
  private readHead(chunk: Buffer, pos: number): number {
    let end: number;
    let next: number;
    if (this.pending === "") {
      const at = chunk.indexOf("\r\n\r\n", pos, "latin1");
      if (at < 0 || at + 4 - pos > MAX_HEAD_BYTES) {
        if (at >= 0 || chunk.length - pos > MAX_HEAD_BYTES) {
          this.fail("HPE_HEADER_OVERFLOW", "header overflow");
          return chunk.length;
        }
        if (!startsLikeHttp1(chunk, pos, chunk.length)) {
          return this.failAt("HPE_INVALID_STATUS", "invalid status line", chunk.length);
        }
        if (bareLfIn(chunk, pos, pos)) return this.failAt("HPE_CR_EXPECTED", BARE_LF, chunk.length);
        this.pending = chunk.toString("latin1", pos);
        return chunk.length;
      }
      end = at + 4;
      next = end;
      this.parseHead(chunk.toString("latin1", pos, at + 2));
    } else {
      const before = this.pending.length;
      const take = Math.min(chunk.length - pos, MAX_HEAD_BYTES - before);
      const text = this.pending + chunk.toString("latin1", pos, pos + take);
      // The end may straddle the boundary: look from up to 3 bytes back.
      const at = text.indexOf("\r\n\r\n", Math.max(0, before - 3));
      if (at < 0) {
        if (text.length >= MAX_HEAD_BYTES) {
          this.fail("HPE_HEADER_OVERFLOW", "header overflow");
          return chunk.length;
        }
        if (!startsLikeHttp1(text, 0, text.length)) {
          return this.failAt("HPE_INVALID_STATUS", "invalid status line", chunk.length);
        }
        if (bareLfIn(text, before, 0)) return this.failAt("HPE_CR_EXPECTED", BARE_LF, chunk.length);
        this.pending = text;
        return pos + take;
      }
      this.pending = "";
      end = at + 4;
      next = pos + end - before;
      this.parseHead(text.slice(0, at + 2));
    }
    return this.state === STOPPED ? chunk.length : next;
  }

  /**
   * Parses a head: `text` is the status line and the field lines, each ending in CRLF (the final
   * empty line cut off). Sets the state for the body, or skips an interim response.
   */
  private parseHead(text: string): void {
    // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 4); the SP before
    // an empty reason is often left out, and accepted.
    const minor = text.charCodeAt(7) - 0x30;
    const d1 = text.charCodeAt(9) - 0x30;
    const d2 = text.charCodeAt(10) - 0x30;
    const d3 = text.charCodeAt(11) - 0x30;
    const after = text.charCodeAt(12);
    if (
      !text.startsWith("HTTP/1.") ||
      (minor !== 0 && minor !== 1) ||
      text.charCodeAt(8) !== SP ||
      !(d1 >= 1 && d1 <= 9 && d2 >= 0 && d2 <= 9 && d3 >= 0 && d3 <= 9) ||
      (after !== SP && after !== CR)
    ) {
      this.fail("HPE_INVALID_STATUS", "invalid status line");
      return;
    }
    let eol = text.indexOf("\r\n", 12);
    if (after === CR && eol !== 12) {
      this.fail("HPE_INVALID_STATUS", "invalid status line");
      return;
    }
    for (let i = 13; i < eol; i++) {
      if (!isFieldChar(text.charCodeAt(i))) {
        this.fail("HPE_INVALID_STATUS", "invalid character in the reason phrase");
        return;
      }
    }
    const status = d1 * 100 + d2 * 10 + d3;

    const raw: string[] = [];
    let contentLength = -1;
    let codings: string[] | undefined;
    let close = false;
    let keepAliveTimeout = -1;
    let pos = eol + 2;
    while (pos < text.length) {
      eol = text.indexOf("\r\n", pos);
      let i = pos;
      while (i < eol && TOKEN_CHARS[text.charCodeAt(i)] === 1) i++;
      if (i === pos || text.charCodeAt(i) !== 0x3a) {
        // An empty name, a line folded onto the previous one (obs-fold, RFC 9112 5.2), whitespace
        // before the colon (5.1), or no colon at all.
        this.fail("HPE_INVALID_HEADER_TOKEN", "invalid header field");
        return;
      }
      const name = text.slice(pos, i);
      let start = i + 1;
      let stop = eol;
      while (start < stop && isOws(text.charCodeAt(start))) start++;
      while (stop > start && isOws(text.charCodeAt(stop - 1))) stop--;
      for (let j = start; j < stop; j++) {
        if (!isFieldChar(text.charCodeAt(j))) {
          // CR, LF and NUL never, nor any other control (RFC 9110 5.5).
          this.fail("HPE_INVALID_HEADER_TOKEN", "invalid header value char");
          return;
        }
      }
      const value = text.slice(start, stop);
      raw.push(name, value);
      pos = eol + 2;

      const n = name.length;
      if (n === 14 && name.toLowerCase() === "content-length") {
        const length = parseContentLength(value, contentLength);
        if (length < 0) {
          this.fail("HPE_INVALID_CONTENT_LENGTH", "invalid content-length");
          return;
        }
        contentLength = length;
      } else if (n === 17 && name.toLowerCase() === "transfer-encoding") {
        codings ??= [];
        listElements(value.toLowerCase(), codings);
      } else if (n === 10) {
        const lower = name.toLowerCase();
        if (lower === "connection") {
          close ||= /(?:^|,)[ \t]*close[ \t]*(?:,|$)/i.test(value);
        } else if (lower === "keep-alive") {
          const hint = /(?:^|[,;])[ \t]*timeout[ \t]*=[ \t]*"?(\d{1,9})/i.exec(value);
          if (hint !== null) keepAliveTimeout = Number(hint[1]);
        }
      }
    }

    if (status < 200) {
      // 1xx: interim, the final response follows (RFC 9110 15.2); 101 would switch protocols.
      if (status === 101) {
        this.fail("HPE_UNEXPECTED_UPGRADE", "unexpected 101 Switching Protocols");
      } else if (++this.interim > MAX_INTERIM) {
        this.fail("HPE_TOO_MANY_INTERIM", "too many interim responses");
      }
      return;
    }

    this.status = status;
    this.minorVersion = minor;
    this.rawHeaders = raw;
    this.keepAliveTimeout = keepAliveTimeout;
    this.contentLength = -1;
    let framing: BodyFraming;
    // A 204 or 304 that declares a body is from a server unsure of its framing: it may well send
    // those bytes after the head, and on a reused connection they would be read as the start of
    // the next response, failing a message the sink had read (which is then sent again).
    let declaresBody = false;
    if (status === 204 || status === 304) {
      // RFC 9112 6.3 (1): no body whatever the framing headers say.
      framing = "none";
      declaresBody = contentLength > 0 || codings !== undefined;
    } else if (codings !== undefined) {
      const last = codings.length - 1;
      const chunked = codings.indexOf("chunked");
      if (contentLength >= 0) {
        // 6.3 (3): Transfer-Encoding overrides, but both "ought to be handled as an error".
        this.fail("HPE_UNEXPECTED_CONTENT_LENGTH", "both content-length and transfer-encoding");
        return;
      }
      if (last < 0 || (chunked >= 0 && chunked !== last)) {
        // Empty, or chunked applied twice or not last (6.1): no framing to trust.
        this.fail("HPE_INVALID_TRANSFER_ENCODING", "invalid transfer-encoding");
        return;
      }
      // 6.3 (4): chunked last delimits; otherwise the body runs until the close. An HTTP/1.0
      // message with Transfer-Encoding has faulty framing (6.1): read until the close too.
      framing = chunked === last && minor === 1 ? "chunked" : "close";
    } else if (contentLength >= 0) {
      framing = "length";
      this.contentLength = contentLength;
    } else {
      // 6.3 (8): a response without a declared length ends when the connection closes.
      framing = "close";
    }
    this.framing = framing;
    // HTTP/1.0 connections are not reused, whatever Keep-Alive says (RFC 9112 9.3).
    this.keepAlive = minor === 1 && !close && framing !== "close" && !declaresBody;

    if (framing === "none") this.state = DONE;
    else if (framing === "chunked") {
      this.state = CHUNK_SIZE;
      this.remaining = 0;
      this.lineBytes = 0;
      this.extensionBytes = 0;
    } else if (framing === "close") this.state = BODY_EOF;
    else {
      this.remaining = contentLength;
      this.state = contentLength === 0 ? DONE : BODY_LENGTH;
    }
    this.handler.onHead(this);
  }

  /** The chunked framing around the data: size lines, CRLFs, trailers (RFC 9112 7.1). */
  private readFraming(chunk: Buffer, pos: number): number {
    const length = chunk.length;
    while (pos < length) {
      const c = chunk[pos] as number;
      switch (this.state) {
        case CHUNK_SIZE: {
          const digit = HEX[c] as number;
          if (digit >= 0) {
            // 2^53 / 16: one more digit would pass Number.MAX_SAFE_INTEGER. `lineBytes` counts
            // the digits so far: the size comes first on its line.
            if (this.remaining >= 2 ** 49 || this.lineBytes >= MAX_CHUNK_SIZE_DIGITS)
              return this.failAt("HPE_INVALID_CHUNK_SIZE", "invalid chunk size line", length);
            this.remaining = this.remaining * 16 + digit;
          } else if (this.lineBytes === 0) {
            return this.failAt("HPE_INVALID_CHUNK_SIZE", "invalid chunk size line", length);
          } else if (c === CR) this.state = CHUNK_SIZE_LF;
          else if (c === 0x3b) this.state = CHUNK_EXT;
          else if (isOws(c)) this.state = CHUNK_SIZE_WS;
          else return this.failAt("HPE_INVALID_CHUNK_SIZE", "invalid chunk size line", length);
          break;
        }
        case CHUNK_SIZE_WS:
          // BWS is allowed before a chunk extension's ";", nowhere else.
          if (++this.extensionBytes > MAX_CHUNK_EXTENSION_BYTES)
            return this.failAt(
              "HPE_CHUNK_EXTENSIONS_OVERFLOW",
              "chunk extensions overflow",
              length,
            );
          if (c === 0x3b) this.state = CHUNK_EXT;
          else if (!isOws(c))
            return this.failAt("HPE_INVALID_CHUNK_SIZE", "invalid chunk size line", length);
          break;
        case CHUNK_EXT:
          // Extensions are ignored (7.1.1), but still have to be text, and are bounded.
          if (c === CR) this.state = CHUNK_SIZE_LF;
          else if (++this.extensionBytes > MAX_CHUNK_EXTENSION_BYTES)
            return this.failAt(
              "HPE_CHUNK_EXTENSIONS_OVERFLOW",
              "chunk extensions overflow",
              length,
            );
          else if (!isFieldChar(c))
            return this.failAt("HPE_INVALID_CHUNK_SIZE", "invalid chunk size line", length);
          break;
        case CHUNK_SIZE_LF:
          if (c !== LF)
            return this.failAt("HPE_INVALID_CHUNK_SIZE", "invalid chunk size line", length);
          this.lineBytes = 0;
          this.state = this.remaining === 0 ? TRAILER_START : CHUNK_DATA;
          // The data is handed over by `execute`, which the size line may be followed by.
          if (this.state === CHUNK_DATA) return pos + 1;
          break;
        case CHUNK_DATA_CR:
          if (c !== CR)
            return this.failAt("HPE_INVALID_CHUNK_SIZE", "invalid chunk size line", length);
          this.state = CHUNK_DATA_LF;
          break;
        case CHUNK_DATA_LF:
          if (c !== LF)
            return this.failAt("HPE_INVALID_CHUNK_SIZE", "invalid chunk size line", length);
          this.state = CHUNK_SIZE;
          this.remaining = 0;
          this.lineBytes = -1;
          break;
        case TRAILER_START:
          // Trailer fields are read and dropped (7.1.2): nothing here needs them.
          if (c === CR) this.state = TRAILER_END_LF;
          else if (isFieldChar(c)) this.state = TRAILER_LINE;
          else return this.failAt("HPE_INVALID_TRAILER", "invalid trailer section", length);
          break;
        case TRAILER_LINE:
          if (c === CR) this.state = TRAILER_LINE_LF;
          else if (!isFieldChar(c))
            return this.failAt("HPE_INVALID_TRAILER", "invalid trailer section", length);
          break;
        case TRAILER_LINE_LF:
          if (c !== LF)
            return this.failAt("HPE_INVALID_TRAILER", "invalid trailer section", length);
          this.state = TRAILER_START;
          break;
        case TRAILER_END_LF:
          if (c !== LF)
            return this.failAt("HPE_INVALID_TRAILER", "invalid trailer section", length);
          this.state = DONE;
          return pos + 1;
        default:
          return pos;
      }
      pos++;
      // Size lines and the trailer section are bounded like a head.
      if (++this.lineBytes > MAX_HEAD_BYTES)
        return this.failAt("HPE_HEADER_OVERFLOW", "header overflow", length);
    }
    return pos;
  }

  /** Fails, and answers `length`: the rest of the chunk is not read. */
  private failAt(code: string, reason: string, length: number): number {
    this.fail(code, reason);
    return length;
  }
}

const BARE_LF = "a line ending without CR (bare LF)";
const HTTP1 = "HTTP/1.";

/**
 * Whether the bytes of `head[from, to)` could still be the start of an HTTP/1.x status line. A
 * sink URL that points at another protocol's port (an SSH or SMTP banner, an HTTP/2-only server)
 * answers something else, and as that is no complete head the parser would otherwise wait for
 * one until the delivery's timeout, reporting a timeout instead of what was wrong.
 *
 * @example
 * startsLikeHttp1("HTTP/", 0, 5); // true
 * startsLikeHttp1("SSH-2.0-OpenSSH_9.2\r\n", 0, 21); // false
 */
function startsLikeHttp1(head: Buffer | string, from: number, to: number): boolean {
  const n = Math.min(HTTP1.length, to - from);
  for (let i = 0; i < n; i++) {
    const c = typeof head === "string" ? head.charCodeAt(from + i) : head[from + i];
    if (c !== HTTP1.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Whether `head` has an LF that no CR comes right before, from `from` on; `start` is where the
 * head begins (an LF there has nothing before it). The head of a response is read up to its
 * CRLF CRLF, so a sink that ends its lines with a bare LF (RFC 9112 2.2 lets a recipient accept
 * them; this strict parser does not) would otherwise be waited for until the delivery's timeout,
 * and its answer reported as no answer; a bare LF inside a complete head is refused by the line
 * checks of `parseHead`.
 *
 * @example
 * bareLfIn("HTTP/1.1 200 OK\nContent-Length: 0\n", 0, 0); // true
 */
function bareLfIn(head: Buffer | string, from: number, start: number): boolean {
  const isCr =
    typeof head === "string"
      ? (i: number) => head.charCodeAt(i) === CR
      : (i: number) => head[i] === CR;
  for (let at = head.indexOf("\n", from); at >= 0; at = head.indexOf("\n", at + 1)) {
    if (at === start || !isCr(at - 1)) return true;
  }
  return false;
}

/**
 * A Content-Length field value merged with the value of an earlier one (`previous`, -1 for
 * none): the length, or -1 when invalid. A list of the same value repeated is that value (RFC
 * 9112 6.3 (5)); differing values, anything but digits, or a length past 2^53 are invalid.
 */
function parseContentLength(value: string, previous: number): number {
  let length = previous;
  for (const part of value.split(",")) {
    const digits = part.trim();
    if (!/^\d{1,15}$/.test(digits)) return -1;
    const n = Number(digits);
    if (length >= 0 && n !== length) return -1;
    length = n;
  }
  return length;
}
