import {
  DEFAULT_BACKOFF_DELAY_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_BACKOFF_POLICY,
  DEFAULT_RETRY,
  type DeliverySettings,
} from "../subscriptions/subscription.js";

/**
 * The floor of the `Retry-After` cap: a sink may ask for up to an hour (or up to `backoffMax`
 * when that is longer) even when the backoff itself is capped lower. See `retryDelay`.
 */
export const RETRY_AFTER_CAP_MS = 60 * 60 * 1000;

/**
 * Whether a job that has just failed its attempt number `attempts + 1` may be tried again:
 * `delivery.retry` counts retries after the first attempt (Knative DeliverySpec `retry`), so a
 * job gets `retry + 1` attempts in all.
 *
 * @example
 * canRetry(0, { mode: "binary", timeoutMs: 5000, retry: 2 }); // true: the first attempt failed
 * canRetry(2, { mode: "binary", timeoutMs: 5000, retry: 2 }); // false: the third attempt failed
 */
export function canRetry(attempts: number, delivery: DeliverySettings): boolean {
  return attempts + 1 <= (delivery.retry ?? DEFAULT_RETRY);
}

/**
 * The upper bound of the backoff before retry number `attempts + 1`, where `attempts` counts the
 * attempts already made before the one that just failed (0 after the first attempt):
 * - exponential: `min(backoffMax, backoffDelay * 2^attempts)`;
 * - linear: `min(backoffMax, backoffDelay * (attempts + 1))`.
 * Knative's DeliverySpec describes these as `backoffDelay * 2^n` and `backoffDelay * n` for
 * retry `n`; Herald counts so that the first retry waits up to `backoffDelay` under both policies
 * (the field's meaning: "the delay before retrying"), then doubles, or grows by `backoffDelay`.
 *
 * @example
 * backoffCeiling(3, { mode: "binary", timeoutMs: 5000, backoffDelayMs: 100 }); // 800
 */
/**
 * `backoffMax`, or when not set the default (1 minute) but never below `backoffDelay`: a delay
 * set longer than the default cap is not cut back to it (an explicit `backoffMax` must not be
 * shorter than `backoffDelay`, the config says).
 *
 * @example
 * effectiveBackoffMax({ mode: "binary", timeoutMs: 5000, backoffDelayMs: 120_000 }); // 120000
 */
export function effectiveBackoffMax(delivery: DeliverySettings): number {
  return (
    delivery.backoffMaxMs ??
    Math.max(DEFAULT_BACKOFF_MAX_MS, delivery.backoffDelayMs ?? DEFAULT_BACKOFF_DELAY_MS)
  );
}

export function backoffCeiling(attempts: number, delivery: DeliverySettings): number {
  const base = delivery.backoffDelayMs ?? DEFAULT_BACKOFF_DELAY_MS;
  const max = effectiveBackoffMax(delivery);
  const policy = delivery.backoffPolicy ?? DEFAULT_BACKOFF_POLICY;
  const growth = policy === "linear" ? attempts + 1 : 2 ** attempts;
  // 2^attempts overflows to Infinity for huge counts; min() with max keeps it finite.
  return Math.min(max, base * growth);
}

/**
 * How long to wait before the next attempt of a job that failed with a transient error:
 * - "full jitter" (AWS Architecture Blog, "Exponential Backoff And Jitter"): a uniformly random
 *   delay in `[0, backoffCeiling(attempts))`, so many jobs failing together do not retry together;
 * - a sink's `Retry-After` (RFC 9110 10.2.3) is obeyed: the wait is at least what it asked for,
 *   as Knative's `retryAfterMax` does ("the largest of the normal backoff and Retry-After");
 * - but that request is capped at `max(effectiveBackoffMax, RETRY_AFTER_CAP_MS)`: an hour is enough for
 *   a sink in maintenance and keeps a buggy or hostile value (`Retry-After: 99999999`) from
 *   parking events for years, while an operator who allows longer backoffs allows it to sinks.
 * A `Retry-After` of 0 or in the past never shortens the backoff below the jittered delay.
 *
 * `random` returns a number in `[0, 1)` (inject a fixed one in tests).
 *
 * @example
 * retryDelay(1, { mode: "binary", timeoutMs: 5000, backoffDelayMs: 100 }, () => 0.5); // 100
 * retryDelay(1, { mode: "binary", timeoutMs: 5000, backoffDelayMs: 100 }, () => 0.5, 30_000); // 30000
 */
export function retryDelay(
  attempts: number,
  delivery: DeliverySettings,
  random: () => number,
  retryAfterMs?: number,
): number {
  const jittered = Math.floor(random() * backoffCeiling(attempts, delivery));
  if (retryAfterMs === undefined) return jittered;
  return Math.max(jittered, Math.min(retryAfterMs, retryAfterCap(delivery)));
}

/**
 * The longest `Retry-After` obeyed: `max(effectiveBackoffMax, RETRY_AFTER_CAP_MS)` (see
 * `retryDelay`).
 *
 * @example
 * retryAfterCap({ mode: "binary", timeoutMs: 5000 }); // 3600000
 */
export function retryAfterCap(delivery: DeliverySettings): number {
  return Math.max(effectiveBackoffMax(delivery), RETRY_AFTER_CAP_MS);
}
