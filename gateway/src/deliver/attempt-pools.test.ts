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

  it("moves attempts older than slowMs to the slow pool, oldest first, while it has room", () => {
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
    // The slow pool is full: a late attempt is marked, stays, and no timer is needed.
    expect(pools.settleSlow(2_000)).toBe(Number.POSITIVE_INFINITY);
    expect(other.slow).toBe(true);
    expect(pools.free()).toEqual({ fast: 1, slow: 0 });
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
