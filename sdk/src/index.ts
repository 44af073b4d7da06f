/**
 * @herald/sdk: emit CloudEvents to a Herald gateway as notifications or event-carried state
 * transfer, with retries that keep each event's id. Web Standards only (Node 20+, Workers, Deno,
 * browsers). The sink side is `@herald/sdk/receive`.
 *
 * @example
 * import { createProducer } from "@herald/sdk";
 * const producer = createProducer({ endpoint: "http://127.0.0.1:8080/events", source: "/images" });
 * await producer.notification({
 *   type: "com.example.image.uploaded",
 *   subject: "images/cat.png",
 *   dataref: "http://127.0.0.1:9000/images/cat.png",
 * });
 */

export type { RetrySettings } from "./backoff.js";
export {
  type CommonFields,
  defineEvent,
  type EventDefinition,
  type FieldsOf,
  type NotificationDefinition,
  type NotificationFields,
  type StateData,
  type StateDefinition,
  type StateFields,
} from "./define-event.js";
export { encodeHeaderValue } from "./encode-header-value.js";
export type { ContentMode } from "./encode-message.js";
export {
  Forbidden,
  HeraldError,
  type HeraldErrorCode,
  type HeraldErrorDetails,
  InvalidEvent,
  NetworkFailed,
  NotificationTooLarge,
  PayloadTooLarge,
  type Problem,
  RateLimited,
  RequestRejected,
  StateTooLarge,
  TimedOut,
  Unauthorized,
  Unavailable,
} from "./errors.js";
export type { AttributeValue, EventInput } from "./event-input.js";
export {
  createProducer,
  type NotificationInput,
  type Producer,
  type Sent,
  type StateTransferInput,
} from "./producer.js";
export type { ProducerOptions, RetryOptions } from "./producer-options.js";
export { type SendOptions, sendEvent } from "./send-event.js";
export {
  type ServiceAccountTokenOptions,
  serviceAccountToken,
} from "./service-account-token.js";
export { uuidv7 } from "./uuid-v7.js";
