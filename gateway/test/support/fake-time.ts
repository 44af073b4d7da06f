import type { Timers } from "../../src/deliver/wake-timer.js";
import type { Clock } from "../../src/ports/clock.js";

/** A clock and timers that move only when a test says so. */
export interface FakeTime {
  readonly clock: Clock;
  readonly timers: Timers;
  /** Moves the clock forward, firing every timer that comes due, in due order. */
  advance(ms: number): void;
  /** Timers armed and not yet fired or cancelled. */
  pending(): number;
}

/**
 * Fake time for deterministic tests: `advance(ms)` fires due timers synchronously.
 *
 * @example
 * const time = createFakeTime();
 * const dispatcher = createDispatcher({ ...options, clock: time.clock, timers: time.timers });
 * time.advance(1_000);
 */
export function createFakeTime(start = Date.UTC(2030, 0, 1)): FakeTime {
  let now = start;
  let seq = 0;
  const armed = new Map<number, { at: number; callback: () => void }>();
  return {
    clock: { now: () => now },
    timers: {
      set(callback, delayMs) {
        const id = seq++;
        armed.set(id, { at: now + Math.max(delayMs, 0), callback });
        return () => armed.delete(id);
      },
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        let next: [number, { at: number; callback: () => void }] | undefined;
        for (const entry of armed) if (next === undefined || entry[1].at < next[1].at) next = entry;
        if (next === undefined || next[1].at > end) break;
        armed.delete(next[0]);
        now = Math.max(now, next[1].at);
        next[1].callback();
      }
      now = end;
    },
    pending: () => armed.size,
  };
}
