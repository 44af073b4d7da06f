import { type Clock, systemClock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { Subscription } from "../subscriptions/subscription.js";
import type { GatewayMetrics } from "../telemetry/gateway-metrics.js";
import { createDeadLetter } from "./dead-letter.js";
import type { Deliverer } from "./deliverer.js";
import type { DeliveryOutcome } from "./delivery-outcome.js";
import type { DeliveryFailure, DeliveryJob, DeliveryQueue } from "./delivery-queue.js";
import { describeError } from "./failure-text.js";
import { redactSecrets } from "./redact-secrets.js";
import { canRetry, retryDelay } from "./retry-policy.js";

/**
 * What happens to the jobs of one delivery attempt after it: the on-success and on-failure policy
 * in one function. A batch attempt settles all its jobs with its one outcome. It may reject (e.g.
 * the queue failed); the dispatcher then leaves the jobs leased, to be handed out again when the
 * lease expires (at-least-once).
 */
export type Settle = (
  jobs: readonly DeliveryJob[],
  outcome: DeliveryOutcome,
  subscription: Subscription,
) => Promise<void>;

/** Called when a sink answered 410 Gone: the subscription should be disabled. */
export type OnGone = (subscriptionId: string, reason: string) => void | Promise<void>;

export interface SettleOptions {
  /** The queue methods settling needs (any `DeliveryQueue`). */
  readonly queue: Pick<DeliveryQueue, "complete" | "reschedule" | "bury">;
  /** Sends dead-letter events (the same deliverer as the deliveries). */
  readonly deliverer: Deliverer;
  readonly logger: Logger;
  /** Due times and failure times; defaults to the system clock. */
  readonly clock?: Clock;
  /** Backoff jitter in `[0, 1)`; defaults to `Math.random`. */
  readonly random?: () => number;
  /** The sink answered 410 Gone (after the jobs are settled); defaults to doing nothing. */
  readonly onGone?: OnGone;
  /** Counts jobs whose attempts are over. */
  readonly metrics?: Pick<GatewayMetrics, "dead">;
}

/**
 * The settle policy (DESIGN.md "Delivery semantics"):
 * - `delivered`: `complete`;
 * - `retry` with retries left (`canRetry`: `retry` retries after the first attempt):
 *   `reschedule` at now + `retryDelay` (full-jitter backoff, `Retry-After` obeyed but capped);
 *   one random draw per call, so the jobs of a batch stay due together;
 * - `retry` with none left, or `dead` (other 4xx, a request that cannot be built): one attempt to
 *   `delivery.deadLetterSink` (see `createDeadLetter`); delivered there: `complete`; otherwise,
 *   or with no dead-letter sink: `bury`, kept as dead for `GET /subscriptions/{id}/dead` and
 *   redrive;
 * - 410 Gone: dead-lettered at once (it is a 4xx), then `onGone(subscription.id, reason)`.
 * Every final failure is logged once per job (subscription id, event source and id, status,
 * attempts, failure text with the subscription's secrets redacted).
 *
 * @example
 * const settle = createSettle({ queue, deliverer, logger, onGone: (id) => disable(id) });
 * const outcome = await deliverer.deliver({ id: job.id, events: [job.event] }, subscription);
 * await settle([job], outcome, subscription);
 */
export function createSettle(options: SettleOptions): Settle {
  const { queue, deliverer, logger, clock = systemClock, random = Math.random } = options;
  const { onGone = () => {} } = options;
  if (typeof deliverer?.deliver !== "function") {
    throw new TypeError("createSettle: options.deliverer must be a Deliverer");
  }

  const deadLetter = createDeadLetter({
    queue,
    deliverer,
    logger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });

  return async function settle(jobs, outcome, subscription) {
    if (outcome.kind === "delivered") {
      await Promise.all(jobs.map((job) => queue.complete(job.id)));
      return;
    }
    const now = clock.now();
    const failure: DeliveryFailure = {
      status: outcome.status,
      error: redactSecrets(outcome.error, subscription),
      at: now,
    };
    const draw = random();
    const retried: DeliveryJob[] = [];
    const finished: DeliveryJob[] = [];
    for (const job of jobs) {
      const again = outcome.kind === "retry" && canRetry(job.attempts, subscription.delivery);
      (again ? retried : finished).push(job);
    }
    await Promise.all([
      ...retried.map((job) => {
        const retryAfterMs = outcome.kind === "retry" ? outcome.retryAfterMs : undefined;
        const delay = retryDelay(job.attempts, subscription.delivery, () => draw, retryAfterMs);
        return queue.reschedule(job.id, now + delay, failure);
      }),
      finished.length > 0 ? deadLetter(finished, failure, subscription) : undefined,
    ]);
    if (outcome.kind === "dead" && outcome.status === 410) {
      try {
        await onGone(subscription.id, `sink answered 410 Gone: ${failure.error}`);
      } catch (err) {
        logger.error("could not disable the subscription after 410 Gone", {
          subscriptionId: subscription.id,
          error: describeError(err),
        });
      }
    }
  };
}
