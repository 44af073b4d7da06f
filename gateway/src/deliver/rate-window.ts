import type { DeliveryRate } from "../subscriptions/subscription.js";

/**
 * A sink's rate as a sliding window: at most `count` starts in any `perMs` milliseconds. Time is
 * passed in (epoch ms), so the caller's injected clock decides.
 *
 * Not a token bucket: a bucket of `count` that refills `count` per `perMs` lets a full burst and
 * then the refill into one window (a `5/s` bucket starts 5 at once and 4 more within the same
 * second), which a sink counting per second or per minute answers with `429`. Here a burst of
 * `count` goes at once, and the next start waits until the oldest of the last `count` is `perMs`
 * old.
 */
export interface RateWindow {
  /** Counts a start at `now` when the window has room for it; `false` (nothing counted) otherwise. */
  take(now: number): boolean;
  /** The earliest time (epoch ms, `>= now`) at which the window has room for a start. */
  nextAt(now: number): number;
  /** Whether no start is in the window at `now` (forgetting it then changes nothing). */
  idle(now: number): boolean;
  /** The starts it still counts at `now`, oldest first (to carry them into a changed rate). */
  starts(now: number): readonly number[];
}

/**
 * A window for `rate`, holding the `earlier` starts (times, oldest first) it still counts: those
 * of the window of the rate it replaces, so a changed rate counts what the sink already got (a
 * rate lowered from 100/s to 10/s right after 100 starts lets none more go in that second, not
 * 10). It remembers the starts of the last `perMs` (at most `count` of them), so it holds no more
 * entries than starts were made. Throws a `TypeError` for a rate that is not positive integers
 * (config validation should have caught it).
 *
 * @example
 * const window = createRateWindow({ count: 2, perMs: 1_000 });
 * window.take(0); // true
 * window.take(0); // true
 * window.take(999); // false
 * window.nextAt(999); // 1000
 */
export function createRateWindow(rate: DeliveryRate, earlier: readonly number[] = []): RateWindow {
  const { count, perMs } = rate;
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(perMs) || perMs < 1) {
    throw new TypeError("createRateWindow: count and perMs must be positive integers");
  }
  // Start times, oldest first, from `head` on; never more than `count` of them.
  // Only the last `count` matter: the oldest of them decides when there is room again.
  let starts: number[] = earlier.slice(-count);
  let head = 0;

  function forget(now: number): void {
    // A start at `s` counts in every window that holds it: until `s + perMs`, not at it.
    while (head < starts.length && (starts[head] as number) + perMs <= now) head++;
    if (head > 64 && head * 2 > starts.length) {
      starts = starts.slice(head);
      head = 0;
    }
  }

  return {
    take(now) {
      forget(now);
      if (starts.length - head >= count) return false;
      starts.push(now);
      return true;
    },
    nextAt(now) {
      forget(now);
      if (starts.length - head < count) return now;
      // Full: a start leaves the window `perMs` after it was made (later than now, or forgotten).
      return Math.max(now, (starts[starts.length - count] as number) + perMs);
    },
    idle(now) {
      forget(now);
      return starts.length === head;
    },
    starts(now) {
      forget(now);
      return starts.slice(head);
    },
  };
}
