import { PayloadTooLarge } from "../../errors/errors.js";
import type { CloudEvent } from "../../event/cloud-event.js";
import type { IngestReply } from "../../on-success/ingest-reply.js";
import type { Logger } from "../../ports/logger.js";

/*
 * The intake refuses an event whose queue message would pass Cloudflare Queues' message limit
 * (`PayloadTooLarge`, `queues-intake.ts`). For a published event that is a 413. For the events the
 * queue consumer makes (reply events, delivery receipts) the refusal is final too: sending them
 * again never fits. Left to reject, it would fail the settle and the queue would retry the
 * delivery until its max_retries, delivering it to the sink every time. These wrappers turn that
 * refusal into what the event is: not ingestible.
 */

/**
 * A reply too large for a queue message is refused like any reply that cannot be ingested (one
 * over `limits.maxEventBytes`): the delivery is dead-lettered with "delivered (HTTP 200), but its
 * reply was not ingested: ...". Other failures (the queue or D1 unavailable) still reject.
 *
 * @example
 * const ingestReply = refuseOversizedReplies(createReplyIngest({ limits, accept, clock }));
 */
export function refuseOversizedReplies(ingest: IngestReply): IngestReply {
  return async (cause, reply, subscription) => {
    try {
      return await ingest(cause, reply, subscription);
    } catch (error) {
      if (error instanceof PayloadTooLarge)
        return `invalid reply (${error.code}): ${error.message}`;
      throw error;
    }
  };
}

/**
 * Emits the gateway's own events (receipts); one too large for a queue message (a receipt repeats
 * the original's `id`, so an event with a huge `id` makes a huge receipt) is dropped with an
 * error in the log, and the others of the call are still emitted. The job it reports on settles
 * as it would have. Other failures still reject.
 *
 * @example
 * const emit = dropOversizedEvents(async (events) => { await acceptEvents(events); }, logger);
 */
export function dropOversizedEvents(
  emit: (events: readonly CloudEvent[]) => Promise<void>,
  logger: Logger,
): (events: readonly CloudEvent[]) => Promise<void> {
  const dropped = (event: CloudEvent, error: PayloadTooLarge) =>
    logger.error("an event of the gateway's own was not emitted; dropped", {
      type: event.attributes.type,
      source: event.attributes.source,
      error: error.message,
    });
  return async (events) => {
    try {
      await emit(events);
    } catch (error) {
      if (!(error instanceof PayloadTooLarge)) throw error;
      const [only] = events;
      if (events.length === 1 && only !== undefined) return dropped(only, error);
      // The intake takes a call whole or not at all: emit the others one by one.
      for (const event of events) {
        try {
          await emit([event]);
        } catch (each) {
          if (!(each instanceof PayloadTooLarge)) throw each;
          dropped(event, each);
        }
      }
    }
  };
}
