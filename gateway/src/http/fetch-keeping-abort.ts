import type { FetchLike } from "../ports/fetch.js";

/** Each response's request, for as long as the response is reachable. */
const requests = new WeakMap<Response, Request>();

/**
 * `fetch(request)` whose `request.signal` still aborts it however long the exchange takes.
 *
 * Node's fetch (undici 6 in Node 20) follows the signal of a `Request` it is given through a
 * weak reference: once nothing else holds that `Request`, a garbage collection can cut it off
 * from its signal, and an abort (a delivery's timeout, `AbortSignal.timeout`) never reaches the
 * request. The fetch then waits for as long as the server keeps the connection open: forever,
 * for a sink or a JWKS server that hangs (nodejs/undici#3644, nodejs/node#55428). So the
 * `Request` is held here until its response arrives, and then for as long as the response is
 * (its body is read under the same signal). Other runtimes lose nothing by it.
 *
 * @example
 * const response = await fetchKeepingAbort(fetch, new Request(url, { signal: AbortSignal.timeout(5_000) }));
 */
export async function fetchKeepingAbort(fetch: FetchLike, request: Request): Promise<Response> {
  const response = await fetch(request);
  requests.set(response, request);
  return response;
}
