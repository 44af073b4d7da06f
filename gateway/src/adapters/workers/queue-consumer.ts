import { createDeadLetter } from "../../deliver/dead-letter.js";
import type { Deliverer } from "../../deliver/deliverer.js";
import type { DeliveryOutcome } from "../../deliver/delivery-outcome.js";
import type { DeliveryJob } from "../../deliver/delivery-queue.js";
import { describeError } from "../../deliver/failure-text.js";
import { retryDelay } from "../../deliver/retry-policy.js";
import { createSettle, type OnGone } from "../../deliver/settle.js";
import type { CloudEvent } from "../../event/cloud-event.js";
import type { IngestReply } from "../../on-success/ingest-reply.js";
import type { Clock } from "../../ports/clock.js";
import type { Logger } from "../../ports/logger.js";
import { decodeEvent } from "../../store/event-codec.js";
import {
  DEFAULT_MAX_BATCH_SIZE,
  DEFAULT_SINK_CONCURRENCY,
  type Subscription,
} from "../../subscriptions/subscription.js";
import type { GatewayMetrics } from "../../telemetry/gateway-metrics.js";
import {
  QUEUE_LIMITS,
  type QueueBatch,
  type QueueMessage,
  type QueueProducer,
} from "./cloudflare-bindings.js";
import type { D1Acceptances } from "./d1-acceptances.js";
import type { D1DeadJobs } from "./d1-dead-jobs.js";
import { type DeliveryMessage, readDeliveryMessage } from "./delivery-message.js";
import { RememberedKeys } from "./remembered-keys.js";

/**
 * How long a message may wait for its acceptance to be recorded: the request that sent it records
 * it right after `sendBatch` (`queues-intake.ts`), so a message older than this whose acceptance
 * is missing belongs to a request that failed (answered 503) and is dropped.
 */
export const ACCEPTANCE_GRACE_MS = 60_000;
/** How long a message whose acceptance is not recorded yet waits before it is looked at again. */
const ACCEPTANCE_RECHECK_SECONDS = 5;
/** Acknowledged messages an isolate remembers (see `createQueueConsumer`); about 100 bytes each. */
export const REMEMBERED_ACKS = 10_000;
/** The failure of a job that reached the delivery queue's dead-letter queue. */
const QUEUE_GAVE_UP =
  "the delivery queue gave up on the message (max_retries) and moved it to its dead-letter queue";

export interface QueueConsumerOptions {
  /** The subscription of a job as it is now (`undefined` once deleted). */
  readonly subscription: (id: string) => Subscription | undefined;
  /** For a disabled subscription, the outcome its jobs settle with (as the dispatcher's). */
  readonly disabled?: (id: string) => DeliveryOutcome | undefined;
  /** The same deliverer as on Node (HTTP, traced, metered). */
  readonly deliverer: Deliverer;
  readonly accepted: D1Acceptances;
  readonly dead: D1DeadJobs;
  /** The delivery queue itself: a message waiting for its acceptance is sent again, delayed. */
  readonly queue: QueueProducer<DeliveryMessage>;
  /**
   * The name of the delivery queue's dead-letter queue: its messages end as a last retry's
   * failure does (dead-letter sink, or kept as dead).
   */
  readonly deadLetterQueue: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: Pick<GatewayMetrics, "dead">;
  /** Backoff jitter in `[0, 1)` (default `Math.random`). */
  readonly random?: () => number;
  /**
   * Attempts in flight at once per batch (`limits.maxDeliveriesInFlight`, at most the six
   * connections a Worker may have waiting for headers); also what reaches the dead-letter queue
   * is ended this many at once.
   */
  readonly concurrency: number;
  /** The sink answered 410 Gone: disable the subscription. */
  readonly onGone?: OnGone;
  /** Ingests a sink's reply event (`delivery.reply`), as on Node. */
  readonly ingestReply?: IngestReply;
  /** Accepts the gateway's own events (delivery receipts, `delivery.receipts`), as on Node. */
  readonly emit?: (events: readonly CloudEvent[]) => Promise<void>;
  /**
   * How long the delivery queue keeps a message (`HERALD_QUEUE_RETENTION_SECONDS`): a retry that
   * would come later ends the job now (dead-letter sink, or kept as dead) instead of expiring
   * with its message. Default: no limit.
   */
  readonly retentionSeconds?: number;
}

/**
 * How long before a message's expiry its last retry must be due: the consumer may pick a due
 * message up late, by up to the consumer's `max_batch_timeout` (at most 60 s, Queues' limit on
 * the batch wait time), and a few seconds more to start the invocation.
 */
const EXPIRY_MARGIN_MS = 65_000;

