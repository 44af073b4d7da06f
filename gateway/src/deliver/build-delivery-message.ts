import type { CloudEvent } from "../event/cloud-event.js";
import { dataBody } from "../event/event-data.js";
import { CLOUDEVENTS_JSON, serializeEvent } from "../event/json-format.js";
import { parseMediaType } from "../event/media-type.js";
import type { Subscription } from "../subscriptions/subscription.js";
import { buildBatchMessage } from "./build-batch-message.js";
import { encodeHeaderValue } from "./percent-encode.js";
import { attributeHeader, checkedValue, sinkHeaders } from "./sink-headers.js";

/**
 * `Content-Type` of a structured-mode delivery (HTTP binding 3.2.1). The charset is written in
 * lower case (as in the binding's 3.2.4 example; charset names are case-insensitive) because the
 * cloudevents JavaScript SDK looks the whole header value up verbatim and rejects `charset=UTF-8`.
 */
export const STRUCTURED_CONTENT_TYPE = `${CLOUDEVENTS_JSON}; charset=utf-8`;

/**
 * Everything a delivery puts on the wire, before any HTTP client touches it. Header names are
 * lower case and every name and value is already checked, so a client can send it as is.
 */
export interface DeliveryMessage {
  readonly url: string;
  readonly method: "POST";
  readonly headers: Readonly<Record<string, string>>;
  /** `undefined` for an event without data in binary mode. */
  readonly body: Uint8Array | string | undefined;
}

/**
 * The message that delivers `event` to `subscription.sink`: a `POST` in the subscription's
 * content mode, with its `protocolsettings.headers` added (but never `ce-*`, `Content-Type` or
 * framing headers, which belong to the event and the client).
 * - binary mode (HTTP binding 3.1): each attribute except `datacontenttype` as a `ce-<name>`
 *   header, its canonical string percent-encoded (3.1.3.2); `datacontenttype` as `Content-Type`
 *   (3.1.1); the data bytes as the body (3.1.2, see `dataBody`);
 * - structured mode (3.2): `Content-Type: application/cloudevents+json; charset=utf-8` and the
 *   event in the JSON event format as the body;
 * - batch mode (3.3): a batch of this one event (see `buildBatchMessage`).
 *
 * An event whose `datacontenttype` starts with `application/cloudevents` (its data is itself an
 * event or a batch) goes in structured mode even to a binary-mode subscription: as a binary-mode
 * `Content-Type` that media type makes every receiver read the message as structured or batch
 * (HTTP binding 3), so its data would be taken for the event.
 *
 * Throws a `TypeError` when the event cannot be put on the wire (data without a JSON form, a
 * header name or value HTTP does not allow); the deliverer turns that into `dead`.
 *
 * @example
 * buildDeliveryMessage(event, subscription);
 * // { url: "http://127.0.0.1:9000/hook", method: "POST",
 * //   headers: { "ce-id": "1", ..., "content-type": "application/json" }, body: Uint8Array }
 */
export function buildDeliveryMessage(
  event: CloudEvent,
  subscription: Subscription,
): DeliveryMessage {
  if (subscription.delivery.mode === "batch") return buildBatchMessage([event], subscription);
  const headers = sinkHeaders(subscription);
  if (subscription.delivery.mode === "structured" || needsStructured(event)) {
    headers["content-type"] = STRUCTURED_CONTENT_TYPE;
    return { url: subscription.sink, method: "POST", headers, body: serializeEvent(event) };
  }

  const attributes = event.attributes;
  for (const name of Object.keys(attributes)) {
    if (name === "datacontenttype") continue;
    // Canonical strings of String, Integer and Boolean are what String() gives (spec "Type
    // System"); percent-encoding leaves printable ASCII only, so no further check is needed.
    headers[attributeHeader(name)] = encodeHeaderValue(String(attributes[name]));
  }
  const data = dataBody(event);
  if (data.contentType !== undefined) {
    headers["content-type"] = checkedValue("content-type", data.contentType);
  }
  return { url: subscription.sink, method: "POST", headers, body: data.body };
}

/**
 * Whether binary mode cannot carry the event: a `Content-Type` prefixed with the CloudEvents media
 * type `application/cloudevents` marks a structured or batched message (HTTP binding 3).
 */
function needsStructured(event: CloudEvent): boolean {
  const declared = event.attributes.datacontenttype;
  if (typeof declared !== "string") return false;
  return (parseMediaType(declared)?.essence ?? "").startsWith("application/cloudevents");
}
