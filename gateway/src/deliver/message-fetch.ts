import type { FetchLike } from "../ports/fetch.js";
import type { DeliveryMessage } from "./build-delivery-message.js";

/**
 * A `FetchLike` that can also send a `DeliveryMessage` as it is, without building a Web
 * `Request` first. On Node 20 a `Request` (with its body stream and following abort signal) costs
 * more CPU than the HTTP exchange itself, so the Node adapter's client offers this and the
 * deliverer uses it when present. Same contract as `fetch`: resolves with the response (redirects
 * not followed), rejects with `signal.reason` on abort and with a `TypeError` on network errors.
 *
 * @example
 * const response = hasSendMessage(fetch)
 *   ? await fetch.sendMessage(message, signal)
 *   : await fetch(toRequest(message, signal));
 */
export type MessageFetch = FetchLike & {
  readonly sendMessage: (message: DeliveryMessage, signal: AbortSignal) => Promise<Response>;
};

/**
 * Whether `fetch` offers `sendMessage`.
 *
 * @example
 * hasSendMessage(createNodeFetch()); // true
 * hasSendMessage(globalThis.fetch); // false
 */
export function hasSendMessage(fetch: FetchLike): fetch is MessageFetch {
  return typeof (fetch as Partial<MessageFetch>).sendMessage === "function";
}
