import { encodeBase64 } from "../event/event-data.js";
import type { DeliveryAttempt } from "./deliverer.js";

const encoder = new TextEncoder();

/**
 * The Standard Webhooks `webhook-id` of an attempt's message: a digest of where it goes (the
 * subscription, and the sink or its dead-letter sink) and which events it carries (`source` +
 * `id`, in order). So it stays the same on every retry and redrive of that message, differs for
 * any other message, and does not depend on the store: a restart, a fresh store or another
 * replica never hands a sink an id it already saw for something else. `msg_` + 24 base64url
 * characters (144 bits).
 *
 * @example
 * await webhookMessageId({ id: "7", events: [event] }, "thumbnails"); // "msg_3q2-7wX..."
 */
export async function webhookMessageId(
  attempt: DeliveryAttempt,
  subscriptionId: string,
): Promise<string> {
  const parts = [attempt.target ?? "sink", subscriptionId];
  for (const event of attempt.events) {
    parts.push(String(event.attributes.source), String(event.attributes.id));
  }
  // Length-prefixed, so no two lists of parts give the same text.
  const text = parts.map((part) => `${part.length}:${part}`).join("");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  const base64 = encodeBase64(digest.subarray(0, 18));
  return `msg_${base64.replaceAll("+", "-").replaceAll("/", "_")}`;
}
