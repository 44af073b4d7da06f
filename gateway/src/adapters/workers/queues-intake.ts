import type { AcceptedEvent, DeliveryQueue } from "../../deliver/delivery-queue.js";
import { PayloadTooLarge, Unavailable } from "../../errors/errors.js";
import type { Clock } from "../../ports/clock.js";
import type { Logger } from "../../ports/logger.js";
import { dedupeKey } from "../../store/dedupe-window.js";
import { encodeEvent } from "../../store/event-codec.js";
import { QUEUE_LIMITS, type QueueProducer } from "./cloudflare-bindings.js";
import type { D1Acceptances } from "./d1-acceptances.js";
import type { D1DeadJobs, DeadJobRow } from "./d1-dead-jobs.js";
import { type DeliveryMessage, messageBytes, sendChunks } from "./delivery-message.js";

export interface QueuesIntakeOptions {
  readonly queue: QueueProducer<DeliveryMessage>;
  readonly accepted: D1Acceptances;
  readonly dead: D1DeadJobs;
  readonly clock: Clock;
  readonly logger: Logger;
  /** `store.dedupeWindow` of the config. */
  readonly dedupeWindowMs: number;
  /**
   * How long an acceptance is kept: at least as long as a message of the event can live on the
   * queue (its retention period), so the consumer can still prove it was accepted.
   */
  readonly keepAcceptedMs: number;
  /** Job and acceptance ids (default `crypto.randomUUID`). */
  readonly newId?: () => string;
}

const keyEncoder = new TextEncoder();

/** Dead jobs redriven per round trip (one read, one `sendBatch` or a few, one delete). */
const REDRIVE_CHUNK = 100;

/**
 * The most characters of JSON in a page of the dead set on Workers (the API's own is 32 MiB):
 * while a page is written its events are held about four times over (decoded, each item's JSON,
 * the page's text, its UTF-8 bytes), two bytes a character for text beyond Latin-1, and a Worker
 * has 128 MB of memory in all.
 */
export const WORKERS_DEAD_PAGE_CHARS = 4 * 1024 * 1024;

/**
 * The `DeliveryQueue` port on Cloudflare Queues and D1, for the parts of the port that fit a
 * push-based queue: `accept` (ingest), and the dead set (`dead`, `findDead`, `redrive`,
 * `discardDead`, `drop`). Delivery itself does not lease: Queues push batches to the Worker's
 * `queue()` handler (`queue-consumer.ts`), which settles each message with `ack`/`retry`. So
 * `lease` never hands out a job, `complete`/`reschedule`/`bury` are the consumer's, and `size`
 * is unknown (NaN: a Worker cannot read a queue's backlog; the Cloudflare dashboard shows it).
 *
 * `accept` (all or nothing, as far as the platform allows):
 * 1. duplicates within the call and keys accepted within the dedupe window are skipped;
 * 2. one message per (event, subscription) goes to the queue (`sendBatch`, in as many calls as
 *    the 100-message / 256 KB limits need); a failure answers 503 and nothing is recorded;
 * 3. the acceptances are recorded in D1 in one transaction (the dedupe claim); only then is the
 *    request accepted (202). The consumer delivers a message only once its acceptance is
 *    recorded, so the messages of a request that failed at step 2 (a later `sendBatch`) or
 *    step 3 are never delivered, and an event that lost a race for its key to a concurrent
 *    request is delivered once.
 *
 * @example
 * const queue = createQueuesIntake({ queue: env.HERALD_DELIVERIES, accepted, dead, clock, logger,
 *   dedupeWindowMs: config.store.dedupeWindowMs, keepAcceptedMs: 4 * 86_400_000 });
 * createGateway({ config, queue, subscriptions });
 */
