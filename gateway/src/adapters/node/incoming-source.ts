import type { IncomingMessage } from "node:http";
import { MalformedRequest, PayloadTooLarge } from "../../errors/errors.js";
import { forEachRawHeader, type IngestSource } from "../../ingest/ingest-source.js";
import { checkContentCoding, checkTransferCoding } from "../../ingest/read-body.js";
import { sendContinue } from "./expect-continue.js";

/**
 * An `IngestSource` over a Node `IncomingMessage`: `header` from the already-parsed
 * `req.headers` (lower-case names, repeats joined with ", " as in the Fetch standard, also
 * for the headers Node keeps only the first of),
 * `forEachHeader` from `req.rawHeaders` (every line as received, repeats apart), the body
 * collected with a byte limit that refuses early on a large `Content-Length` and stops reading
 * (and discards the rest) as soon as a chunked body goes over.
 *
 * @example
 * await gateway.ingest(incomingSource(req));
 */
export function incomingSource(req: IncomingMessage): IngestSource {
  return {
    url: req.url ?? "/",
    header(name) {
      // Node keeps only the first of a repeated Content-Type or Authorization; the Fetch
      // standard joins them, and so must we, so both transports judge the same request alike
      // (two credentials are refused, never the first one trusted).
      if (name === "content-type" || name === "authorization") {
        return joinedRaw(req.rawHeaders, name);
      }
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(", ") : value;
    },
    // Every header line as received, so a repeated ce- header is seen twice and refused.
    forEachHeader: (fn) => forEachRawHeader(req.rawHeaders, fn),
    readBody: (limit) => readIncoming(req, limit),
  };
}

/** Every value of a header in `rawHeaders` (names compared case-insensitively), joined with ", ". */
function joinedRaw(raw: readonly string[], name: string): string | undefined {
  let joined: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) {
      joined = joined === undefined ? raw[i + 1]! : `${joined}, ${raw[i + 1]}`;
    }
  }
  return joined;
}

function readIncoming(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  try {
    checkContentCoding(req.headers["content-encoding"] ?? null);
    checkTransferCoding(req.headers["transfer-encoding"] ?? null);
  } catch (err) {
    req.resume();
    return Promise.reject(err);
  }
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) {
    req.resume();
    return Promise.reject(
      new PayloadTooLarge(`the body is ${declared} bytes; the limit is ${limit}`, limit),
    );
  }
  // Refusals above go out without a 100 (Continue): the client never sends the body.
  sendContinue(req);
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
