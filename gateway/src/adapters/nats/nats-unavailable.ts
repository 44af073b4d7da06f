import { Unavailable } from "../../errors/errors.js";

/** Seconds a publisher is asked to wait while NATS is unreachable or failing over. */
export const NATS_RETRY_AFTER_SECONDS = 2;

/**
 * The 503 for events JetStream did not confirm: nothing was acknowledged to the publisher, and a
 * retry with the same events is safe (dedupe finishes a half-done accept, see `nats-queue.ts`).
 *
 * @example
 * throw storeUnavailable("NATS is unreachable");
 */
export function storeUnavailable(why: string): Unavailable {
  return new Unavailable(
    `the event store (NATS JetStream) did not store the events: ${why}; retry`,
    NATS_RETRY_AFTER_SECONDS,
  );
}
