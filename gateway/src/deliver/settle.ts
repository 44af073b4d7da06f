import type { Logger } from "../ports/logger.js";
import type { Subscription } from "../subscriptions/subscription.js";
import type { DeliveryOutcome } from "./delivery-outcome.js";
import type { DeliveryJob, DeliveryQueue } from "./delivery-queue.js";

/**
 * What happens to a job after one delivery attempt: the on-success and on-failure policy, in one
 * function, so retries with backoff and dead-lettering replace this and nothing else. It may
 * reject (e.g. the queue failed); the dispatcher then leaves the job leased, to be handed out
 * again when the lease expires.
 */
export type Settle = (
  job: DeliveryJob,
  outcome: DeliveryOutcome,
  subscription: Subscription,
) => Promise<void>;

export interface SettleOptions {
  readonly queue: DeliveryQueue;
  readonly logger: Logger;
}

/**
 * The settle policy until the durable store arrives: every job is completed after its one
 * attempt; a `retry` or `dead` outcome is logged as a warning (subscription id, event source and
 * id, status, error), since without a store there is nowhere durable to keep it.
 *
 * @example
 * const settle = createSettle({ queue, logger });
 * await settle(job, { kind: "dead", status: 404, error: "no such hook" }, subscription);
 */
export function createSettle(options: SettleOptions): Settle {
  const { queue, logger } = options;
  return async function settle(job, outcome, subscription) {
    if (outcome.kind !== "delivered") {
      logger.warn(
        `delivery failed (${outcome.kind}); retries and dead-lettering arrive with the durable store`,
        {
          subscriptionId: subscription.id,
          source: job.event.attributes.source,
          id: job.event.attributes.id,
          status: outcome.status,
          error: outcome.error,
        },
      );
    }
    await queue.complete(job.id);
  };
}
