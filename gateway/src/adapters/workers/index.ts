/**
 * @herald/gateway/workers: Herald on Cloudflare Workers (Queues for delivery, D1 for state).
 *
 * @example
 * import { createHeraldWorker } from "@herald/gateway/workers";
 * export default createHeraldWorker();
 */
export { createCacheApiJwksFetch, type JwksCache } from "./cache-api-jwks-fetch.js";
export type {
  D1Database,
  QueueBatch,
  QueueMessage,
  QueueProducer,
} from "./cloudflare-bindings.js";
export {
  createHeraldWorker,
  type HeraldWorker,
  type HeraldWorkerEnv,
  type HeraldWorkerOptions,
} from "./create-herald-worker.js";
export {
  createD1SubscriptionStore,
  type D1SubscriptionStore,
} from "./d1-subscription-store.js";
export type { DeliveryMessage } from "./delivery-message.js";
