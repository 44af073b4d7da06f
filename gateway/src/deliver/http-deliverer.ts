import type { CloudEvent } from "../event/cloud-event.js";
import { type Clock, systemClock } from "../ports/clock.js";
import type { FetchLike } from "../ports/fetch.js";
import type { Subscription } from "../subscriptions/subscription.js";
import { buildDeliveryMessage, type DeliveryMessage } from "./build-delivery-message.js";
import { toRequest } from "./build-delivery-request.js";
import { classifyStatus } from "./classify-status.js";
import { consumeResponse } from "./consume-response.js";
import type { Deliverer } from "./deliverer.js";
import type { DeliveryOutcome } from "./delivery-outcome.js";
import { bodyText, describeError, MAX_ERROR_BYTES, truncateUtf8 } from "./failure-text.js";
import { hasSendMessage } from "./message-fetch.js";
import { parseRetryAfter } from "./retry-after.js";

export interface HttpDelivererOptions {
  /**
   * Outbound HTTP (the Node adapter's keep-alive client, the global `fetch`, a test double). When
   * it offers `sendMessage` (see `message-fetch.ts`) that is used, skipping the `Request`.
   */
  readonly fetch: FetchLike;
  /** Measures `Retry-After` dates against it; defaults to the system clock. */
  readonly clock?: Clock;
}

// setTimeout fires at once for delays that do not fit in a signed 32-bit integer.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A `Deliverer` over HTTP: one attempt per call, in the subscription's content mode (see
 * `buildDeliveryMessage`), bounded by `subscription.delivery.timeoutMs` from the request until
 * the response body has been consumed. The body is always read to its end or cancelled, so
 * keep-alive connections are reused. The outcome:
 * - 2xx: `delivered`;
 * - 408, 429, 5xx: `retry` with `retryAfterMs` from `Retry-After` (seconds or HTTP-date, measured
 *   with the clock);
 * - network error or timeout: `retry` with status 0;
 * - anything else (3xx, other 4xx) or an event that cannot be put on the wire: `dead`.
 * `error` is at most 1024 bytes: the start of the sink's response body (or `HTTP <status>` when
 * it is empty), or the network error. Never throws.
 *
 * @example
 * const deliverer = createHttpDeliverer({ fetch: createNodeFetch() });
 * const outcome = await deliverer.deliver(event, subscription);
 * // { kind: "retry", status: 503, error: "down for maintenance", retryAfterMs: 120000 }
 */
export function createHttpDeliverer(options: HttpDelivererOptions): Deliverer {
  const { fetch, clock = systemClock } = options;
  if (typeof fetch !== "function") {
    throw new TypeError("createHttpDeliverer: options.fetch must be a function");
  }
  const send: (message: DeliveryMessage, signal: AbortSignal) => Promise<Response> = hasSendMessage(
    fetch,
  )
    ? (message, signal) => fetch.sendMessage(message, signal)
    : (message, signal) => fetch(toRequest(message, signal));

  async function outcomeOf(response: Response): Promise<DeliveryOutcome> {
    const status = response.status;
    const kind = classifyStatus(status);
    if (kind === "delivered") {
      await consumeResponse(response, 0);
      return { kind, status };
    }
    const head = await consumeResponse(response, MAX_ERROR_BYTES);
    const error = head.length > 0 ? bodyText(head) : `HTTP ${status}`;
    if (kind === "dead") return { kind, status, error };
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), clock.now());
    return retryAfterMs === undefined
      ? { kind, status, error }
      : { kind, status, error, retryAfterMs };
  }

  return {
    async deliver(event: CloudEvent, subscription: Subscription): Promise<DeliveryOutcome> {
      const timeoutMs = subscription.delivery.timeoutMs;
      const controller = new AbortController();
      let timedOut = false;
      // A timer we clear, rather than AbortSignal.timeout, so a fast delivery leaves nothing
      // pending behind it.
      const timer = setTimeout(
        () => {
          timedOut = true;
          controller.abort(new DOMException(`timeout after ${timeoutMs}ms`, "TimeoutError"));
        },
        Math.min(Math.max(timeoutMs, 0), MAX_TIMER_MS),
      );
      try {
        let message: DeliveryMessage;
        try {
          message = buildDeliveryMessage(event, subscription);
        } catch (err) {
          return {
            kind: "dead",
            status: 0,
            error: truncateUtf8(`cannot build the request: ${describeError(err)}`),
          };
        }
        let response: Response;
        try {
          response = await send(message, controller.signal);
        } catch (err) {
          const error = timedOut ? `timeout after ${timeoutMs}ms` : describeError(err);
          return { kind: "retry", status: 0, error };
        }
        return await outcomeOf(response);
      } catch (err) {
        // Only a misbehaving FetchLike (a Response-like without the methods) gets here.
        return { kind: "retry", status: 0, error: describeError(err) };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
