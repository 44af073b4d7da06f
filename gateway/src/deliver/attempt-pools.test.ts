import { describe, expect, it } from "vitest";
import { subscription } from "../../test/support/dispatcher-kit.js";
import { createAttemptPools } from "./attempt-pools.js";
import { updateLane } from "./sink-lane.js";

const lane = (id: string) => updateLane(undefined, subscription(id), 0);

describe("createAttemptPools", () => {
  it("counts attempts of fast lanes in the fast pool, up to its size", () => {
    const pools = createAttemptPools(2, 1_000);
    const a = lane("a");
    pools.start(a, 0);
    pools.start(a, 0);
    expect(pools.hasRoom(a)).toBe(false);
    expect(pools.free()).toEqual({ fast: 0, slow: 2 });
    expect(pools.anyRoom()).toBe(true);
  });

  it("moves attempts older than slowMs to the slow pool, oldest first, even past its size", () => {
    const pools = createAttemptPools(2, 1_000);
    const dead = lane("dead");
    const other = lane("other");
    const first = pools.start(dead, 0);
    pools.start(other, 500);
    expect(pools.settleSlow(999)).toBe(1_000);
    expect(pools.settleSlow(1_000)).toBe(1_500);
    expect(first.slow).toBe(true);
    expect(dead.slow).toBe(true);
    expect(other.slow).toBe(false);
    expect(pools.free()).toEqual({ fast: 1, slow: 1 });
    // A slow lane's next attempt starts in the slow pool.
    pools.start(dead, 1_000);
    expect(pools.free()).toEqual({ fast: 1, slow: 0 });
    // The slow pool is full: a late fast-pool attempt still leaves the fast pool (counted over).
    expect(pools.settleSlow(2_000)).toBe(Number.POSITIVE_INFINITY);
    expect(other.slow).toBe(true);
    expect(pools.free()).toEqual({ fast: 2, slow: 0 });
    expect(pools.fastFull()).toBe(false);
  });

  it("never lets dead sinks hold the fast pool past slowMs, however many there are", () => {
    const pools = createAttemptPools(2, 100);
    const healthy = lane("healthy");
    // Six dead lanes, each starting in the fast pool as slots free, never finishing.
    let now = 0;
    for (let i = 0; i < 6; i++) {
      const dead = lane(`dead-${i}`);
      while (!pools.hasRoom(dead) && now < 10_000) {
        now += 50;
        pools.settleSlow(now);
      }
      pools.start(dead, now);
      pools.start(dead, now);
    }
    // Within slowMs of its last start, the fast pool is free for the healthy sink again.
    pools.settleSlow(now + 100);
    expect(pools.hasRoom(healthy)).toBe(true);
  });

  it("lets a slow lane try one attempt in the fast pool while the slow pool is full", () => {
    const pools = createAttemptPools(1, 100);
    const dead = lane("dead");
    const once = lane("once-slow");
    pools.finish(pools.start(once, 0), 500); // one answer over slowMs: marked slow
    expect(once.slow).toBe(true);
    pools.start(dead, 500);
    pools.settleSlow(600); // dead moves out: the slow pool is full
    expect(pools.free()).toEqual({ fast: 1, slow: 0 });
    expect(pools.hasRoom(once)).toBe(true);
    const trial = pools.start(once, 600);
    expect(trial.slow).toBe(false);
    expect(pools.hasRoom(once)).toBe(false); // one trial at a time
    pools.finish(trial, 610); // answered in time: fast again
    expect(once.slow).toBe(false);
    expect(pools.hasRoom(once)).toBe(true);
  });

  it("forgets a lane: no longer slow, no longer counted as a slow lane", () => {
    const pools = createAttemptPools(1, 100);
    const l = lane("l");
    pools.finish(pools.start(l, 0), 500);
    expect(pools.anySlowLane()).toBe(true);
    pools.forget(l);
    expect(l.slow).toBe(false);
    expect(pools.anySlowLane()).toBe(false);
  });

  it("frees the slot of the pool an attempt counts in; a quick answer makes its lane fast again", () => {
    const pools = createAttemptPools(1, 100);
    const l = lane("l");
    const slowOne = pools.start(l, 0);
    pools.settleSlow(200);
    pools.finish(slowOne, 5_000);
    expect(l.slow).toBe(true);
    expect(pools.free()).toEqual({ fast: 1, slow: 1 });
    const quick = pools.start(l, 5_000);
    expect(pools.free()).toEqual({ fast: 1, slow: 0 });
    pools.finish(quick, 5_010);
    expect(l.slow).toBe(false);
    expect(pools.free()).toEqual({ fast: 1, slow: 1 });
  });

  it("refuses a size or slowMs that is not positive", () => {
    expect(() => createAttemptPools(0, 1_000)).toThrow(TypeError);
    expect(() => createAttemptPools(2, 0)).toThrow(TypeError);
  });
});
