import { trimHttpWhitespace } from "../../http/http-whitespace.js";

const NON_ASCII = /[\u0080-\uffff]/;
const encoder = new TextEncoder();

/**
 * `text` with each non-ASCII character as its UTF-8 bytes, percent-encoded, and each U+FFFD as
 * `%FF`, a byte that is never UTF-8: see `normalValue`.
 */
function percentEncodeNonAscii(text: string): string {
  let out = "";
  for (const char of text) {
    if (!NON_ASCII.test(char)) out += char;
    else if (char === "\uFFFD") out += "%FF";
    else for (const byte of encoder.encode(char)) out += `%${byte.toString(16).toUpperCase()}`;
  }
  return out;
}

/**
 * A header value as Node reads the same bytes: without the whitespace around it (RFC 9110 5.5:
 * it is not part of the value). The Workers runtime hands the headers of a request it received,
 * and of a subrequest's response, with trailing whitespace kept, and their bytes decoded as
 * UTF-8 where Node keeps one character per byte. Herald reads a `ce-` header's raw bytes as
 * bytes (`header-value.ts`, as a percent-encoded byte), so there the decoded text goes back to
 * its bytes, percent-encoded: the same event as on Node, and a `Headers` of ASCII only (workerd
 * warns about any other). A U+FFFD stands for bytes that were no UTF-8 (the runtime offers no way
 * to read them): it becomes `%FF`, never UTF-8, so the core refuses the value as Node refuses
 * those bytes, `400 invalid_event` "is not valid UTF-8 after percent-decoding" (left as U+FFFD,
 * the detail said "holds a character that is not a byte"). A U+FFFD sent raw as its UTF-8 bytes
 * (`EF BF BD`, which Node takes) is refused the same way, as the runtime hands both over alike:
 * percent-encoded (`%EF%BF%BD`), as the HTTP binding asks, it is taken.
 */
function normalValue(name: string, value: string): string {
  const trimmed = trimHttpWhitespace(value);
  return name.startsWith("ce-") && NON_ASCII.test(trimmed)
    ? percentEncodeNonAscii(trimmed)
    : trimmed;
}

/**
 * `headers` as Herald reads them on Node, or `undefined` when they already are: see
 * `normalValue`. Without it, `ce-specversion: 1.0 ` was 400 on a Worker and 202
 * on Node, `Content-Type: application/json ` became a `datacontenttype` with the spaces, a raw
 * UTF-8 `ce-subject: café` (which Herald reads as UTF-8 bytes, see `header-value.ts`) was 400,
 * and a sink's reply with such headers was not ingested.
 *
 * @example
 * normalizeHeaders(request.headers); // "ce-specversion": "1.0 " -> "1.0", "ce-subject": "café" -> "caf%C3%A9"
 */
export function normalizeHeaders(headers: Headers): Headers | undefined {
  let changed = false;
  const entries: [string, string][] = [];
  headers.forEach((value, name) => {
    const normal = normalValue(name, value);
    if (normal !== value) changed = true;
    entries.push([name, normal]);
  });
  return changed ? new Headers(entries) : undefined;
}

/** A request as the gateway's routes read it, and what to do once they answered it. */
export interface NormalRequest {
  readonly request: Request;
  /**
   * Reads to its end what the routes left unread of the body: call it once the routes answered,
   * before the answer is returned (it never rejects).
   */
  settle(): Promise<void>;
}

const settled = async (): Promise<void> => {};

/**
 * The request with `normalizeHeaders`, for the gateway's routes (the same request when its
 * headers need nothing). A request with new headers is a new `Request`, and its body is handed
 * over through a stream of ours: the runtime reads a body the Worker left unread to its end
 * before it serves the next request of the connection, but not one that moved into another
 * `Request`. Left so (a `404`, `401` or `413` answered before the body was read, to a request
 * whose headers had trailing whitespace or raw UTF-8), the connection was lost and the next
 * request on it failed: under `wrangler dev`, `503` "Your worker restarted mid-request" or
 * `500` "Network connection lost", and wrangler itself stopped at times. `settle` reads the
 * rest, as the runtime would; read after the answer was returned (`waitUntil`), a body of more
 * than a few KiB still lost the connection.
 *
 * @example
 * const normal = normalizeRequest(request);
 * const response = await gateway.fetch(normal.request);
 * await normal.settle();
 * return response;
 */
export function normalizeRequest(request: Request): NormalRequest {
  const headers = normalizeHeaders(request.headers);
  if (headers === undefined) return { request, settle: settled };
  const source = request.body;
  if (source === null) return { request: new Request(request, { headers }), settle: settled };
  // The body goes over through a reader of ours, so `settle` can read on where the routes stopped.
  const reader = source.getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      // The routes stopped reading (a body over the limit): the rest is left to `settle`.
      cancel: () => undefined,
    },
    { highWaterMark: 0 },
  );
  return {
    request: new Request(request, { headers, body }),
    settle: async () => {
      try {
        while (!(await reader.read()).done) {
          // discarded: nobody asked for the rest
        }
      } catch {
        // the client went away: nothing left to read
      }
    },
  };
}

/**
 * The response with `normalizeHeaders`, for what the deliverer reads of a sink's answer
 * (status, `Retry-After`, a reply event in its headers).
 *
 * @example
 * const sinkFetch = async (request: Request) => normalizeResponse(await fetch(request));
 */
export function normalizeResponse(response: Response): Response {
  const headers = normalizeHeaders(response.headers);
  if (headers === undefined) return response;
  const { status } = response;
  // workerd's fetch hands over any status a sink sends (Node's client too: a 600 is final
  // there), but `new Response` takes only 200 to 599: built with a stand-in, it keeps the real
  // one, so such an answer is not mistaken for a network error and retried.
  const buildable = status >= 200 && status <= 599;
  const normal = new Response(response.body, {
    status: buildable ? status : 599,
    statusText: response.statusText,
    headers,
  });
  if (!buildable) {
    Object.defineProperties(normal, {
      status: { value: status },
      ok: { value: false },
    });
  }
  return normal;
}
