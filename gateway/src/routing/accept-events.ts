import type { AcceptedEvent, AcceptOptions, DeliveryQueue } from "../deliver/delivery-queue.js";
import type { CloudEvent } from "../event/cloud-event.js";
import type { Matcher } from "../subscriptions/matcher.js";

/** What acceptance did with a request's events. */
export interface AcceptResult {
  /** Events stored (duplicates excluded). */
  readonly events: number;
  /** Events acknowledged but not stored: their `source` + `id` was seen within the dedupe window. */
  readonly duplicates: number;
  /** Delivery jobs created, one per (stored event, matching subscription). */
  readonly deliveries: number;
}

/**
 * Accepts validated events: matches each against the subscriptions and hands every event, with
 * the ids of the subscriptions it matched (possibly none, so it still counts for dedupe), to the
 * delivery queue in one all-or-nothing call, so a batch is accepted whole or not at all. Resolves
 * once the queue has stored them durably; the 202 waits for it. `options` go to the queue
 * (`settling` for the gateway's own events: replies and receipts).
 *
 * @example
 * const accept = createAcceptor(() => matcher, queue);
 * await accept(events); // { events: 2, duplicates: 0, deliveries: 3 }
 */
export function createAcceptor(
  matcher: () => Matcher,
  queue: DeliveryQueue,
): (events: readonly CloudEvent[], options?: AcceptOptions) => Promise<AcceptResult> {
  return async function acceptEvents(events, options) {
    if (events.length === 0) return { events: 0, duplicates: 0, deliveries: 0 };
    const current = matcher();
    const accepted: AcceptedEvent[] = events.map((event) => ({
      event,
      subscriptionIds: current.match(event).map((subscription) => subscription.id),
    }));
    const { events: stored, duplicates, jobs } = await queue.accept(accepted, options);
    return { events: stored, duplicates, deliveries: jobs };
  };
}
