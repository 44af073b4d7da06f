import type { EventInput } from "./event-input.js";
import { checkKnownOptions, type OptionNames } from "./known-options.js";
import { createProducer, type Sent } from "./producer.js";

/** Options of `sendEvent`. */
export interface SendOptions {
  /** Bearer token for the gateway. */
  readonly token?: string | undefined;
  readonly fetch?: typeof fetch | undefined;
}

const SEND_OPTIONS = { token: true, fetch: true } satisfies OptionNames<SendOptions>;

/**
 * Sends one event in binary mode, once (no retries): a shortcut for scripts. Services should
 * keep a `createProducer` instead, which retries and makes the notification / state-transfer
 * choice explicit. Refusals reject with a `HeraldError`.
 *
 * @example
 * await sendEvent("http://127.0.0.1:8080/events", {
 *   source: "/orders", type: "com.example.order.created", data: { orderId: 42 },
 * });
 */
export function sendEvent(
  endpoint: string,
  // No producer fills the source in, so it is required here: a compile error without one.
  event: EventInput & { readonly source: string },
  options: SendOptions = {},
): Promise<Sent> {
  // There is no producer whose source could fill it in; createProducer's message would name
  // an option this caller never gave.
  if (typeof event?.source !== "string" || event.source === "") {
    throw new TypeError("sendEvent: the event needs a source (a URI-reference such as /orders)");
  }
  checkKnownOptions("sendEvent", options ?? {}, SEND_OPTIONS);
  const producer = createProducer({
    endpoint,
    source: event.source,
    retry: false,
    tracing: false,
    ...options,
  });
  return producer.send(event);
}
