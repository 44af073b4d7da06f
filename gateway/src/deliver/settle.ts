import type { CloudEvent } from "../event/cloud-event.js";
import type { IngestReply } from "../on-success/ingest-reply.js";
import { deliveryReceipt, isReceipt } from "../on-success/receipt-events.js";
import { type Clock, systemClock } from "../ports/clock.js";
import type { Logger } from "../ports/logger.js";
import type { Subscription } from "../subscriptions/subscription.js";
import type { GatewayMetrics } from "../telemetry/gateway-metrics.js";
import { createDeadLetter } from "./dead-letter.js";
import type { Deliverer } from "./deliverer.js";
import { type DeliveryOutcome, DISABLED_OUTCOME } from "./delivery-outcome.js";
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

/**
 * Called when a sink answered 410 Gone: the subscription should be disabled. `attempted` is the
 * subscription as the attempt began (its `sink` answered), which an update may have replaced since.
 */
export type OnGone = (attempted: Subscription, reason: string) => void | Promise<void>;

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
  /**
   * The sink answered 410 Gone (before the jobs are dead-lettered, so that deliveries queued
   * meanwhile are not sent to it); defaults to doing nothing.
   */
  readonly onGone?: OnGone;
  /** Counts jobs whose attempts are over. */
  readonly metrics?: Pick<GatewayMetrics, "dead">;
  /**
   * Ingests a sink's reply event (`delivery.reply`, see `createReplyIngest`); resolves why it was
   * not ingested, if it was not. Without it, replies are ignored.
   */
  readonly ingestReply?: IngestReply;
  /**
   * Accepts events of the gateway's own (delivery receipts, `delivery.receipts`), durably, before
   * the job they report on is settled. Without it, no receipts.
   */
  readonly emit?: (events: readonly CloudEvent[]) => Promise<void>;
  /**
   * The latest time a job may still be retried (epoch ms), where the queue forgets a job after a
   * while: a retry due later ends the job now, as if its retries were over, so it reaches the
   * dead-letter sink or the dead set instead of vanishing (a Cloudflare Queues message expires
   * with the queue's retention; a sink's `Retry-After` can push a retry past it).
   */
  readonly retryDeadline?: (job: DeliveryJob) => number | undefined;
  /**
   * True once a shutdown gave up on the attempts in flight and closed their connections (see
   * `Dispatcher.stop`): an attempt or dead-letter send that then failed with a retryable outcome
   * failed for that, not for its sink, so its jobs stay leased, due again at the next start with
   * the attempts they had, neither rescheduled nor kept as dead.
   */
  readonly cutShort?: () => boolean;
}

