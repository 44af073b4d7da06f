import { Unavailable } from "../../errors/errors.js";
import { HeraldError } from "../../errors/herald-error.js";

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

/**
 * Runs a read or change of the store other than an accept (the Subscriptions API, the dead set,
 * redrive): while the connection is down it fails at once, not after the client's request
 * timeout, and a failure of NATS becomes the same 503 with `Retry-After` that ingest answers,
 * not a 500. Errors Herald raised itself (already typed) pass through.
 *
 * @example
 * const page = await whileConnected(connected, () => deadPage(subscriptionId, 0, { limit: 10 }));
 */
export async function whileConnected<T>(
  connected: () => boolean,
  call: () => Promise<T>,
): Promise<T> {
  const unavailable = (why: string) =>
    new Unavailable(
      `the store (NATS JetStream) did not answer: ${why}; retry`,
      NATS_RETRY_AFTER_SECONDS,
    );
  if (!connected()) throw unavailable("NATS is unreachable");
  try {
    return await call();
  } catch (err) {
    if (err instanceof HeraldError) throw err;
    throw unavailable(err instanceof Error ? err.message : String(err));
  }
}
