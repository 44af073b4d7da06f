import { describe, expect, it } from "vitest";
import { createRateWindow } from "./rate-window.js";

/** The most starts in any window of `perMs` (half-open, as a sink counting per period sees it). */
function mostInAnyWindow(starts: readonly number[], perMs: number): number {
  let most = 0;
  for (const from of starts) {
    most = Math.max(most, starts.filter((t) => t >= from && t < from + perMs).length);
  }
  return most;
}

describe("createRateWindow", () => {
  it("lets a burst of count go, then the next start once the oldest is perMs old", () => {
    const window = createRateWindow({ count: 2, perMs: 1_000 });
    expect(window.idle(0)).toBe(true);
    expect(window.take(0)).toBe(true);
    expect(window.take(0)).toBe(true);
    expect(window.take(0)).toBe(false);
    expect(window.nextAt(0)).toBe(1_000);
    expect(window.take(999)).toBe(false);
    expect(window.take(1_000)).toBe(true);
    expect(window.nextAt(1_000)).toBe(1_000);
    expect(window.take(1_000)).toBe(true);
    expect(window.nextAt(1_000)).toBe(2_000);
    expect(window.idle(1_999)).toBe(false);
    expect(window.idle(2_000)).toBe(true);
  });

  it("never lets more than count start in any window of perMs, whenever they are asked for", () => {
    // A token bucket of 5/s allows 9 in the first second (a burst of 5, then one per 200 ms).
    for (const rate of [
      { count: 5, perMs: 1_000 },
      { count: 7, perMs: 1_000 },
      { count: 3, perMs: 60_000 },
    ]) {
      const window = createRateWindow(rate);
      const starts: number[] = [];
      // Asked as often as possible: every millisecond, as many as it takes.
      for (let t = 0; t <= 5 * rate.perMs; t++) {
        while (window.take(t)) starts.push(t);
      }
      expect(mostInAnyWindow(starts, rate.perMs)).toBe(rate.count);
      // And it still delivers the rate: count per period.
      expect(starts.length).toBe(rate.count * 6);
    }
  });

  it("nextAt is exact: room is there at that time, not a millisecond before", () => {
    const window = createRateWindow({ count: 3, perMs: 1_000 });
    window.take(0);
    window.take(300);
    window.take(700);
    let now = 700;
    for (let i = 0; i < 18; i++) {
      const at = window.nextAt(now);
      expect(at).toBeGreaterThan(now);
      expect(window.take(at - 1)).toBe(false);
      expect(window.take(at)).toBe(true);
      now = at;
    }
    // The pattern of the first three repeats every perMs.
    expect(now).toBe(700 + 6 * 1_000);
  });

  it("holds no more than count starts however many it has counted", () => {
    const window = createRateWindow({ count: 2, perMs: 10 });
    for (let t = 0; t < 100_000; t++) window.take(t);
    expect(window.nextAt(100_000)).toBe(100_000);
    expect(window.idle(100_010)).toBe(true);
  });

  it("refuses rates that are not positive integers", () => {
    expect(() => createRateWindow({ count: 0, perMs: 1 })).toThrow(TypeError);
    expect(() => createRateWindow({ count: 1, perMs: 0.5 })).toThrow(TypeError);
  });
});
