import { Unavailable } from "../errors/errors.js";
import { type Clock, systemClock } from "../ports/clock.js";
import type { DeliveryJob, DeliveryQueue, NewDeliveryJob } from "./delivery-queue.js";
import { TimeLine } from "./time-line.js";

export interface MemoryQueueOptions {
  /** Decides when jobs are due and leases expire; defaults to the system clock. */
  readonly clock?: Clock;
  /**
   * Most jobs held at once (default 10 000). A full queue makes `enqueue` wait for room, which
   * slows publishers down to the delivery rate instead of letting memory grow without bound.
   */
  readonly capacity?: number;
  /** How long `enqueue` waits for room before refusing with `Unavailable` (default 5 s). */
  readonly maxWaitMs?: number;
}

/**
 * The in-memory queue: the `DeliveryQueue` port plus what only a queue without durability needs.
 */
export interface MemoryQueue extends DeliveryQueue {
  /**
   * Refuses every enqueue from now on with `Unavailable` (503), the ones already waiting for room
   * included, while `lease`, `complete`, `reschedule` and `size` go on so the queue can drain.
   * Call it when the gateway stops accepting events: nothing survives the process, so a job let in
   * after the dispatcher stopped would be lost after its publisher got a 202. Calling it again
   * does nothing.
   */
  stopAccepting(detail?: string): void;
}

/** An enqueue waiting for room; `admit` inserts its jobs and resolves it. */
interface RoomWaiter {
  readonly jobs: readonly NewDeliveryJob[];
  readonly admit: () => void;
  readonly refuse: (detail: string) => void;
}

interface Entry {
  /** What `lease` hands out; replaced when `attempts` changes. */
  job: DeliveryJob;
  /** Bumped on every state change; a ready or timed record with an older token is stale. */
  token: number;
  /** Whether a record of the current token sits in the timer line (leased or due later). */
  timed: boolean;
}

/**
 * A pointer to an entry in one state; stale once the entry moved on. By id, not by reference, so
 * a stale record does not keep a completed job's event alive.
 */
interface Slot {
  readonly id: string;
  readonly token: number;
}

interface Timed extends Slot {
  /** When the job becomes due, or its lease expires (epoch ms). */
  readonly at: number;
}

// setTimeout fires at once for delays that do not fit in a signed 32-bit integer.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * An in-memory `DeliveryQueue`: nothing survives the process, so it suits tests, the demo and
 * embedded use. Jobs due now wait in FIFO order; future due times and lease expiries sit in a
 * `TimeLine`, where lease expiries (which come in time order) cost O(1), so `lease` costs O(k)
 * for k jobs. A leased job whose lease expires before it is completed or rescheduled is handed
 * out again with the same id and attempt count (the holder may have crashed; at-least-once).
 * `lease` waits without polling: an enqueue or reschedule wakes it, and a single timer covers the
 * next due time or lease expiry. It holds at most `capacity` jobs: beyond that `enqueue` waits for
 * room (first come, first served), then refuses with `Unavailable` (503). `stopAccepting()` makes
 * every later or waiting enqueue refuse at once (shutdown).
 *
 * @example
 * const queue = createMemoryQueue({ clock: systemClock });
 * await queue.enqueue([{ subscriptionId: "thumbnails", event }]);
 * const [job] = await queue.lease(1, 30_000, signal);
 * await queue.complete(job.id);
 * queue.stopAccepting("the gateway is shutting down"); // at shutdown
 */
