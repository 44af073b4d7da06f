/** When and how often a refused or failed request is tried again. */
export interface RetrySettings {
  /** Retries after the first attempt (0: none). */
  readonly retries: number;
  /** The first backoff's cap; each retry doubles it. */
  readonly baseDelayMs: number;
  /** No backoff is longer. */
  readonly maxDelayMs: number;
  /** A `Retry-After` longer than this is not waited for: the error is thrown at once. */
  readonly maxRetryAfterMs: number;
}

/**
 * Capped exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): a uniform draw in [0, min(max, base * 2^retry)). Spreads retries of many producers
 * after a gateway restart instead of synchronising them.
 *
 * @example
 * backoffDelay(2, { retries: 3, baseDelayMs: 100, maxDelayMs: 5000, maxRetryAfterMs: 60000 }, Math.random);
 * // somewhere in [0, 400)
 */
export function backoffDelay(retry: number, settings: RetrySettings, random: () => number): number {
  const cap = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** retry);
  return Math.floor(random() * cap);
}
