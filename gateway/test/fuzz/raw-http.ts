import { connect, type Socket } from "node:net";

/** A request as the fuzzer sends it: bytes on a fresh connection to 127.0.0.1. */
export interface RawRequest {
  readonly method: string;
  /** The request target as written on the request line. */
  readonly target: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: Uint8Array | string;
  /** Head bytes: `utf8` (default) or `latin1` (each char one byte: lets a test send any byte). */
  readonly headEncoding?: "utf8" | "latin1";
  /** Whole request bytes, sent instead of the fields above (framing oddities). */
  readonly raw?: Uint8Array;
  /** Close the sending side once the bytes are out (a body cut short then ends at EOF). */
  readonly halfClose?: boolean;
  /** A slow client: the bytes go out `chunk` at a time, `delayMs` apart (`sendRaw` only). */
  readonly dribble?: { readonly chunk: number; readonly delayMs: number };
}

/** What came back. `status` 0: the connection closed without an answer. */
export interface RawResponse {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
  readonly ms: number;
}

export class RequestTimeout extends Error {
  override name = "RequestTimeout";
}

/** The request's bytes: request line, headers (no automatic ones), blank line, body. */
export function encodeRaw(req: RawRequest): Buffer {
  if (req.raw !== undefined) return Buffer.from(req.raw);
  const head = `${req.method} ${req.target} HTTP/1.1\r\n${req.headers
    .map(([n, v]) => `${n}: ${v}\r\n`)
    .join("")}\r\n`;
  const body = req.body === undefined ? Buffer.alloc(0) : Buffer.from(req.body);
  return Buffer.concat([Buffer.from(head, req.headEncoding ?? "utf8"), body]);
}

/**
 * Sends `req` to `127.0.0.1:port` and resolves with the first final answer once it is complete
 * (by `Content-Length`, chunked framing, or the connection closing); rejects with
 * `RequestTimeout` after `timeoutMs`.
 */
export function sendRaw(port: number, req: RawRequest, timeoutMs: number): Promise<RawResponse> {
  const started = performance.now();
  const bytes = encodeRaw(req);
  const isHead = req.method === "HEAD";
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    let settled = false;
    const socket = connect(port, "127.0.0.1", () => {
      if (req.dribble !== undefined) return dribble(socket, bytes, req.dribble, req.halfClose);
      if (req.halfClose) socket.end(bytes);
      else socket.write(bytes);
    });
    const finish = (res: RawResponse | Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (res instanceof Error) reject(res);
      else resolve(res);
    };
    const timer = setTimeout(
      () => finish(new RequestTimeout(`no complete answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const tryParse = (closed: boolean) => {
      for (;;) {
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) {
          if (closed) finish({ status: 0, headers: new Map(), body: buffered, ms: elapsed() });
          return;
        }
        const lines = buffered.subarray(0, end).toString("latin1").split("\r\n");
        const status = Number((lines[0] ?? "").split(" ")[1]);
        const headers = new Map<string, string>();
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(":");
          const name = line.slice(0, colon).trim().toLowerCase();
          const value = line.slice(colon + 1).trim();
          headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
        }
        const rest = buffered.subarray(end + 4);
        if (status >= 100 && status < 200) {
          buffered = rest;
          continue;
        }
        const done = (body: Buffer) => finish({ status, headers, body, ms: elapsed() });
        if (isHead || status === 204 || status === 304) return done(Buffer.alloc(0));
        const length = headers.get("content-length");
        if (length !== undefined) {
          const n = Number(length);
          if (rest.length >= n) return done(rest.subarray(0, n));
          if (closed) return done(rest);
          return;
        }
        if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
          const body = dechunk(rest);
          if (body !== undefined) return done(body);
          if (closed) return done(rest);
          return;
        }
        if (closed) return done(rest);
        return;
      }
    };
    const elapsed = () => performance.now() - started;
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      tryParse(false);
    });
    socket.on("error", () => tryParse(true));
    socket.on("close", () => tryParse(true));
  });
}

/** Writes `bytes` `chunk` at a time, `delayMs` apart, while the socket is open. */
function dribble(
  socket: Socket,
  bytes: Buffer,
  pace: { readonly chunk: number; readonly delayMs: number },
  halfClose: boolean | undefined,
): void {
  let at = 0;
  const step = () => {
    if (socket.destroyed) return;
    const piece = bytes.subarray(at, at + Math.max(1, pace.chunk));
    at += piece.length;
    if (at >= bytes.length) {
      if (halfClose) socket.end(piece);
      else socket.write(piece);
      return;
    }
    socket.write(piece);
    setTimeout(step, pace.delayMs);
  };
  step();
}

/** The body of a complete chunked message, or `undefined` while the last chunk is missing. */
function dechunk(bytes: Buffer): Buffer | undefined {
  return dechunkAt(bytes)?.body;
}

/** The body and the bytes its framing took (last chunk and an empty trailer section included). */
function dechunkAt(bytes: Buffer): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = bytes.indexOf("\r\n", at);
    if (eol < 0) return undefined;
    const size = Number.parseInt(bytes.subarray(at, eol).toString("latin1"), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) {
      const trailerEnd = bytes.indexOf("\r\n\r\n", eol);
      if (bytes.length < eol + 4) return undefined;
      const end =
        bytes.subarray(eol + 2, eol + 4).toString("latin1") === "\r\n" ? eol + 4 : trailerEnd + 4;
      return end < 4 ? undefined : { body: Buffer.concat(parts), end };
    }
    if (bytes.length < eol + 2 + size + 2) return undefined;
    parts.push(bytes.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/**
 * Sends `reqs` pipelined on one connection (all bytes at once, then the sending side closed) and
 * resolves with the answers in order once the server closes the connection; rejects with
 * `RequestTimeout` after `timeoutMs`. No `HEAD` among them (its answer has no body to frame).
 */
export function sendPipelined(
  port: number,
  reqs: readonly RawRequest[],
  timeoutMs: number,
): Promise<RawResponse[]> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, "127.0.0.1", () => socket.end(Buffer.concat(reqs.map(encodeRaw))));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new RequestTimeout(`the connection stayed open ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(parseAll(Buffer.concat(chunks), performance.now() - started));
    });
  });
}

/** Every complete answer in `bytes`, in order (interim 1xx answers skipped). */
function parseAll(bytes: Buffer, ms: number): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = bytes;
  for (;;) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) return out;
    const lines = rest.subarray(0, end).toString("latin1").split("\r\n");
    const status = Number((lines[0] ?? "").split(" ")[1]);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    rest = rest.subarray(end + 4);
    if (status >= 100 && status < 200) continue;
    const length = Number(headers.get("content-length") ?? 0);
    if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
      const chunked = dechunkAt(rest);
      if (chunked === undefined) return out;
      out.push({ status, headers, body: chunked.body, ms });
      rest = rest.subarray(chunked.end);
      continue;
    }
    if (status === 204 || status === 304) {
      out.push({ status, headers, body: Buffer.alloc(0), ms });
      continue;
    }
    if (rest.length < length) return out;
    out.push({ status, headers, body: rest.subarray(0, length), ms });
    rest = rest.subarray(length);
  }
}
