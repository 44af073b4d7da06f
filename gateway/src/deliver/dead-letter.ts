import type { CloudEvent } from "../event/cloud-event.js";
import { deliveryReceipt, isReceipt } from "../on-success/receipt-events.js";
import type { Logger } from "../ports/logger.js";
import type { Subscription } from "../subscriptions/subscription.js";
import type { GatewayMetrics } from "../telemetry/gateway-metrics.js";
import { eventTraceContext, safeUrl } from "../telemetry/tracing.js";
import { deadLetterEvent } from "./dead-letter-event.js";
import type { Deliverer } from "./deliverer.js";
import type { DeliveryFailure, DeliveryJob, DeliveryQueue } from "./delivery-queue.js";
import { MAX_ERROR_BYTES, truncateUtf8 } from "./failure-text.js";
import { redactSecrets } from "./redact-secrets.js";

/**
 * Suffix of a dead-letter attempt's store-local id (`DeliveryAttempt.id`). Its `webhook-id` is
 * not made from it: `webhookMessageId` digests the target (`dead_letter_sink`), the subscription
 * and the events, so it differs from the failed message's (another message, as Standard Webhooks
 * ids name a message), yet is stable, so a dead-letter sink can dedupe a resend.
 */
export const DEAD_LETTER_ID_SUFFIX = "-dead";

/** Most bytes of the dead-letter sink's failure kept beside the sink's own (in 1024 in all). */
const DEAD_LETTER_REASON_BYTES = 256;

const utf8Length = (text: string) => new TextEncoder().encode(text).length;

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

/** Ends jobs whose attempts are over: to the dead-letter sink, or kept as dead. */
export type DeadLetter = (
  jobs: readonly DeliveryJob[],
  failure: DeliveryFailure,
  subscription: Subscription,
) => Promise<void>;

export interface DeadLetterOptions {
  readonly queue: Pick<DeliveryQueue, "complete" | "bury">;
  readonly deliverer: Deliverer;
  readonly logger: Logger;
  /** Counts where jobs ended (`herald_dead_events_total`). */
  readonly metrics?: Pick<GatewayMetrics, "dead">;
  /** Accepts the `dev.herald.delivery.failed` receipts (subscriptions with `delivery.receipts`). */
  readonly emit?: (events: readonly CloudEvent[]) => Promise<void>;
  /**
   * True once a shutdown gave up on the attempts in flight and closed their connections: a
   * dead-letter send that failed then failed for that, not for its sink, so its jobs are left
   * leased (due again at the next start) rather than kept as dead.
   */
  readonly cutShort?: () => boolean;
}

/**
 * Dead-lettering (DESIGN.md "Delivery semantics"): one attempt to `delivery.deadLetterSink` with
 * `deadLetterEvent` (binary and structured mode: one request per event; batch mode: one batch of
 * the attempt's events), with the subscription's mode, timeout and
 * signing (`protocolsettings` headers only to the sink's own origin, see `deadLetterTarget`).
 * Delivered there: `complete`; otherwise, or with no dead-letter sink: `bury`, the sink's failure
 * kept with the dead-letter sink's added to its text. Each job's end is logged once (subscription
 * id, sink and dead-letter sink without their query, event source and id, status, attempts,
 * failure text): `warn` when the dead-letter sink took it, `error` when it is kept as dead (a
 * person has to redrive it).
 *
 * @example
 * const deadLetter = createDeadLetter({ queue, deliverer, logger });
 * await deadLetter([job], { status: 400, error: "bad payload", at: clock.now() }, subscription);
 */
export function createDeadLetter(options: DeadLetterOptions): DeadLetter {
  const { queue, deliverer, logger, metrics, emit, cutShort } = options;

  /** Failed receipts, accepted before the jobs end (a crash in between sends them again). */
  async function receipts(
    jobs: readonly DeliveryJob[],
    failure: DeliveryFailure,
    subscription: Subscription,
    ending: "dead_letter_sink" | "store",
  ) {
    if (emit === undefined || subscription.delivery.receipts !== true) return;
    const events = jobs
      .filter((job) => !isReceipt(job.event))
      .map((job) =>
        deliveryReceipt("failed", {
          jobId: job.id,
          event: job.event,
          subscriptionId: subscription.id,
          sink: subscription.sink,
          attempts: job.attempts + 1,
          status: failure.status,
          at: failure.at,
          error: failure.error,
          ending,
        }),
      );
    if (events.length > 0) await emit(events);
  }

  function logFinal(
    ending: "sent to the dead-letter sink" | "kept as dead",
    job: DeliveryJob,
    failure: DeliveryFailure,
    subscription: Subscription,
  ) {
    const trace = eventTraceContext(job.event);
    const { deadLetterSink } = subscription.delivery;
    const fields = {
      subscriptionId: subscription.id,
      // Which URL refused is what an operator looks at first; without the query (a secret such
      // as `?code=` may be there), as on the delivery spans' `url.full`.
      sink: safeUrl(subscription.sink),
      ...(deadLetterSink === undefined ? {} : { deadLetterSink: safeUrl(deadLetterSink) }),
      source: job.event.attributes.source,
      id: job.event.attributes.id,
      status: failure.status,
      attempts: job.attempts + 1,
      error: failure.error,
      ...(trace === undefined ? {} : { trace_id: trace.traceId, span_id: trace.spanId }),
    };
    // Kept as dead needs a person (redrive); a dead-letter sink that took it has its own reader.
    if (ending === "kept as dead") logger.error(`delivery failed; ${ending}`, fields);
    else logger.warn(`delivery failed; ${ending}`, fields);
  }

  async function bury(jobs: readonly DeliveryJob[], failure: DeliveryFailure, sub: Subscription) {
    for (const job of jobs) logFinal("kept as dead", job, failure, sub);
    await receipts(jobs, failure, sub, "store");
    await Promise.all(jobs.map((job) => queue.bury(job.id, failure)));
    metrics?.dead(sub.id, "store", jobs.length);
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
    const outcome = await deliverer.deliver(
      { id, events, attempt: 1, target: "dead_letter_sink" },
      target,
    );
    if (outcome.kind === "delivered") {
      for (const job of jobs) logFinal("sent to the dead-letter sink", job, failure, subscription);
      await receipts(jobs, failure, subscription, "dead_letter_sink");
      await Promise.all(jobs.map((job) => queue.complete(job.id)));
      metrics?.dead(subscription.id, "dead_letter_sink", jobs.length);
      return;
    }
    if (cutShort?.() === true) {
      for (const job of jobs) {
        logger.warn("the shutdown cut a dead-letter send short; the job stays leased", {
          jobId: job.id,
          subscriptionId: subscription.id,
        });
      }
      return;
    }
    // The dead-letter sink's status and the start of its answer, with room kept for them after
    // the sink's own failure text, which may fill the 1024 bytes by itself.
    const text = redactSecrets(outcome.error, subscription);
    const status = `HTTP ${outcome.status}`;
    const why = outcome.status === 0 || text.startsWith(status) ? text : `${status}: ${text}`;
    const suffix = ` (dead-letter sink: ${truncateUtf8(why, DEAD_LETTER_REASON_BYTES)})`;
    const error = `${truncateUtf8(failure.error, MAX_ERROR_BYTES - utf8Length(suffix))}${suffix}`;
    await bury(jobs, { ...failure, error }, subscription);
  }

  return async function deadLetter(jobs, failure, subscription) {
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
  };
}
