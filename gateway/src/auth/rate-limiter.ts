import type { RateLimit } from "../config/auth-config.js";
import { type Clock, systemClock } from "../ports/clock.js";

/** What `take` decided: go ahead, or come back in `retryAfterSeconds` (whole seconds, >= 1). */
export type RateDecision =
  | { readonly ok: true }
  | { readonly ok: false; readonly retryAfterSeconds: number };

export interface RateLimiter {
  /** Takes `n` tokens (one per event) from `key`'s bucket, or says how long to wait. */
  take(key: string, n?: number): RateDecision;
  /** Buckets held now (for tests and metrics). */
  readonly size: number;
}

export interface RateLimiterOptions {
  readonly rate: RateLimit;
  readonly clock?: Clock;
  /**
   * Most buckets held at once (default 10 000). Past it the least recently used bucket is dropped;
   * its key starts again with a full bucket, so under pressure the limiter errs towards allowing.
   */
  readonly maxKeys?: number;
}

interface Bucket {
  /** May be negative: a request larger than the bucket leaves a debt (see `take`). */
  tokens: number;
  /** When `tokens` was last brought up to date (clock ms). */
  at: number;
}

const OK: RateDecision = { ok: true };

/**
 * Token buckets, one per key, all with the same rate: a bucket holds `rate.count` tokens and
 * refills continuously at `rate.count` per `rate.periodMs`, so `500/s` allows a burst of 500 and
 * 500 a second after that. Each key is a publisher; a batch of n events takes n tokens.
 *
 * A request larger than the bucket (a batch of 100 under `50/s`) could never be served by a plain
 * bucket; here it goes through once the bucket is full and leaves the bucket in debt, so the
 * long-run rate still holds. Memory is bounded: idle buckets (refilled to full, which is the same
 * as no bucket) are dropped as requests pass, and at most `maxKeys` are kept.
 *
 * @example
 * const limiter = createRateLimiter({ rate: { count: 500, periodMs: 1000 }, clock });
 * const decision = limiter.take("orders-service", events.length);
 * if (!decision.ok) throw new RateLimited(decision.retryAfterSeconds);
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { rate, clock = systemClock, maxKeys = 10_000 } = options;
  if (!Number.isSafeInteger(rate.count) || rate.count < 1) {
    throw new TypeError("rate.count must be a positive integer");
  }
  if (!Number.isFinite(rate.periodMs) || rate.periodMs <= 0) {
    throw new TypeError("rate.periodMs must be a positive number");
  }
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) {
    throw new TypeError("maxKeys must be a positive integer");
  }
  const capacity = rate.count;
  const perMs = rate.count / rate.periodMs;
  // Map order is least recently used first: every take re-inserts its key at the end.
  const buckets = new Map<string, Bucket>();

  const tokensAt = (bucket: Bucket, now: number) =>
    Math.min(capacity, bucket.tokens + Math.max(0, now - bucket.at) * perMs);

  /** Drops idle buckets from the old end, a couple per call, and anything past `maxKeys`. */
  const sweep = (now: number) => {
    let checked = 0;
    for (const [key, bucket] of buckets) {
      if (buckets.size > maxKeys || (checked < 2 && tokensAt(bucket, now) >= capacity)) {
        buckets.delete(key);
        checked += 1;
      } else break;
    }
  };

  return {
    take(key, n = 1) {
      if (!Number.isSafeInteger(n) || n < 0) throw new TypeError("n must be a whole number");
      if (n === 0) return OK;
      const now = clock.now();
      const old = buckets.get(key);
      buckets.delete(key);
      const bucket = { tokens: old === undefined ? capacity : tokensAt(old, now), at: now };
      buckets.set(key, bucket);
      // Asking for more than a full bucket holds waits for a full bucket, then goes into debt.
      const needed = Math.min(n, capacity);
      let decision = OK;
      if (bucket.tokens >= needed) bucket.tokens -= n;
      else {
        const waitMs = (needed - bucket.tokens) / perMs;
        decision = { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
      }
      sweep(now);
      return decision;
    },
    get size() {
      return buckets.size;
    },
  };
}
