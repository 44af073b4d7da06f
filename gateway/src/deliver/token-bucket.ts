import type { DeliveryRate } from "../subscriptions/subscription.js";

/**
 * A token bucket: holds at most `count` tokens, refills `count` every `perMs` (continuously),
 * and a request takes one. Time is passed in (epoch ms), so the caller's injected clock decides.
 * Integer arithmetic only: the level is kept in units of 1/`count` ms-tokens, so `nextAt` is
 * exact and a token is there at the time it names.
 */
export interface TokenBucket {
  /** Takes a token when one is there at `now`; `false` (and nothing taken) otherwise. */
  take(now: number): boolean;
  /** The earliest time (epoch ms, `>= now`) at which a token is there. */
  nextAt(now: number): number;
  /** Whether the bucket is full at `now` (forgetting it then changes nothing). */
  full(now: number): boolean;
}

/**
 * A full bucket for `rate`, starting at `now`. Throws a `TypeError` for a rate that is not
 * positive integers (config validation should have caught it).
 *
 * @example
 * const bucket = createTokenBucket({ count: 2, perMs: 1_000 }, clock.now());
 * bucket.take(clock.now()); // true
 * bucket.take(clock.now()); // true
 * bucket.take(clock.now()); // false
 * bucket.nextAt(clock.now()); // clock.now() + 500
 */
export function createTokenBucket(rate: DeliveryRate, now: number): TokenBucket {
  const { count, perMs } = rate;
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(perMs) || perMs < 1) {
    throw new TypeError("createTokenBucket: count and perMs must be positive integers");
  }
  // One token is `perMs` units; each millisecond adds `count` units.
  const capacity = count * perMs;
  let level = capacity;
  let at = now;

  function refill(time: number): void {
    if (time > at) {
      level = Math.min(capacity, level + (time - at) * count);
      at = time;
    }
  }

  return {
    take(time) {
      refill(time);
      if (level < perMs) return false;
      level -= perMs;
      return true;
    },
    nextAt(time) {
      refill(time);
      return level >= perMs ? time : at + Math.ceil((perMs - level) / count);
    },
    full(time) {
      refill(time);
      return level === capacity;
    },
  };
}
