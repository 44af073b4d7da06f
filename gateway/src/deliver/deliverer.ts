import type { CloudEvent } from "../event/cloud-event.js";
import type { Subscription } from "../subscriptions/subscription.js";
import type { DeliveryOutcome } from "./delivery-outcome.js";

/**
 * What one attempt sends: one event (binary or structured mode) or several (batch mode), under
 * the store's id for it (the job id, or for a batch the id of its first job), the same across
 * retries. The Standard Webhooks `webhook-id` is not this store-local id but a digest of the
 * message (`webhookMessageId`).
 */
export interface DeliveryAttempt {
  readonly id: string;
  /** One event, or up to `maxBatchSize` in batch mode. */
  readonly events: readonly CloudEvent[];
  /** Which attempt this is, from 1 (telemetry); absent: unknown. */
  readonly attempt?: number;
  /** Where it goes: the subscription's `sink` (default) or its `dead_letter_sink`. */
  readonly target?: "sink" | "dead_letter_sink";
  /**
   * Protocol headers for this attempt only (W3C `traceparent`/`tracestate` of its span), added
   * to the message after the event's own; never `ce-*` or framing headers.
   */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Makes one delivery attempt to one subscription's sink. Implementations never throw or reject:
 * every failure is an outcome (`retry` or `dead`), so the dispatcher never loses a job to an
 * exception. `http-deliverer.ts` is the HTTP one.
 *
 * @example
 * const outcome = await deliverer.deliver({ id: job.id, events: [job.event] }, subscription);
 */
export interface Deliverer {
  deliver(attempt: DeliveryAttempt, subscription: Subscription): Promise<DeliveryOutcome>;
}
