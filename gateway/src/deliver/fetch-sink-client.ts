import { fetchKeepingAbort } from "../http/fetch-keeping-abort.js";
import type { FetchLike } from "../ports/fetch.js";
import { consumeResponse } from "./consume-response.js";
import { describeError, MAX_ERROR_BYTES } from "./failure-text.js";
import { DRAIN_LIMIT, type SinkClient, type SinkMessage } from "./sink-client.js";
import { SinkNetworkError, SinkTimeout } from "./sink-error.js";
import { timerDelay } from "./timer-delay.js";

/** The message as a Web `Request` that does not follow redirects (a 3xx is the sink's answer). */
function toSinkRequest(message: SinkMessage, signal: AbortSignal): Request {
  return new Request(message.url, {
    method: message.method,
    headers: message.headers,
    // Event bytes never live in a SharedArrayBuffer, which is all the DOM typing guards against.
    body: (message.body ?? null) as BodyInit | null,
    redirect: "manual",
    signal,
  });
}

/**
 * A `SinkClient` over a Web `fetch` (the global one, a Worker's, a test double): each message
 * becomes a `Request` (redirects not followed) aborted by a timer at `timeoutMs`, and the response
 * body is read with `consumeResponse`. Portable rather than fast: on Node the adapter's
 * `createNodeSinkClient` avoids the Web objects per delivery. A `fetch` that throws or rejects
 * becomes a `SinkNetworkError` with the same text (`fetch failed: connect ECONNREFUSED ...`).
 *
 * @example
 * const client = createFetchSinkClient((request) => fetch(request));
 * const answer = await client.send(message, 5_000); // { status: 202, retryAfter: null, head }
 */
export function createFetchSinkClient(fetch: FetchLike): SinkClient {
  if (typeof fetch !== "function") {
    throw new TypeError("createFetchSinkClient: fetch must be a function");
  }
  return {
    async send(message, timeoutMs, keepBytes = MAX_ERROR_BYTES) {
      const controller = new AbortController();
      let timedOut = false;
      // A timer we clear, rather than AbortSignal.timeout, so a fast delivery leaves nothing
      // pending behind it.
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort(new SinkTimeout(timeoutMs));
      }, timerDelay(timeoutMs));
      try {
        let response: Response;
        try {
          response = await fetchKeepingAbort(fetch, toSinkRequest(message, controller.signal));
        } catch (err) {
          throw timedOut
            ? new SinkTimeout(timeoutMs)
            : new SinkNetworkError(describeError(err), { cause: err });
        }
        // Read within the timeout too: the abort errors a body that is still arriving.
        const { head, complete } = await consumeResponse(
          response,
          keepBytes,
          Math.max(DRAIN_LIMIT, keepBytes),
        );
        const { headers } = response;
        return {
          status: response.status,
          retryAfter: headers.get("retry-after"),
          head,
          complete,
          header: (name) => headers.get(name),
          forEachHeader: (fn) => headers.forEach(fn),
        };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
