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
 * (HTTP binding 3), so its data would be taken for the event. So does an event whose `ce-*`
 * headers and `Content-Type` would be over `MAX_BINARY_HEADER_BYTES`.
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
  if (
    subscription.delivery.mode === "structured" ||
    needsStructured(event) ||
    !addAttributeHeaders(event, headers)
  ) {
    headers["content-type"] = STRUCTURED_CONTENT_TYPE;
    return { url: subscription.sink, method: "POST", headers, body: serializeEvent(event) };
  }
  const data = dataBody(event);
  if (data.contentType !== undefined) {
    headers["content-type"] = checkedValue("content-type", data.contentType);
  }
  return { url: subscription.sink, method: "POST", headers, body: data.body };
}

/**
 * Most bytes the `ce-*` headers of a binary-mode delivery take, with the `Content-Type` its
 * `datacontenttype` becomes (each name and value, plus 4 for `: ` and CRLF). Servers cap a
 * request's header section (Node 16 KiB in all, nginx 8 KiB a line, Apache 8190 bytes a field)
 * and answer 431, which is not retried: a valid event with longer attributes (a long `subject`,
 * a publisher's large `authclaims`, a `datacontenttype` of many parameters) would go dead at
 * every binary sink. It goes in structured mode instead, where they are body. The bound is the
 * SDK's for publishing and `protocolsettings.headers`' own. With those headers the two together
 * stay within `MAX_SINK_AND_ATTRIBUTE_HEADER_BYTES`, leaving room under 16 KiB for the rest (the
 * request line, `host`, trace context, the signature).
 */
export const MAX_BINARY_HEADER_BYTES = 8192;
/** Most bytes of `ce-*` headers and `protocolsettings.headers` together (see above). */
export const MAX_SINK_AND_ATTRIBUTE_HEADER_BYTES = 12_288;

/**
 * Adds each attribute except `datacontenttype` as a `ce-<name>` header (HTTP binding 3.1.3);
 * false, with none added, when they and the `Content-Type` the `datacontenttype` becomes would
 * be over `MAX_BINARY_HEADER_BYTES`, or over `MAX_SINK_AND_ATTRIBUTE_HEADER_BYTES` with the sink
 * headers already in `headers`.
 */
function addAttributeHeaders(event: CloudEvent, headers: Record<string, string>): boolean {
  let sinkBytes = 0;
  for (const name in headers) sinkBytes += name.length + (headers[name] as string).length + 4;
  const limit = Math.min(MAX_BINARY_HEADER_BYTES, MAX_SINK_AND_ATTRIBUTE_HEADER_BYTES - sinkBytes);
  const names = Object.keys(event.attributes);
  // `datacontenttype` goes out as `Content-Type`, in the same header section: a long one alone
  // (60 KB of parameters) was a 431 at a Node sink, and the event went dead.
  const type = event.attributes.datacontenttype;
  let bytes = typeof type === "string" ? "content-type".length + type.length + 4 : 0;
  for (const name of names) {
    if (name === "datacontenttype") continue;
    // Canonical strings of String, Integer and Boolean are what String() gives (spec "Type
    // System"); percent-encoding leaves printable ASCII only, so no further check is needed.
    const header = attributeHeader(name);
    const value = encodeHeaderValue(String(event.attributes[name]));
    headers[header] = value;
    bytes += header.length + value.length + 4;
  }
  if (bytes <= limit) return true;
  for (const name of names) if (name !== "datacontenttype") delete headers[attributeHeader(name)];
  return false;
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
