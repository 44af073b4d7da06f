import type { DeliveryQueue, NewDeliveryJob } from "../deliver/delivery-queue.js";
import type { CloudEvent } from "../event/cloud-event.js";
import type { Matcher } from "../subscriptions/matcher.js";

/** What acceptance did with a request's events. */
export interface AcceptResult {
  readonly events: number;
  readonly deliveries: number;
}

/**
 * Accepts validated events: matches each against the subscriptions and hands every
 * (event, subscription) pair to the delivery queue in one all-or-nothing call, so a batch is
 * accepted whole or not at all. Resolves once the queue has accepted the jobs; the 202 waits for it.
 *
 * @example
 * const accept = createAcceptor(() => matcher, queue);
 * await accept(events);
 */
export function createAcceptor(
  matcher: () => Matcher,
  queue: DeliveryQueue,
): (events: readonly CloudEvent[]) => Promise<AcceptResult> {
  return async function acceptEvents(events) {
    const current = matcher();
    const jobs: NewDeliveryJob[] = [];
    for (const event of events) {
      for (const subscription of current.match(event)) {
        jobs.push({ subscriptionId: subscription.id, event });
      }
    }
    if (jobs.length > 0) await queue.enqueue(jobs);
    return { events: events.length, deliveries: jobs.length };
  };
}
