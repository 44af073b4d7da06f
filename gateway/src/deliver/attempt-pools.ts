import type { SinkLane } from "./sink-lane.js";

/** An attempt in flight, as the pools count it. */
export interface RunningAttempt {
  readonly lane: SinkLane;
  /** When it started (clock ms). */
  readonly at: number;
  /** Whether it counts in the slow pool (else the fast one). */
  slow: boolean;
}

/**
 * The dispatcher's two pools of attempt slots, `size` each (`limits.maxDeliveriesInFlight`):
 * - the **fast** pool, for sinks that answer within `slowMs`: the limit the throughput was
 *   measured for (more parallel attempts to fast sinks only cost CPU);
 * - the **slow** pool, for sinks that do not: a sink that is slow or dead (it never answers, each
 *   attempt waits for its timeout) holds slots there, and can no longer take every slot of the
 *   fast pool, which would stop the deliveries to every other sink (README "Isolation").
 * A lane is slow (`lane.slow`) once one of its attempts has run longer than `slowMs`, until one
 * ends sooner. Its attempts start in the slow pool; an attempt of a fast lane that runs past
 * `slowMs` moves there when `settleSlow` runs and the slow pool has room. So at most `2 * size`
 * attempts are in flight, and each lane is further held to its own `delivery.concurrency`.
 *
 * @example
 * const pools = createAttemptPools(32, 1_000);
 * if (pools.hasRoom(lane)) running = pools.start(lane, clock.now());
 * pools.finish(running, clock.now());
 */
export interface AttemptPools {
  /** Whether `lane` may start an attempt: its pool has a free slot. */
  hasRoom(lane: SinkLane): boolean;
  /** Whether some lane could start one: either pool has a free slot. */
  anyRoom(): boolean;
  /** Whether some lane is slow (only slow lanes can start while the fast pool is full). */
  anySlowLane(): boolean;
  /** Forgets `lane` (its subscription is gone). */
  forget(lane: SinkLane): void;
  /** Whether the fast pool has no free slot. */
  fastFull(): boolean;
  /** Free slots of the fast and the slow pool. */
  free(): { readonly fast: number; readonly slow: number };
  /** Counts a new attempt of `lane` in its pool. */
  start(lane: SinkLane, now: number): RunningAttempt;
  /** Frees its slot; the lane is slow if the attempt took longer than `slowMs`. */
  finish(attempt: RunningAttempt, now: number): void;
  /**
   * Marks the lanes of fast-pool attempts older than `slowMs` slow and moves those attempts to
   * the slow pool while it has room, oldest first. Returns when the next one comes of age
   * (`Infinity`: none running, or the slow pool is full). Needed only while the fast pool is full.
   */
  settleSlow(now: number): number;
}

export function createAttemptPools(size: number, slowMs: number): AttemptPools {
  if (!Number.isInteger(size) || size < 1) {
    throw new TypeError("createAttemptPools: size must be a positive integer");
  }
  if (!Number.isFinite(slowMs) || slowMs <= 0) {
    throw new TypeError("createAttemptPools: slowMs must be a positive number");
  }
  let fast = 0;
  let slow = 0;
  /** Attempts counted in the fast pool, oldest first (a Set keeps insertion order). */
  const fastRunning = new Set<RunningAttempt>();
  const slowLanes = new Set<SinkLane>();
  const mark = (lane: SinkLane, isSlow: boolean) => {
    lane.slow = isSlow;
    if (isSlow) slowLanes.add(lane);
    else slowLanes.delete(lane);
  };

  return {
    hasRoom: (lane) => (lane.slow ? slow < size : fast < size),
    anyRoom: () => fast < size || slow < size,
    anySlowLane: () => slowLanes.size > 0,
    forget: (lane) => slowLanes.delete(lane),
    fastFull: () => fast >= size,
    free: () => ({ fast: size - fast, slow: size - slow }),

    start(lane, now) {
      const attempt: RunningAttempt = { lane, at: now, slow: lane.slow };
      if (attempt.slow) slow++;
      else {
        fast++;
        fastRunning.add(attempt);
      }
      return attempt;
    },

    finish(attempt, now) {
      if (attempt.slow) slow--;
      else {
        fast--;
        fastRunning.delete(attempt);
      }
      mark(attempt.lane, now - attempt.at > slowMs);
    },

    settleSlow(now) {
      for (const attempt of fastRunning) {
        const due = attempt.at + slowMs;
        if (due > now) return due;
        mark(attempt.lane, true);
        if (slow >= size) return Number.POSITIVE_INFINITY;
        fastRunning.delete(attempt);
        attempt.slow = true;
        fast--;
        slow++;
      }
      return Number.POSITIVE_INFINITY;
    },
  };
}
