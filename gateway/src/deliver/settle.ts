import { type Clock, systemClock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { Subscription } from "../subscriptions/subscription.js";
import { deadLetterEvent } from "./dead-letter-event.js";
import type { Deliverer } from "./deliverer.js";
import type { DeliveryOutcome } from "./delivery-outcome.js";
import type { DeliveryFailure, DeliveryJob, DeliveryQueue } from "./delivery-queue.js";
import { describeError, truncateUtf8 } from "./failure-text.js";
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
}

/**
 * Suffix of a dead-letter message's `webhook-id`: it is another message than the one that failed
 * (Standard Webhooks ids name a message), yet stable, so a dead-letter sink can dedupe a resend.
 */
export const DEAD_LETTER_ID_SUFFIX = "-dead";

const originOf = (url: string) => (URL.canParse(url) ? new URL(url).origin : undefined);

/**
 * The subscription as the dead-letter sink gets it: the same mode, timeout and signing, but its
 * `protocolsettings.headers` only when the dead-letter sink has the sink's origin. Those headers
 * are the sink's (often its `Authorization`), and Fetch drops `Authorization` on a cross-origin
 * redirect for the same reason (Fetch standard, "HTTP-redirect fetch" step 13).
 */
function deadLetterTarget(subscription: Subscription, deadLetterSink: string): Subscription {
  const sameOrigin = originOf(deadLetterSink) === originOf(subscription.sink);
  return sameOrigin
    ? { ...subscription, sink: deadLetterSink }
    : { ...subscription, sink: deadLetterSink, protocolsettings: { headers: {} } };
}

/**
 * The settle policy (DESIGN.md "Delivery semantics"):
 * - `delivered`: `complete`;
 * - `retry` with retries left (`canRetry`: `retry` retries after the first attempt):
 *   `reschedule` at now + `retryDelay` (full-jitter backoff, `Retry-After` obeyed but capped);
 *   one random draw per call, so the jobs of a batch stay due together;
 * - `retry` with none left, or `dead` (other 4xx, a request that cannot be built): one attempt to
 *   `delivery.deadLetterSink` with `deadLetterEvent` (binary and structured mode: one request per
 *   event; batch mode: one batch of the attempt's events), with the subscription's other settings
 *   (mode, timeout, signing; `protocolsettings` headers only to the sink's own origin, see
 *   `deadLetterTarget`); delivered there: `complete`; otherwise, or with no
 *   dead-letter sink: `bury`, kept as dead for `GET /subscriptions/{id}/dead` and redrive;
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

  function logFinal(
    message: string,
    job: DeliveryJob,
    failure: DeliveryFailure,
    subscription: Subscription,
  ) {
    const fields = {
      subscriptionId: subscription.id,
      source: job.event.attributes.source,
      id: job.event.attributes.id,
      status: failure.status,
      attempts: job.attempts + 1,
      error: failure.error,
    };
    if (message.startsWith("kept")) logger.error(`delivery failed; ${message}`, fields);
    else logger.warn(`delivery failed; ${message}`, fields);
  }

  async function bury(jobs: readonly DeliveryJob[], failure: DeliveryFailure, sub: Subscription) {
    for (const job of jobs) logFinal("kept as dead", job, failure, sub);
    await Promise.all(jobs.map((job) => queue.bury(job.id, failure)));
  }

  /** One dead-letter request for `jobs`; completes or buries them by its outcome. */
  async function sendDead(
    id: string,
    jobs: readonly DeliveryJob[],
    failure: DeliveryFailure,
    subscription: Subscription,
    deadLetterSink: string,
  ) {
    const events = jobs.map((job) =>
      deadLetterEvent(job.event, {
        sink: subscription.sink,
        status: failure.status,
        error: failure.error,
        attempts: job.attempts + 1,
      }),
    );
    const target = deadLetterTarget(subscription, deadLetterSink);
    const outcome = await deliverer.deliver({ id, events }, target);
    if (outcome.kind === "delivered") {
      for (const job of jobs) logFinal("sent to the dead-letter sink", job, failure, subscription);
      await Promise.all(jobs.map((job) => queue.complete(job.id)));
      return;
    }
    const why = redactSecrets(outcome.error, subscription);
    const error = truncateUtf8(`${failure.error} (dead-letter sink: ${why})`);
    await bury(jobs, { ...failure, error }, subscription);
  }

  async function deadLetter(
    jobs: readonly DeliveryJob[],
    failure: DeliveryFailure,
    subscription: Subscription,
  ) {
    const sink = subscription.delivery.deadLetterSink;
    if (sink === undefined) return bury(jobs, failure, subscription);
    const [first] = jobs;
    if (subscription.delivery.mode === "batch" && first !== undefined) {
      return sendDead(`${first.id}${DEAD_LETTER_ID_SUFFIX}`, jobs, failure, subscription, sink);
    }
    await Promise.all(
      jobs.map((job) =>
        sendDead(`${job.id}${DEAD_LETTER_ID_SUFFIX}`, [job], failure, subscription, sink),
      ),
    );
  }

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
