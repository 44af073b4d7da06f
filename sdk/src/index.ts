/**
 * @herald/sdk: send CloudEvents to a Herald gateway. (The producer API for notification and
 * state-transfer events arrives in a later version.)
 *
 * @example
 * import { sendEvent } from "@herald/sdk";
 * await sendEvent("http://127.0.0.1:8080/events", { id: "1", source: "/demo", type: "com.example.demo" });
 */
export { encodeHeaderValue } from "./encode-header-value.js";
export { type OutgoingEvent, SendFailed, type SendOptions, sendEvent } from "./send-event.js";
