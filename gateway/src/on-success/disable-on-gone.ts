import type { OnGone } from "../deliver/settle.js";
import type { CloudEvent } from "../event/cloud-event.js";
import type { Clock } from "../ports/clock.js";
import type { SubscriptionRegistry } from "../subscriptions/subscription-registry.js";
import { disabledReceipt } from "./receipt-events.js";

/**
 * What the gateway does when a sink answers 410 Gone: it disables the subscription (DESIGN.md
 * "Delivery semantics") and, for a subscription with `delivery.receipts`, emits a
 * `dev.herald.subscription.disabled` receipt.
 *
 * The receipt is emitted (stored) **before** the disable is written, so a crash between the two
 * loses neither: the subscription is still enabled after a restart, the job that met the 410 is
 * delivered again, meets it again and emits again (at-least-once: a receipt may come twice,
 * never not at all). Emitting after the disable could lose it, as a restarted gateway finds the
 * subscription disabled and has nothing left to report. When the receipt cannot be stored the
 * error is thrown and nothing is disabled: the next 410 tries both again.
 *
 * Only the first 410 of a subscription emits: one already disabled, or being disabled by another
 * job's 410 in this process, is left alone. Unknown ids (deleted meanwhile) are ignored, and so is
 * a 410 from a sink the subscription no longer has: an update (API `PUT`, a reload) gave it a new
 * `sink` while the attempt ran, which is how a person says where a gone sink went; disabling it
 * then would undo that fix, and the receipt would name a sink that never answered 410.
 *
 * @example
 * const onGone = disableOnGone({ registry, emit, clock });
 * await onGone(subscriptionAsTheAttemptBegan, "sink answered 410 Gone: ...");
 */
export function disableOnGone(options: {
  readonly registry: Pick<SubscriptionRegistry, "get" | "isDisabled" | "disable">;
  /** Ingests the gateway's own events into its flow; resolves once they are stored. */
  readonly emit: (events: readonly CloudEvent[]) => Promise<void>;
  readonly clock: Clock;
}): OnGone {
  const { registry, emit, clock } = options;
  const disabling = new Set<string>();
  return async (attempted, reason) => {
    const { id, sink } = attempted;
    // A shortcut: `disable` checks the sink again in the same step as its write.
    if (registry.get(id)?.sink !== sink || registry.isDisabled(id) || disabling.has(id)) return;
    disabling.add(id);
    try {
      const at = clock.now();
      // Reported if receipts were on when the attempt began, as its other outcomes are.
      if (attempted.delivery.receipts === true) {
        await emit([disabledReceipt(id, sink, reason, at)]);
      }
      await registry.disable(id, reason, at, sink);
    } finally {
      disabling.delete(id);
    }
  };
}
