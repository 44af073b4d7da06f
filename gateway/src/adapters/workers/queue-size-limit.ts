import { PayloadTooLarge } from "../../errors/errors.js";
import type { CloudEvent } from "../../event/cloud-event.js";
import type { Logger } from "../../ports/logger.js";

/*
 * The intake refuses an event whose queue message would pass Cloudflare Queues' message limit
 * (`PayloadTooLarge`, `queues-intake.ts`). For a published event that is a 413. For the events the
 * queue consumer makes (reply events, delivery receipts) the refusal is final too: sending them
 * again never fits. Left to reject, it would fail the settle and the queue would retry the
 * delivery until its max_retries, delivering it to the sink every time. A reply is refused as
 * not ingestible by the reply ingest itself (`on-success/ingest-reply.ts`); a receipt is dropped
 * here.
 */

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
