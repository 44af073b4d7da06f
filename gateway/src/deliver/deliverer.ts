import type { CloudEvent } from "../event/cloud-event.js";
import type { Subscription } from "../subscriptions/subscription.js";
import type { DeliveryOutcome } from "./delivery-outcome.js";

/**
 * Makes one delivery attempt of one event to one subscription's sink. Implementations never
 * throw or reject: every failure is an outcome (`retry` or `dead`), so the dispatcher never
 * loses a job to an exception. `http-deliverer.ts` is the HTTP one.
 *
 * @example
 * const outcome = await deliverer.deliver(event, subscription);
 * if (outcome.kind === "retry") queue.reschedule(job.id, clock.now() + (outcome.retryAfterMs ?? backoff));
 */
export interface Deliverer {
  deliver(event: CloudEvent, subscription: Subscription): Promise<DeliveryOutcome>;
}
