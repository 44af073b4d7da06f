import type { SinkLane } from "./sink-lane.js";

/** An attempt in flight, as the pools count it. */
export interface RunningAttempt {
  readonly lane: SinkLane;
  /** When it started (clock ms). */
  readonly at: number;
  /** Whether it counts in the slow pool (else the fast one). */
  slow: boolean;
  /** A slow lane's one attempt in the fast pool (see `hasRoom`). */
  readonly trial: boolean;
}

/**
 * The dispatcher's two pools of attempt slots, `size` each (`limits.maxDeliveriesInFlight`):
 * - the **fast** pool, for sinks that answer within `slowMs`: the limit the throughput was
 *   measured for (more parallel attempts to fast sinks only cost CPU);
 * - the **slow** pool, for sinks that do not: a sink that is slow or dead (it never answers, each
 *   attempt waits for its timeout) holds slots there, and can no longer take every slot of the
 *   fast pool, which would stop the deliveries to every other sink (README "Isolation").
 * A lane is slow (`lane.slow`) once one of its attempts has run longer than `slowMs`, until one
 * ends sooner. Its attempts start in the slow pool while it has room. An attempt of the fast pool
 * that runs past `slowMs` moves to the slow pool when `settleSlow` runs, **even when the slow
 * pool is full** (it then counts over its size): the fast pool is never held by attempts known to
 * be slow for longer than `slowMs` plus a pump, however many dead sinks there are. With the slow
 * pool full, a slow lane may still start one attempt at a time in the fast pool (a trial): a
 * sink that was slow once and is healthy again proves it there instead of waiting behind dead
 * sinks; if it is still slow, the trial moves out like any other. So the fast pool's size bounds
 * attempts to sinks answering in time; what runs past `slowMs` is bounded by the lanes' own
 * `delivery.concurrency`, as it always was.
 *
 * @example
 * const pools = createAttemptPools(32, 1_000);
 * if (pools.hasRoom(lane)) running = pools.start(lane, clock.now());
 * pools.finish(running, clock.now());
 */
export interface AttemptPools {
  /** Whether `lane` may start an attempt: its pool has a free slot (or, slow, a trial). */
  hasRoom(lane: SinkLane): boolean;
  /** Whether some lane could start one: either pool has a free slot. */
  anyRoom(): boolean;
  /** Whether some lane is slow (only slow lanes can start while the fast pool is full). */
  anySlowLane(): boolean;
  /** Forgets `lane` (its subscription is gone, or its sink changed). */
  forget(lane: SinkLane): void;
  /** Attempts running, both pools together. */
  running(): number;
  /** Whether the fast pool has no free slot. */
  fastFull(): boolean;
  /** Free slots of the fast and the slow pool (0 when over its size). */
  free(): { readonly fast: number; readonly slow: number };
  /** Counts a new attempt of `lane` in its pool. */
  start(lane: SinkLane, now: number): RunningAttempt;
  /** Frees its slot; the lane is slow if the attempt took longer than `slowMs`. */
  finish(attempt: RunningAttempt, now: number): void;
  /**
   * Marks the lanes of fast-pool attempts older than `slowMs` slow and moves those attempts to
   * the slow pool, oldest first, even past its size. Returns when the next one comes of age
   * (`Infinity`: none running).
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
  let slow = 0;
  /** The fast pool's attempts, oldest first (a Set keeps insertion order); its size is its count. */
  const fastRunning = new Set<RunningAttempt>();
  const fast = () => fastRunning.size;
  const slowLanes = new Set<SinkLane>();
  /** Slow lanes with a trial attempt running. */
  const trials = new Set<SinkLane>();
  const mark = (lane: SinkLane, isSlow: boolean) => {
    lane.slow = isSlow;
    if (isSlow) slowLanes.add(lane);
    else slowLanes.delete(lane);
  };

  return {
    hasRoom(lane) {
      if (!lane.slow) return fast() < size;
      return slow < size || (fast() < size && !trials.has(lane));
    },
    anyRoom: () => fast() < size || slow < size,
    anySlowLane: () => slowLanes.size > 0,
    forget(lane) {
      slowLanes.delete(lane);
      trials.delete(lane);
      lane.slow = false;
    },
    running: () => fast() + slow,
    fastFull: () => fast() >= size,
    free: () => ({ fast: Math.max(0, size - fast()), slow: Math.max(0, size - slow) }),

    start(lane, now) {
      const inSlow = lane.slow && slow < size;
      const trial = lane.slow && !inSlow;
      const attempt: RunningAttempt = { lane, at: now, slow: inSlow, trial };
      if (inSlow) slow++;
      else {
        fastRunning.add(attempt);
        if (trial) trials.add(lane);
      }
      return attempt;
    },

    finish(attempt, now) {
      if (attempt.slow) slow--;
      else fastRunning.delete(attempt);
      if (attempt.trial) trials.delete(attempt.lane);
      mark(attempt.lane, now - attempt.at > slowMs);
    },

    settleSlow(now) {
      for (const attempt of fastRunning) {
        const due = attempt.at + slowMs;
        if (due > now) return due;
        mark(attempt.lane, true);
        fastRunning.delete(attempt);
        attempt.slow = true;
        slow++;
      }
      return Number.POSITIVE_INFINITY;
    },
  };
}
