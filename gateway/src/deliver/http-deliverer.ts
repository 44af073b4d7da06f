import type { CloudEvent } from "../event/cloud-event.js";
import { type Clock, systemClock } from "../ports/clock.js";
import type { Subscription } from "../subscriptions/subscription.js";
import { buildDeliveryMessage, type DeliveryMessage } from "./build-delivery-message.js";
import { classifyStatus } from "./classify-status.js";
import type { Deliverer } from "./deliverer.js";
import type { DeliveryOutcome } from "./delivery-outcome.js";
import { bodyText, describeError, truncateUtf8 } from "./failure-text.js";
import { parseRetryAfter } from "./retry-after.js";
import type { SinkAnswer, SinkClient } from "./sink-client.js";

export interface HttpDelivererOptions {
  /**
   * Outbound HTTP: the Node adapter's `createNodeSinkClient()`, or `createFetchSinkClient(fetch)`
   * over any Web `fetch` (Workers, a test double).
   */
  readonly client: SinkClient;
  /** Measures `Retry-After` dates against it; defaults to the system clock. */
  readonly clock?: Clock;
}

/**
 * A `Deliverer` over HTTP: one attempt per call, in the subscription's content mode (see
 * `buildDeliveryMessage`), sent by the `SinkClient` within `subscription.delivery.timeoutMs`
 * (request and response body). The outcome:
 * - 2xx: `delivered`;
 * - 408, 429, 5xx: `retry` with `retryAfterMs` from `Retry-After` (seconds or HTTP-date, measured
 *   with the clock);
 * - network error or timeout: `retry` with status 0;
 * - anything else (3xx, other 4xx) or an event that cannot be put on the wire: `dead`.
 * `error` is at most 1024 bytes: the start of the sink's response body (or `HTTP <status>` when
 * it is empty), or the network error. Never throws.
 *
 * @example
 * const deliverer = createHttpDeliverer({ client: createNodeSinkClient() });
 * const outcome = await deliverer.deliver(event, subscription);
 * // { kind: "retry", status: 503, error: "down for maintenance", retryAfterMs: 120000 }
 */
export function createHttpDeliverer(options: HttpDelivererOptions): Deliverer {
  const { client, clock = systemClock } = options;
  if (typeof client?.send !== "function") {
    throw new TypeError("createHttpDeliverer: options.client must be a SinkClient");
  }

  function outcomeOf(answer: SinkAnswer): DeliveryOutcome {
    const { status, head } = answer;
    const kind = classifyStatus(status);
    if (kind === "delivered") return { kind, status };
    const error = head.length > 0 ? bodyText(head) : `HTTP ${status}`;
    if (kind === "dead") return { kind, status, error };
    const retryAfterMs = parseRetryAfter(answer.retryAfter, clock.now());
    return retryAfterMs === undefined
      ? { kind, status, error }
      : { kind, status, error, retryAfterMs };
  }

  return {
    async deliver(event: CloudEvent, subscription: Subscription): Promise<DeliveryOutcome> {
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
      try {
        return outcomeOf(await client.send(message, subscription.delivery.timeoutMs));
      } catch (err) {
        // A `SinkError` (timeout, network) or a client breaking its contract: worth a retry.
        return { kind: "retry", status: 0, error: describeError(err) };
      }
    },
  };
}