/**
 * The settle policy (DESIGN.md "Delivery semantics"):
 * - `delivered`: its reply event ingested (`delivery.reply`), its receipt emitted
 *   (`delivery.receipts`), then `complete`; a reply that is refused dead-letters the job instead;
 * - `retry` with retries left (`canRetry`: `retry` retries after the first attempt):
 *   `reschedule` at now + `retryDelay` (full-jitter backoff, `Retry-After` obeyed but capped);
 *   one random draw per call, so the jobs of a batch stay due together;
 * - `retry` with none left, or `dead` (other 4xx, a request that cannot be built): one attempt to
 *   `delivery.deadLetterSink` (see `createDeadLetter`); delivered there: `complete`; otherwise,
 *   or with no dead-letter sink: `bury`, kept as dead for `GET /subscriptions/{id}/dead` and
 *   redrive;
 * - 410 Gone: `onGone(subscription, reason)` first, then dead-lettered at once (it is a 4xx):
 *   the dead-letter sink may take up to the timeout, and the gone sink must get nothing more.
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

  const { ingestReply, emit } = options;
  const deadLetter = createDeadLetter({
    queue,
    deliverer,
    logger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(emit ? { emit } : {}),
    ...(options.cutShort ? { cutShort: options.cutShort } : {}),
  });

  /** Succeeded receipts of the jobs that want them; none for a receipt. */
  async function receipts(
    jobs: readonly DeliveryJob[],
    status: number,
    subscription: Subscription,
  ) {
    if (emit === undefined || subscription.delivery.receipts !== true) return;
    const at = clock.now();
    const events = jobs
      .filter((job) => !isReceipt(job.event))
      .map((job) =>
        deliveryReceipt("succeeded", {
          jobId: job.id,
          event: job.event,
          subscriptionId: subscription.id,
          sink: subscription.sink,
          attempts: job.attempts + 1,
          status,
          at,
        }),
      );
    if (events.length > 0) await emit(events);
  }

  /**
   * A delivered attempt: its reply ingested first (before the job ends, so a crash in between
   * delivers again and the reply comes again: at-least-once), then the receipt, then `complete`.
   * A reply refused ends its job as failed: the delivery did succeed, and `heralderrordata` says so.
   */
  async function delivered(
    jobs: readonly DeliveryJob[],
    outcome: Extract<DeliveryOutcome, { kind: "delivered" }>,
    subscription: Subscription,
  ) {
    if (
      (outcome.reply === undefined || ingestReply === undefined) &&
      (emit === undefined || subscription.delivery.receipts !== true)
    ) {
      // The common case: nothing to ingest, nothing to report (mostly one job: no array then).
      if (jobs.length === 1) await queue.complete((jobs[0] as DeliveryJob).id);
      else await Promise.all(jobs.map((job) => queue.complete(job.id)));
      return;
    }
    const done: DeliveryJob[] = [];
    const refused: { job: DeliveryJob; reason: string }[] = [];
    for (const job of jobs) {
      const reason =
        outcome.reply === undefined || ingestReply === undefined
          ? undefined
          : await ingestReply(job.event, outcome.reply, subscription);
      if (reason === undefined) done.push(job);
      else refused.push({ job, reason });
    }
    await receipts(done, outcome.status, subscription);
    await Promise.all(done.map((job) => queue.complete(job.id)));
    for (const { job, reason } of refused) {
      const error = `delivered (HTTP ${outcome.status}), but its reply was not ingested: ${reason}`;
      await deadLetter(
        [job],
        { status: outcome.status, error: truncateUtf8(error), at: clock.now() },
        subscription,
      );
    }
  }

  return async function settle(jobs, outcome, subscription) {
    if (outcome.kind === "delivered") return delivered(jobs, outcome, subscription);
    if (outcome.kind === "retry" && options.cutShort?.() === true) {
      for (const job of jobs) {
        logger.warn("the shutdown cut a delivery short; the job stays leased", {
          jobId: job.id,
          subscriptionId: subscription.id,
        });
      }
      return;
    }
    const now = clock.now();
    const failure: DeliveryFailure = {
      status: outcome.status,
      // Hiding a short secret lengthens the text: cut again to keep within 1024 bytes.
      error: truncateUtf8(redactSecrets(outcome.error, subscription)),
      at: now,
    };
    // Only a sink's own 410 disables: a job not sent because the subscription was disabled
    // (DISABLED_OUTCOME) must not disable it again after an update enabled it meanwhile. It is
    // disabled before the jobs end: dead-lettering waits for the dead-letter sink (up to the
    // timeout), and deliveries queued meanwhile must not go on to the gone sink.
    if (outcome.kind === "dead" && outcome.status === 410 && outcome !== DISABLED_OUTCOME) {
      try {
        await onGone(subscription, `sink answered 410 Gone: ${failure.error}`);
      } catch (err) {
        logger.error("could not disable the subscription after 410 Gone", {
          subscriptionId: subscription.id,
          error: describeError(err),
        });
      }
    }
    const draw = random();
    const retryAfterMs = outcome.kind === "retry" ? outcome.retryAfterMs : undefined;
    const retried: { job: DeliveryJob; dueAt: number }[] = [];
    const finished: DeliveryJob[] = [];
    const expiring: DeliveryJob[] = [];
    for (const job of jobs) {
      if (outcome.kind !== "retry" || !canRetry(job.attempts, subscription.delivery)) {
        finished.push(job);
        continue;
      }
      const dueAt = now + retryDelay(job.attempts, subscription.delivery, () => draw, retryAfterMs);
      const deadline = options.retryDeadline?.(job);
      if (deadline !== undefined && dueAt > deadline) expiring.push(job);
      else retried.push({ job, dueAt });
    }
    const expired: DeliveryFailure = {
      ...failure,
      error: truncateUtf8(
        `${failure.error} (not retried: the delivery queue would drop the message before its next attempt)`,
      ),
    };
    await Promise.all([
      ...retried.map(({ job, dueAt }) => queue.reschedule(job.id, dueAt, failure)),
      finished.length > 0 ? deadLetter(finished, failure, subscription) : undefined,
      expiring.length > 0 ? deadLetter(expiring, expired, subscription) : undefined,
    ]);
  };
}