/** Runs `each` over `items`, at most `limit` at once. */
async function eachAtMost<T>(
  limit: number,
  items: readonly T[],
  each: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await each(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** One job of the batch with the message that carries it. */
interface Carried {
  readonly job: DeliveryJob;
  readonly message: QueueMessage;
  /** When the job's first message was sent (its body's `sentAt`). */
  readonly sentAt: number;
  /** Its place in the dead set before a redrive (its body's `place`). */
  readonly place: number | undefined;
}

/**
 * The Worker's `queue()` handler: delivers each message's (event, subscription) with the same
 * deliverer and the same settle policy (`deliver/settle.ts`) as the Node dispatcher, mapping the
 * policy's queue operations onto the message:
 * - `complete` (delivered, or taken by the dead-letter sink): `message.ack()`;
 * - `reschedule` (a retry is left): `message.retry({ delaySeconds })`, the subscription's
 *   full-jitter backoff (and `Retry-After`) rounded up to whole seconds, at most 12 hours; a
 *   retry that would be due after the message expires (`retentionSeconds`) ends the job now
 *   instead, as if its retries were over;
 * - `bury` (attempts over, no dead-letter sink took it): kept as dead in D1, then `ack`.
 * Reply events and delivery receipts are ingested and emitted by the same policy, through the
 * same intake as published events. Attempts are the message's own deliveries (`message.attempts`) plus those made before it was
 * sent. A message is delivered only when its acceptance is recorded (see `queues-intake.ts`);
 * one whose subscription is gone is dropped (logged), as on Node. Batch-mode subscriptions get
 * their jobs of the batch in requests of up to `maxBatchSize`. Messages from the dead-letter
 * queue (the queue's `max_retries` ran out, e.g. the Worker kept failing) end as a last retry's
 * failure does: the dead-letter sink, or kept as dead, with a failed receipt.
 * Whatever fails while settling retries the message on the subscription's backoff (at least a
 * second): at-least-once, and the queue's max_retries ends it in the dead-letter queue.
 *
 * @example
 * const consumer = createQueueConsumer({ subscription: (id) => registry.get(id), deliverer, ... });
 * export default { queue: (batch) => consumer(batch) };
 */
export function createQueueConsumer(
  options: QueueConsumerOptions,
): (batch: QueueBatch) => Promise<void> {
  const { deliverer, accepted, dead, queue, clock, logger, metrics, concurrency } = options;
  const random = options.random ?? Math.random;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new TypeError("createQueueConsumer: concurrency must be a positive integer");
  }

  /**
   * The messages this isolate acknowledged (message id and job), oldest first, at most
   * `REMEMBERED_ACKS`. One of them handed over again is acknowledged again, not delivered again:
   * Queues deliver at least once, and `wrangler dev`'s simulated queue hands back the whole batch,
   * acknowledged messages included, whenever workerd counts the invocation as failed, which it
   * does when a sink's TLS handshake or DNS lookup fails under a request with a body, even though
   * Herald caught that failure. Without this, every other delivery of that batch reached its sink
   * again, up to the queue's `max_retries` (100) times.
   */
  const acknowledged = new RememberedKeys(REMEMBERED_ACKS);
  const ackKey = (message: QueueMessage, body: DeliveryMessage) =>
    `${message.id} ${body.job} ${body.sentAt}`;

  /** `message`, remembered as acknowledged when `ack` is what settles it (a first `retry` wins). */
  function remembering(message: QueueMessage, key: string): QueueMessage {
    let settled = false;
    return {
      id: message.id,
      timestamp: message.timestamp,
      body: message.body,
      attempts: message.attempts,
      ack() {
        if (!settled) {
          settled = true;
          acknowledged.add(key);
        }
        message.ack();
      },
      retry(options) {
        settled = true;
        message.retry(options);
      },
    };
  }

  /**
   * Decodes each message; one that is not Herald's is acknowledged (it can never be delivered),
   * and so is one this isolate acknowledged before (see `acknowledged`).
   */
  function decode(batch: QueueBatch): { message: QueueMessage; body: DeliveryMessage }[] {
    const out: { message: QueueMessage; body: DeliveryMessage }[] = [];
    for (const message of batch.messages) {
      const body = readDeliveryMessage(message.body);
      if (body === undefined) {
        logger.error("a message on the delivery queue is not a Herald delivery; dropped", {
          queue: batch.queue,
          messageId: message.id,
        });
        message.ack();
        continue;
      }
      const key = ackKey(message, body);
      if (acknowledged.has(key)) {
        logger.debug("a message acknowledged before came back; acknowledged again", {
          subscriptionId: body.subscription,
          jobId: body.job,
          messageId: message.id,
        });
        message.ack();
        continue;
      }
      out.push({ message: remembering(message, key), body });
    }
    return out;
  }

  function jobOf(message: QueueMessage, body: DeliveryMessage): DeliveryJob {
    return {
      id: body.job,
      subscriptionId: body.subscription,
      event: decodeEvent(body.event),
      attempts: body.attempts + Math.max(0, message.attempts - 1),
    };
  }

  /**
   * The queue's dead-letter queue, the last resort: each job ends as one whose last retry
   * failed (status 0, the queue's reason): its subscription's `deadLetterSink`, or kept as dead
   * for redrive, with its failed receipt (`delivery.receipts`). One whose subscription was
   * deleted is dropped, as its queued deliveries are, and so is one of a request that was never
   * accepted: the likeliest way here is a D1 outage, in which the publisher was answered 503 (the
   * acceptance could not be recorded) after its messages were sent, and may have sent the event
   * again. Its acceptance row is kept as long as the queue keeps messages, so only a message
   * older than that cannot be told apart, and ends as dead-lettered.
   */
  async function endDeadLettered(items: { message: QueueMessage; body: DeliveryMessage }[]) {
    let recorded: Set<string>;
    try {
      recorded = await accepted.recorded([
        ...new Set(items.flatMap(({ body }) => body.acceptance ?? [])),
      ]);
    } catch (error) {
      logger.error("could not check dead-lettered messages' acceptance; the queue retries them", {
        error: describeError(error),
      });
      for (const { message } of items) message.retry();
      return;
    }
    const now = clock.now();
    const { retentionSeconds } = options;
    const neverAccepted = (body: DeliveryMessage) =>
      body.acceptance !== undefined &&
      !recorded.has(body.acceptance) &&
      (retentionSeconds === undefined || now - body.sentAt < retentionSeconds * 1000);
    // At most `concurrency` at once, as deliveries: each may send to a dead-letter sink.
    await eachAtMost(concurrency, items, async ({ message, body }) => {
      if (neverAccepted(body)) {
        logger.info("dropped a dead-lettered message of a request that was not accepted", {
          subscriptionId: body.subscription,
          jobId: body.job,
        });
        message.ack();
        return;
      }
      const subscription = options.subscription(body.subscription);
      if (subscription === undefined) {
        logger.info("dropped a dead-lettered message: its subscription was deleted", {
          subscriptionId: body.subscription,
          jobId: body.job,
        });
        message.ack();
        return;
      }
      // The attempts before its last message: the platform does not carry its count here.
      const job = { ...jobOf(message, body), attempts: body.attempts };
      const deadLetter = createDeadLetter({
        queue: {
          complete: async () => message.ack(),
          async bury(_jobId, failure) {
            await dead.bury(job, failure, body.place);
            message.ack();
          },
        },
        deliverer,
        logger,
        ...(metrics ? { metrics } : {}),
        ...(options.emit ? { emit: options.emit } : {}),
      });
      try {
        await deadLetter([job], { status: 0, error: QUEUE_GAVE_UP, at: clock.now() }, subscription);
      } catch (error) {
        logger.error("could not end a dead-lettered message; the queue retries it", {
          subscriptionId: body.subscription,
          jobId: body.job,
          error: describeError(error),
        });
        message.retry();
      }
    });
  }

  /** Messages whose acceptance is recorded; the others wait for it, or are dropped when stale. */
  async function acceptedOnly(items: { message: QueueMessage; body: DeliveryMessage }[]) {
    const ids = [...new Set(items.flatMap(({ body }) => body.acceptance ?? []))];
    const recorded = await accepted.recorded(ids);
    const now = clock.now();
    const ready: typeof items = [];
    await Promise.all(
      items.map(async (item) => {
        const { message, body } = item;
        if (body.acceptance === undefined || recorded.has(body.acceptance)) {
          ready.push(item);
        } else if (now - body.sentAt < ACCEPTANCE_GRACE_MS) {
          // Sent again rather than retried, so the wait costs no attempt (`message.attempts`).
          await queue.send(body, { contentType: "json", delaySeconds: ACCEPTANCE_RECHECK_SECONDS });
          message.ack();
        } else {
          logger.debug("dropped a message of a request that was not accepted", {
            subscriptionId: body.subscription,
            jobId: body.job,
          });
          message.ack();
        }
      }),
    );
    return ready;
  }

  /** Jobs grouped into attempts: one per job, or up to `maxBatchSize` per batch-mode request. */
  function attemptsOf(carried: readonly Carried[], subscription: Subscription): Carried[][] {
    if (subscription.delivery.mode !== "batch") return carried.map((c) => [c]);
    const size = subscription.delivery.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE;
    const groups: Carried[][] = [];
    for (let i = 0; i < carried.length; i += size) groups.push(carried.slice(i, i + size));
    return groups;
  }

  async function deliverGroup(group: readonly Carried[], subscription: Subscription) {
    const byJob = new Map(group.map((c) => [c.job.id, c.message]));
    const { retentionSeconds } = options;
    const settle = createSettle({
      // A message expires `retentionSeconds` after it was first sent, retries or not.
      ...(retentionSeconds === undefined
        ? {}
        : {
            retryDeadline: (job: DeliveryJob) => {
              const carried = group.find((c) => c.job.id === job.id);
              if (carried === undefined) return undefined;
              const sent = Math.min(carried.message.timestamp.getTime(), carried.sentAt);
              return sent + retentionSeconds * 1000 - EXPIRY_MARGIN_MS;
            },
          }),
      queue: {
        async complete(jobId) {
          byJob.get(jobId)?.ack();
        },
        async reschedule(jobId, dueAt) {
          const seconds = Math.ceil(Math.max(0, dueAt - clock.now()) / 1000);
          byJob.get(jobId)?.retry({
            delaySeconds: Math.min(seconds, QUEUE_LIMITS.maxDelaySeconds),
          });
        },
        async bury(jobId, failure) {
          const carried = group.find((c) => c.job.id === jobId);
          if (carried === undefined) return;
          await dead.bury(carried.job, failure, carried.place);
          carried.message.ack();
        },
      },
      deliverer,
      logger,
      clock,
      ...(options.random ? { random: options.random } : {}),
      ...(metrics ? { metrics } : {}),
      ...(options.onGone ? { onGone: options.onGone } : {}),
      ...(options.ingestReply ? { ingestReply: options.ingestReply } : {}),
      ...(options.emit ? { emit: options.emit } : {}),
    });
    const [first] = group;
    if (first === undefined) return;
    const jobs = group.map((c) => c.job);
    try {
      const outcome =
        options.disabled?.(subscription.id) ??
        (await deliverer.deliver(
          {
            id: first.job.id,
            events: jobs.map((j) => j.event),
            attempt: first.job.attempts + 1,
          },
          subscription,
        ));
      await settle(jobs, outcome, subscription);
    } catch (error) {
      // Retried on the subscription's backoff (at least a second), not at once: what failed
      // (D1, the queue) gets the time a sink would. A message acknowledged or retried already
      // keeps that; `retry` on it is ignored.
      const delaySeconds = Math.min(
        Math.max(
          1,
          Math.ceil(retryDelay(first.job.attempts, subscription.delivery, random) / 1000),
        ),
        QUEUE_LIMITS.maxDelaySeconds,
      );
      logger.error("could not settle a delivery; the queue retries it", {
        subscriptionId: subscription.id,
        delaySeconds,
        error: describeError(error),
      });
      for (const c of group) c.message.retry({ delaySeconds });
    }
  }

  return async function consume(batch) {
    const items = decode(batch);
    if (batch.queue === options.deadLetterQueue) return endDeadLettered(items);
    const ready = await acceptedOnly(items);

    const bySubscription = new Map<string, Carried[]>();
    for (const { message, body } of ready) {
      if (options.subscription(body.subscription) === undefined) {
        logger.info("dropped a queued delivery: its subscription was deleted", {
          subscriptionId: body.subscription,
          jobId: body.job,
        });
        message.ack();
        continue;
      }
      const list = bySubscription.get(body.subscription) ?? [];
      list.push({ job: jobOf(message, body), message, sentAt: body.sentAt, place: body.place });
      bySubscription.set(body.subscription, list);
    }

    // At most `concurrency` attempts at once, and at most the subscription's own concurrency
    // per subscription, within this batch.
    const lanes = [...bySubscription].map(([id, carried]) => {
      const subscription = options.subscription(id)!;
      return {
        subscription,
        groups: attemptsOf(carried, subscription),
        slots: subscription.delivery.concurrency ?? DEFAULT_SINK_CONCURRENCY,
      };
    });
    const work = lanes.flatMap((lane) => lane.groups.map((group) => ({ lane, group })));
    // A worker that finds every remaining lane full stops; the workers holding those lanes'
    // slots loop again when they finish, so nothing is left behind.
    async function worker(): Promise<void> {
      for (;;) {
        const index = work.findIndex((w) => w.lane.slots > 0);
        if (index < 0) return;
        const item = work[index]!;
        work.splice(index, 1);
        item.lane.slots -= 1;
        try {
          await deliverGroup(item.group, item.lane.subscription);
        } finally {
          item.lane.slots += 1;
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, work.length) }, worker));
  };
}
