import { readBody } from "./read-body.js";

/**
 * What ingest needs from an HTTP request, independent of how the runtime represents it. The Web
 * `Request` is one source (`requestSource`); the Node adapter reads `IncomingMessage` directly,
 * which skips building Web objects on the hot path.
 */
export interface IngestSource {
  /** The request target, origin-form (`/events?access_token=...`) or absolute. */
  readonly url: string;
  /** A header by lower-case name; repeated headers joined with ", " (RFC 9110 5.3). */
  header(name: string): string | undefined;
  /** Calls `fn` for every header, with its lower-case name. */
  forEachHeader(fn: (value: string, name: string) => void): void;
  /** The body, refusing more than `limit` bytes with `PayloadTooLarge`. */
  readBody(limit: number): Promise<Uint8Array>;
}

/**
 * An `IngestSource` over a Web `Request`.
 *
 * @example
 * await parseRequest(requestSource(request), limits);
 */
export function requestSource(request: Request): IngestSource {
  return {
    url: request.url,
    header: (name) => request.headers.get(name) ?? undefined,
    forEachHeader: (fn) => request.headers.forEach(fn),
    readBody: (limit) => readBody(request, limit),
  };
}
