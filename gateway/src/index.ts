/**
 * @herald/gateway: a CloudEvents gateway on Web Standards. This entry is runtime-agnostic; the
 * Node adapter (server, CLI, config files) is at `@herald/gateway/node`.
 *
 * @example
 * import { createGateway, parseConfig } from "@herald/gateway";
 * const gateway = createGateway({ config: parseConfig(yamlText, "herald.yaml") });
 * gateway.start();
 * export default { fetch: gateway.fetch };
 */
export { createGateway, type Gateway, type GatewayOptions } from "./app/create-gateway.js";
export { ConfigInvalid } from "./config/config-invalid.js";
export type { HeraldConfig, Limits, StoreConfig } from "./config/herald-config.js";
export { parseConfig } from "./config/load-config.js";
export type { DeliveryMessage } from "./deliver/build-delivery-message.js";
export type { DeliveryOutcome } from "./deliver/delivery-outcome.js";
export type {
  Acceptance,
  AcceptedEvent,
  DeadJob,
  DeadPage,
  DeliveryFailure,
  DeliveryJob,
  DeliveryQueue,
} from "./deliver/delivery-queue.js";
export { createFetchSinkClient } from "./deliver/fetch-sink-client.js";
export { createMemoryQueue, type MemoryQueue } from "./deliver/memory-queue.js";
export type { SinkAnswer, SinkClient } from "./deliver/sink-client.js";
export { SinkError, SinkNetworkError, SinkTimeout } from "./deliver/sink-error.js";
export * from "./errors/errors.js";
export { HeraldError } from "./errors/herald-error.js";
export type { AttributeValue, CloudEvent, EventData } from "./event/cloud-event.js";
export { PROBLEM_JSON, PROBLEM_TYPE_BASE, problemResponse } from "./http/problem.js";
export type { Clock } from "./ports/clock.js";
export type { FetchLike } from "./ports/fetch.js";
export type { Logger } from "./ports/logger.js";
export {
  type BackupErrorCode,
  BackupInProgress,
  BackupNoRoom,
  BackupUnsupported,
} from "./store/backup-errors.js";
export { createMemorySubscriptionStore } from "./store/memory-subscription-store.js";
export { type StoreBackup, type StoreCopy, unsupportedBackup } from "./store/store-backup.js";
export type { DisabledState, SubscriptionStore } from "./store/subscription-store.js";
export type { DeliverySettings, Filter, Subscription } from "./subscriptions/subscription.js";
export {
  openSubscriptionRegistry,
  type RegisteredSubscription,
  type SubscriptionRegistry,
} from "./subscriptions/subscription-registry.js";
