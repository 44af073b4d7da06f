import type { CloudEvent } from "../event/cloud-event.js";
import { serializeEvent } from "../event/json-format.js";
import type { Subscription } from "../subscriptions/subscription.js";
import type { DeliveryMessage } from "./build-delivery-message.js";
import { sinkHeaders } from "./sink-headers.js";

/** Media type of the JSON batch format (JSON event format 4; HTTP binding 3.3.1). */
export const CLOUDEVENTS_BATCH_JSON = "application/cloudevents-batch+json";

/**
 * `Content-Type` of a batch-mode delivery. The charset is written in lower case, as for
 * structured mode (see `STRUCTURED_CONTENT_TYPE`); JSON is UTF-8 anyway (RFC 8259 8.1).
 */
export const BATCH_CONTENT_TYPE = `${CLOUDEVENTS_BATCH_JSON}; charset=utf-8`;

/**
 * The batched-mode message that delivers `events`, in order, to `subscription.sink` (HTTP binding
 * 3.3): `Content-Type: application/cloudevents-batch+json; charset=utf-8` and a JSON array of the
 * events in the JSON event format (JSON event format 4), each serialised exactly as structured
 * mode would (`serializeEvent`: a JSON payload keeps its original text), plus the subscription's
 * `protocolsettings.headers`.
 *
 * Throws a `TypeError` for an empty batch (a caller's mistake) or an event that cannot be put on
 * the wire; the deliverer turns that into `dead`.
 *
 * @example
 * buildBatchMessage([first, second], subscription);
 * // { url: subscription.sink, method: "POST",
 * //   headers: { "content-type": "application/cloudevents-batch+json; charset=utf-8" },
 * //   body: '[{"specversion":"1.0","id":"1",...},{"specversion":"1.0","id":"2",...}]' }
 */
export function buildBatchMessage(
  events: readonly CloudEvent[],
  subscription: Subscription,
): DeliveryMessage {
  if (events.length === 0) throw new TypeError("buildBatchMessage: a batch needs an event");
  const headers = sinkHeaders(subscription);
  headers["content-type"] = BATCH_CONTENT_TYPE;
  // Joining serialised events keeps each one's exact text; JSON.stringify of objects would not.
  const body = `[${events.map(serializeEvent).join(",")}]`;
  return { url: subscription.sink, method: "POST", headers, body };
}
