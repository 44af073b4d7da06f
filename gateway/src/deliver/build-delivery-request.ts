import type { CloudEvent } from "../event/cloud-event.js";
import type { Subscription } from "../subscriptions/subscription.js";
import { buildDeliveryMessage, type DeliveryMessage } from "./build-delivery-message.js";

/**
 * A delivery message as a Web `Request`, for any `fetch`. Redirects are not followed
 * (`redirect: "manual"`): a 3xx is the sink's answer, not a detour.
 *
 * @example
 * const response = await fetch(toRequest(buildDeliveryMessage(event, subscription), signal));
 */
export function toRequest(message: DeliveryMessage, signal?: AbortSignal): Request {
  return new Request(message.url, {
    method: message.method,
    headers: message.headers,
    // Event bytes never live in a SharedArrayBuffer, which is all the DOM typing guards against.
    body: (message.body ?? null) as BodyInit | null,
    redirect: "manual",
    ...(signal === undefined ? {} : { signal }),
  });
}

/**
 * The Web `Request` that delivers `event` to `subscription.sink` (see `buildDeliveryMessage` for
 * the content modes and headers). Throws a `TypeError` when the event cannot be put on the wire.
 *
 * @example
 * const request = buildDeliveryRequest(event, subscription, { signal: AbortSignal.timeout(5000) });
 * const response = await fetch(request);
 */
export function buildDeliveryRequest(
  event: CloudEvent,
  subscription: Subscription,
  init: { readonly signal?: AbortSignal } = {},
): Request {
  return toRequest(buildDeliveryMessage(event, subscription), init.signal);
}