export function createMemoryQueue(options: MemoryQueueOptions = {}): MemoryQueue {
  const { clock = systemClock, capacity = 10_000, maxWaitMs = 5_000 } = options;
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new TypeError("createMemoryQueue: capacity must be a positive integer");
  }
  const entries = new Map<string, Entry>();
  /** Enqueues waiting for room, oldest first. */
  const roomWaiters: RoomWaiter[] = [];
  /** Set by `stopAccepting`: the detail every later enqueue is refused with. */
  let refusal: string | undefined;
  let ready: Slot[] = [];
  let readyHead = 0;
  const timers = new TimeLine<Timed>();
  let staleTimers = 0;
  const waiters = new Set<() => void>();
  let nextId = 0;
  let nextToken = 0;

  const isCurrent = (slot: Slot) => entries.get(slot.id)?.token === slot.token;

  function wake(): void {
    for (const waiter of waiters) waiter();
  }

  /** Moves the entry into a new state, marking any record of the old state stale. */
  function retoken(entry: Entry): number {
    if (entry.timed) {
      entry.timed = false;
      staleTimers++;
    }
    entry.token = ++nextToken;
    return entry.token;
  }

  function makeReady(entry: Entry): void {
    ready.push({ id: entry.job.id, token: retoken(entry) });
  }

  function makeTimed(entry: Entry, at: number): void {
    const token = retoken(entry);
    entry.timed = true;
    timers.push({ id: entry.job.id, token, at });
  }

  /** Drops stale records from the front of the timer line; returns the first current one. */
  function peekTimer(): Timed | undefined {
    for (let top = timers.peek(); top !== undefined; top = timers.peek()) {
      if (isCurrent(top)) return top;
      timers.pop();
      staleTimers--;
    }
    return undefined;
  }

  function compact(): void {
    // Completed leases leave stale timer records; rebuild when they are most of them.
    if (staleTimers > 1024 && staleTimers * 2 > timers.size) {
      timers.filter(isCurrent);
      staleTimers = 0;
    }
    if (readyHead > 1024 && readyHead * 2 > ready.length) {
      ready = ready.slice(readyHead);
      readyHead = 0;
    }
  }

  function take(max: number, leaseMs: number): DeliveryJob[] {
    const now = clock.now();
    // Due jobs and expired leases join the ready line, in the order they came due.
    for (let top = peekTimer(); top !== undefined && top.at <= now; top = peekTimer()) {
      timers.pop();
      const entry = entries.get(top.id) as Entry;
      entry.timed = false;
      makeReady(entry);
    }
    const jobs: DeliveryJob[] = [];
    while (jobs.length < max && readyHead < ready.length) {
      const slot = ready[readyHead++] as Slot;
      const entry = entries.get(slot.id);
      if (entry === undefined || entry.token !== slot.token) continue;
      makeTimed(entry, now + leaseMs);
      jobs.push(entry.job);
    }
    compact();
    return jobs;
  }

  /** Resolves on the next enqueue or reschedule, the next due time, or abort. */
  function waitForChange(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        waiters.delete(done);
        resolve();
      };
      waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
      const next = peekTimer();
      if (next !== undefined) {
        timer = setTimeout(done, Math.min(Math.max(next.at - clock.now(), 0), MAX_TIMER_MS));
      }
    });
  }

  /** Adds the jobs, due now, and wakes waiting leases. */
  function insert(jobs: readonly NewDeliveryJob[]): void {
    for (const { subscriptionId, event } of jobs) {
      const id = `job-${++nextId}`;
      const entry: Entry = {
        job: { id, subscriptionId, event, attempts: 0 },
        token: 0,
        timed: false,
      };
      entries.set(id, entry);
      makeReady(entry);
    }
    if (jobs.length > 0) wake();
  }

  const hasRoom = (need: number) => entries.size === 0 || entries.size + need <= capacity;

  /**
   * Admits waiting enqueues, oldest first, while the oldest fits. Admitting inserts the jobs at
   * once, so each waiter is measured against the room the ones before it took: `capacity` is a
   * hard limit, and an enqueue that arrives meanwhile cannot overtake (it queues behind them).
   */
  function admitRoomWaiters(): void {
    while (roomWaiters.length > 0 && hasRoom(roomWaiters[0]!.jobs.length)) {
      roomWaiters.shift()!.admit();
    }
  }

  /**
   * Waits (bounded) until the jobs fit, then inserts them; a batch larger than the capacity waits
   * for an empty queue.
   */
  function waitForRoom(jobs: readonly NewDeliveryJob[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: RoomWaiter = {
        jobs,
        admit: () => {
          clearTimeout(timer);
          insert(jobs);
          resolve();
        },
        refuse: (detail) => {
          clearTimeout(timer);
          reject(new Unavailable(detail, 1));
        },
      };
      const timer = setTimeout(() => {
        roomWaiters.splice(roomWaiters.indexOf(waiter), 1);
        reject(new Unavailable("the delivery queue is full; slow down and retry", 1));
        // The waiter may have held back smaller ones behind it that fit now.
        admitRoomWaiters();
      }, maxWaitMs);
      roomWaiters.push(waiter);
    });
  }

  return {
    async enqueue(jobs: readonly NewDeliveryJob[]): Promise<void> {
      if (refusal !== undefined) throw new Unavailable(refusal, 1);
      if (jobs.length === 0) return;
      if (roomWaiters.length > 0 || !hasRoom(jobs.length)) await waitForRoom(jobs);
      else insert(jobs);
    },

    async lease(max: number, leaseMs: number, signal: AbortSignal) {
      if (!Number.isInteger(max) || max < 1) {
        throw new TypeError("lease: max must be a positive integer");
      }
      if (!Number.isFinite(leaseMs) || leaseMs <= 0) {
        throw new TypeError("lease: leaseMs must be a positive number");
      }
      for (;;) {
        if (signal.aborted) return [];
        const jobs = take(max, leaseMs);
        if (jobs.length > 0) return jobs;
        await waitForChange(signal);
      }
    },

    async complete(jobId: string): Promise<void> {
      const entry = entries.get(jobId);
      if (entry === undefined) return;
      retoken(entry);
      entries.delete(jobId);
      if (roomWaiters.length > 0) admitRoomWaiters();
    },

    async reschedule(jobId: string, dueAt: number): Promise<void> {
      const entry = entries.get(jobId);
      if (entry === undefined) return;
      entry.job = { ...entry.job, attempts: entry.job.attempts + 1 };
      if (dueAt <= clock.now()) makeReady(entry);
      else makeTimed(entry, dueAt);
      // A waiting lease may need to wake earlier (or at once) for this job.
      wake();
    },

    async size(): Promise<number> {
      return entries.size;
    },

    stopAccepting(detail = "the delivery queue no longer accepts deliveries") {
      refusal ??= detail;
      for (const waiter of roomWaiters.splice(0)) waiter.refuse(refusal);
    },
  };
}
