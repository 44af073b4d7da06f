import type { IncomingMessage } from "node:http";
import { MalformedRequest, PayloadTooLarge } from "../../errors/errors.js";
import type { IngestSource } from "../../ingest/ingest-source.js";

/**
 * An `IngestSource` over a Node `IncomingMessage`: headers from the already-parsed
 * `req.headers` (lower-case names, repeats joined with ", " as in the Fetch standard), the body
 * collected with a byte limit that refuses early on a large `Content-Length` and stops reading
 * (and discards the rest) as soon as a chunked body goes over.
 *
 * @example
 * await gateway.ingest(incomingSource(req));
 */
export function incomingSource(req: IncomingMessage): IngestSource {
  return {
    header(name) {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(", ") : value;
    },
    forEachHeader(fn) {
      const headers = req.headers;
      for (const name in headers) {
        const value = headers[name];
        if (value !== undefined) fn(Array.isArray(value) ? value.join(", ") : value, name);
      }
    },
    readBody: (limit) => readIncoming(req, limit),
  };
}

function readIncoming(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) {
    req.resume();
    return Promise.reject(
      new PayloadTooLarge(`the body is ${declared} bytes; the limit is ${limit}`, limit),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onAborted);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.byteLength;
      if (total > limit) {
        cleanup();
        req.resume(); // discard the rest so the answer can still be read
        reject(new PayloadTooLarge(`the body is larger than the limit of ${limit} bytes`, limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
      resolve(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
    };
    const onError = () => {
      cleanup();
      reject(new MalformedRequest("the request body could not be read to its end"));
    };
    const onAborted = onError;
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onAborted);
  });
}