export function createQueuesIntake(options: QueuesIntakeOptions): DeliveryQueue {
  const { queue, accepted, dead, clock, logger, dedupeWindowMs, keepAcceptedMs } = options;
  const newId = options.newId ?? (() => crypto.randomUUID());
  const settledByConsumer = (method: string) => () =>
    Promise.reject(
      new TypeError(`QueuesIntake.${method}: queue messages are settled by the queue consumer`),
    );

  async function send(messages: readonly DeliveryMessage[]): Promise<void> {
    try {
      for (const chunk of sendChunks(messages)) await queue.sendBatch(chunk);
    } catch (error) {
      logger.error("the delivery queue refused messages", {
        error: error instanceof Error ? error.message : String(error),
      });
      throw new Unavailable("the delivery queue did not take the events; retry", 1);
    }
  }

  return {
    async accept(events: readonly AcceptedEvent[]) {
      const now = clock.now();
      const seen = new Set<string>();
      const unique: { accepted: AcceptedEvent; key: string; index: number }[] = [];
      events.forEach((item, index) => {
        const key = dedupeKey(
          String(item.event.attributes.source),
          String(item.event.attributes.id),
        );
        if (seen.has(key)) return;
        seen.add(key);
        unique.push({ accepted: item, key, index });
      });
      // A message carries the event's source and id, so a key longer than a message is refused
      // as its message would be, also for an event no subscription takes: D1 would refuse the
      // key itself (2 MB at most per bound string), and the publisher would be told to retry.
      for (const item of unique) {
        if (keyEncoder.encode(item.key).byteLength > QUEUE_LIMITS.messageBytes) {
          throw new PayloadTooLarge(
            `the event's source and id are too large for a Cloudflare Queues message (${QUEUE_LIMITS.messageBytes} bytes with Herald's framing)`,
            QUEUE_LIMITS.messageBytes,
            ...(events.length > 1 ? [item.index] : []),
          );
        }
      }
      const live = await accepted.liveKeys(
        unique.map((u) => u.key),
        now,
        dedupeWindowMs,
      );
      const fresh = unique
        .filter((u) => !live.has(u.key))
        .map((u) => ({ ...u, acceptance: newId() }));

      const messages: DeliveryMessage[] = [];
      const jobsOf = new Map<string, number>();
      for (const item of fresh) {
        const event = encodeEvent(item.accepted.event);
        for (const subscription of item.accepted.subscriptionIds) {
          const body: DeliveryMessage = {
            v: 1,
            job: newId(),
            subscription,
            event,
            acceptance: item.acceptance,
            sentAt: now,
            attempts: 0,
          };
          if (messageBytes(body) > QUEUE_LIMITS.messageBytes) {
            throw new PayloadTooLarge(
              `the event is too large for a Cloudflare Queues message (${QUEUE_LIMITS.messageBytes} bytes with Herald's framing)`,
              QUEUE_LIMITS.messageBytes,
              ...(events.length > 1 ? [item.index] : []),
            );
          }
          messages.push(body);
        }
        jobsOf.set(item.acceptance, item.accepted.subscriptionIds.length);
      }
      await send(messages);

      let recorded: Set<string>;
      try {
        recorded = await accepted.claim(
          fresh.map((item) => ({ id: item.acceptance, key: item.key })),
          now,
          dedupeWindowMs,
          now + Math.max(dedupeWindowMs, keepAcceptedMs),
        );
      } catch (error) {
        logger.error("could not record accepted events in D1", {
          error: error instanceof Error ? error.message : String(error),
        });
        throw new Unavailable("the store did not record the events; retry", 1);
      }
      let jobs = 0;
      for (const id of recorded) jobs += jobsOf.get(id) ?? 0;
      return { events: recorded.size, duplicates: events.length - recorded.size, jobs };
    },
    lease: (_max, _leaseMs, signal) =>
      new Promise((resolve) => {
        if (signal.aborted) resolve([]);
        else signal.addEventListener("abort", () => resolve([]), { once: true });
      }),
    complete: settledByConsumer("complete"),
    reschedule: settledByConsumer("reschedule"),
    bury: settledByConsumer("bury"),
    dead: (subscriptionId, page) => dead.page(subscriptionId, page.limit, page.after, page.maxSize),
    maxDeadPageChars: WORKERS_DEAD_PAGE_CHARS,
    findDead: (subscriptionId, jobId) => dead.find(subscriptionId, jobId),
    async redrive(subscriptionId, jobIds) {
      // The dead set as it is now: a job redriven here that fails again while this runs (a fast
      // consumer, a sink that still refuses it) is buried in a newer row, which this redrive
      // neither sends again nor removes, as Node redrives what was dead when it was asked.
      const upTo = await dead.lastRow();
      /** Sends the rows' jobs to the queue, then removes the rows; resolves with how many. */
      const sendOff = async (rows: readonly DeadJobRow[]) => {
        if (rows.length === 0) return 0;
        const sentAt = clock.now();
        // Sent before removed: a failure in between redrives a job twice, never loses it.
        await send(
          rows.map(({ job, place }) => ({
            v: 1,
            job: job.id,
            subscription: job.subscriptionId,
            event: encodeEvent(job.event),
            sentAt,
            attempts: 0,
            place,
          })),
        );
        await dead.remove(rows.map((row) => row.seq));
        return rows.length;
      };
      let redriven = 0;
      if (jobIds === undefined) {
        for (;;) {
          const sent = await sendOff(
            await dead.peek(subscriptionId, REDRIVE_CHUNK, undefined, upTo),
          );
          if (sent === 0) return redriven;
          redriven += sent;
        }
      }
      // Named jobs a chunk of names at a time, each read once: one read of all the names per
      // chunk of rows would read them all again for every hundred.
      const named = [...new Set(jobIds)];
      for (let at = 0; at < named.length; at += REDRIVE_CHUNK) {
        const chunk = named.slice(at, at + REDRIVE_CHUNK);
        redriven += await sendOff(await dead.peek(subscriptionId, REDRIVE_CHUNK, chunk, upTo));
      }
      return redriven;
    },
    discardDead: (subscriptionId, jobIds) => dead.discard(subscriptionId, jobIds),
    drop: (subscriptionId) => dead.drop(subscriptionId),
    size: async () => Number.NaN,
  };
}
