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
  /**
   * Calls `fn` for every header, with its lower-case name: once per field line where the
   * transport keeps repeats apart (Node's `rawHeaders`), so a repeated `ce-*` header can be
   * refused; once, joined with ", ", where it does not (Fetch `Headers`).
   */
  forEachHeader(fn: (value: string, name: string) => void): void;
  /** The body, refusing more than `limit` bytes with `PayloadTooLarge`. */
  readBody(limit: number): Promise<Uint8Array>;
}

/**
 * An `IngestSource` over a Web `Request`. `rawHeaders` (name, value, name, value, ...: Node's
 * `IncomingMessage.rawHeaders`), when the transport has them, are the header lines as received,
 * repeats apart; `forEachHeader` walks them instead of the merged `Headers`.
 *
 * @example
 * await parseRequest(requestSource(request), limits);
 */
export function requestSource(request: Request, rawHeaders?: readonly string[]): IngestSource {
  return {
    url: request.url,
    header: (name) => request.headers.get(name) ?? undefined,
    forEachHeader:
      rawHeaders === undefined
        ? (fn) => request.headers.forEach(fn)
        : (fn) => forEachRawHeader(rawHeaders, fn),
    readBody: (limit) => readBody(request, limit),
  };
}

/** Calls `fn` for every line of `raw` (name, value, name, value, ...), with its lower-case name. */
export function forEachRawHeader(
  raw: readonly string[],
  fn: (value: string, name: string) => void,
): void {
  for (let i = 0; i + 1 < raw.length; i += 2) fn(raw[i + 1]!, raw[i]!.toLowerCase());
}

/**
 * The header lines a Hono `env` carries, when the transport puts them there: `@hono/node-server`
 * passes `{ incoming, outgoing }`, with `incoming.rawHeaders`. Anything else (Workers bindings,
 * no env) has none.
 */
export function rawHeadersOf(env: unknown): readonly string[] | undefined {
  if (typeof env !== "object" || env === null || !("incoming" in env)) return undefined;
  const incoming = env.incoming;
  if (typeof incoming !== "object" || incoming === null || !("rawHeaders" in incoming)) {
    return undefined;
  }
  const raw = incoming.rawHeaders;
  return Array.isArray(raw) && raw.every((item) => typeof item === "string") ? raw : undefined;
}
