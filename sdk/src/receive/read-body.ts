import { MalformedMessage, MessageTooLarge, UnsupportedMode } from "./receive-errors.js";

/**
 * A request's body as bytes, refusing one over `maxBytes` with `MessageTooLarge`: at once when
 * `Content-Length` says so, else as soon as the bytes read pass the limit (a chunked body has no
 * length to check up front), cancelling the rest. A body that stops before its end (the client
 * went away) is `MalformedMessage`.
 *
 * @example
 * const body = await readBody(request, 4 * 1024 * 1024);
 */
export async function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  checkMaxBytes(maxBytes);
  const tooLarge = () =>
    new MessageTooLarge(`the request body is larger than ${maxBytes} bytes (maxBytes)`);
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > maxBytes) {
    await request.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let read: ReadableStreamReadResult<Uint8Array>;
    try {
      read = await reader.read();
    } catch {
      // The client went away mid-upload (Node's "aborted"): its fault, a 400, as the gateway
      // answers it, not an unexpected error (a 500 and a stack in the sink's log).
      throw new MalformedMessage("the request body could not be read to its end");
    }
    const { done, value } = read;
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

/** Throws a `TypeError` unless `maxBytes` is a whole number of bytes, 0 or more. */
export function checkMaxBytes(maxBytes: number): void {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new TypeError("receive: maxBytes must be a whole number of bytes, 0 or more");
  }
}

/**
 * Refuses a body in a content coding other than `identity` (`Content-Encoding: gzip`, RFC 9110
 * 8.4) or a transfer coding other than `chunked` (`Transfer-Encoding: gzip, chunked`, RFC 9112
 * 7: HTTP servers remove the chunked framing and nothing else) with `UnsupportedMode` (415, RFC
 * 9110 15.5.16), as the gateway refuses them at ingest. Nothing here decompresses: the
 * compressed bytes would otherwise be the event's data, or a body "not valid UTF-8". Herald
 * never compresses a delivery.
 *
 * @example
 * checkCodings(request.headers); // UnsupportedMode for Content-Encoding: gzip
 */
export function checkCodings(headers: Headers): void {
  for (const [name, allowed] of [
    ["content-encoding", "identity"],
    ["transfer-encoding", "chunked"],
  ] as const) {
    const value = headers.get(name);
    if (value === null) continue;
    const codings = value.split(",").map((coding) => coding.trim().toLowerCase());
    if (codings.some((coding) => coding !== "" && coding !== allowed)) {
      throw new UnsupportedMode(
        `${name} ${JSON.stringify(value.slice(0, 100))} is not supported: the body is read as it is (${allowed} only)`,
      );
    }
  }
}
