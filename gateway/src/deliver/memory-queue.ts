import { Unavailable } from "../errors/errors.js";
import { type Clock, systemClock } from "../ports/clock.js";
import { checkDedupeWindow, DEFAULT_DEDUPE_WINDOW_MS } from "../store/dedupe-window.js";
import {
  type Acceptance,
  type AcceptedEvent,
  checkLeaseArguments,
  type DeadJob,
  type DeliveryFailure,
  type DeliveryJob,
  type DeliveryQueue,
  deadPageStart,
  takeDeadPage,
} from "./delivery-queue.js";
import { MemoryDeadSet } from "./memory-dead-set.js";
import { DedupeKeys } from "./memory-dedupe.js";
import { ReadyLine, type ReadySlot } from "./memory-ready-line.js";
import { nextTurn } from "./next-turn.js";
import { TimeLine } from "./time-line.js";
import { waitForWake } from "./wait-for-wake.js";

export interface MemoryQueueOptions {
  /** Decides when jobs are due, leases expire and dedupe keys lapse; defaults to the system clock. */
  readonly clock?: Clock;
  /**
   * Most jobs held at once, live (queued or leased) and dead (default 10 000). A full queue makes
   * `accept` wait for room, which slows publishers down to the delivery rate instead of letting
   * memory grow without bound. Dead jobs hold their room until redriven, discarded or dropped,
   * as dead messages count against a NATS stream's `max_bytes`: a sink that fails everything
   * filled memory with dead jobs without any bound before.
   */
  readonly capacity?: number;
  /** How long `accept` waits for room before refusing with `Unavailable` (default 5 s). */
  readonly maxWaitMs?: number;
  /** How long a `source` + `id` pair makes a later event a duplicate (default 24 h). */
  readonly dedupeWindowMs?: number;
  /**
   * Most dedupe keys remembered (default 100 000, some 15 MB): beyond it the oldest are forgotten
   * before their window ends, so memory stays bounded whatever the accept rate.
   */
  readonly maxDedupeKeys?: number;
}

/**
 * The in-memory queue: the `DeliveryQueue` port plus what only a queue without durability needs.
 */
export interface MemoryQueue extends DeliveryQueue {
  /**
   * Refuses every accept from now on with `Unavailable` (503), the ones already waiting for room
   * included, while the other methods go on so the queue can drain (the replies and receipts of
   * the deliveries draining, `settling` accepts, are still taken). Call it when the gateway stops
   * accepting events: nothing survives the process, so an event let in after the dispatcher
   * stopped would be lost after its publisher got a 202. Calling it again does nothing.
   */
  stopAccepting(detail?: string): void;
}

/** An accept waiting for room; `admit` stores its events and resolves it. */
interface RoomWaiter {
  readonly need: number;
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

interface Timed {
  readonly id: string;
  readonly token: number;
  /** When the job becomes due, or its lease expires (epoch ms). */
  readonly at: number;
}

/**
 * Dead jobs a redrive of a whole dead set puts back per turn of the event loop: all at once held
 * it as long as the set took (~110 ms at 50,000 dead jobs, no request answered meanwhile).
 */
const DEAD_CHUNK = 1_000;

/**
 * An in-memory `DeliveryQueue`: nothing survives the process, so it suits tests, the demo and
 * embedded use. Jobs due now wait in a `ReadyLine` (FIFO, with skipped subscriptions parked aside);
 * future due times and lease expiries sit in a `TimeLine`, where lease expiries (which come in time
 * order) cost O(1), so `lease` costs O(k) for k jobs. A leased job whose lease expires before it is
 * completed, rescheduled or buried is handed out again with the same id and attempt count (the
 * holder may have crashed; at-least-once). `lease` waits without polling: an accept, reschedule or
 * redrive wakes it, and a single timer covers the next due time or lease expiry. It holds at most
 * `capacity` jobs, dead ones included: beyond that `accept` waits for room (first come, first
 * served), then refuses with `Unavailable` (503). `stopAccepting()` makes every later or waiting
 * accept refuse at once (shutdown). A `settling` accept (a reply, a receipt) is taken at once in
 * both cases, past the capacity if need be (see `AcceptOptions`). Dead jobs are kept (and take
 * room) until redriven, discarded or dropped; a page of them costs O(log n + the page) wherever
 * it starts (`MemoryDeadSet`), dropping a subscription O(its jobs).
 *
 * @example
 * const queue = createMemoryQueue({ clock: systemClock });
 * await queue.accept([{ event, subscriptionIds: ["thumbnails"] }]);
 * const [job] = await queue.lease(1, 30_000, signal);
 * await queue.complete(job.id);
 * queue.stopAccepting("the gateway is shutting down"); // at shutdown
 */
export function createMemoryQueue(options: MemoryQueueOptions = {}): MemoryQueue {
  const { clock = systemClock, capacity = 10_000, maxWaitMs = 5_000 } = options;
  const { maxDedupeKeys = 100_000 } = options;
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new TypeError("createMemoryQueue: capacity must be a positive integer");
  }
  if (!Number.isInteger(maxDedupeKeys) || maxDedupeKeys < 1) {
    throw new TypeError("createMemoryQueue: maxDedupeKeys must be a positive integer");
  }
  const windowMs = options.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
  const dedupe = new DedupeKeys(checkDedupeWindow("createMemoryQueue", windowMs), maxDedupeKeys);
  /** Live jobs (queued or leased). */
  const entries = new Map<string, Entry>();
  /** Dead jobs by subscription, then by job id. */
  const dead = new Map<string, MemoryDeadSet>();
  /** How many jobs `dead` holds (they take room as live ones do). */
  let deadCount = 0;
  /** Accepts waiting for room, oldest first. */
  const roomWaiters: RoomWaiter[] = [];
  /** Set by `stopAccepting`: the detail every later accept is refused with. */
  let refusal: string | undefined;
  const isCurrent = (slot: { id: string; token: number }) =>
    entries.get(slot.id)?.token === slot.token;
  const ready = new ReadyLine(isCurrent);
  const timers = new TimeLine<Timed>();
  let staleTimers = 0;
  const waiters = new Set<() => void>();
  let nextId = 0;
  let nextToken = 0;

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
    const { id, subscriptionId } = entry.job;
    ready.push({ id, subscriptionId, token: retoken(entry) });
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

  function take(max: number, leaseMs: number, skip?: ReadonlySet<string>): DeliveryJob[] {
    const now = clock.now();
    // Due jobs and expired leases join the ready line, in the order they came due.
    for (let top = peekTimer(); top !== undefined && top.at <= now; top = peekTimer()) {
      timers.pop();
      const entry = entries.get(top.id) as Entry;
      entry.timed = false;
      makeReady(entry);
    }
    const jobs: DeliveryJob[] = [];
    ready.take(max, skip, (slot: ReadySlot) => {
      const entry = entries.get(slot.id) as Entry;
      makeTimed(entry, now + leaseMs);
      jobs.push(entry.job);
    });
    // Completed leases leave stale timer records; rebuild when they are most of them.
    if (staleTimers > 1024 && staleTimers * 2 > timers.size) {
      timers.filter(isCurrent);
      staleTimers = 0;
    }
    return jobs;
  }

  /** Resolves on the next accept, reschedule or redrive, the next due time, or abort. */
  function waitForChange(signal: AbortSignal): Promise<void> {
    const next = peekTimer();
    return waitForWake(waiters, signal, next === undefined ? undefined : next.at - clock.now());
  }

  function addJob(job: DeliveryJob): void {
    const entry: Entry = { job, token: 0, timed: false };
    entries.set(job.id, entry);
    makeReady(entry);
  }

  /** Stores the events that are not duplicates, with their jobs due now; wakes waiting leases. */
  function store(events: readonly AcceptedEvent[]): Acceptance {
    const now = clock.now();
    let stored = 0;
    let duplicates = 0;
    let jobs = 0;
    for (const { event, subscriptionIds } of events) {
      const { source, id } = event.attributes;
      if (!dedupe.claim(String(source), String(id), now)) {
        duplicates++;
        continue;
      }
      stored++;
      for (const subscriptionId of subscriptionIds) {
        addJob({ id: String(++nextId), subscriptionId, event, attempts: 0 });
        jobs++;
      }
    }
    if (jobs > 0) wake();
    return { events: stored, duplicates, jobs };
  }

  const hasRoom = (need: number) => {
    const held = entries.size + deadCount;
    return held === 0 || held + need <= capacity;
  };

  /** Dead jobs left the queue (completed by hand, discarded, dropped): their room is free. */
  function deadGone(n: number): void {
    if (n === 0) return;
    deadCount -= n;
    if (roomWaiters.length > 0) admitRoomWaiters();
  }

  /**
   * Admits waiting accepts, oldest first, while the oldest fits. Admitting stores the events at
   * once, so each waiter is measured against the room the ones before it took: `capacity` is a
   * hard limit, and an accept that arrives meanwhile cannot overtake (it queues behind them).
   */
  function admitRoomWaiters(): void {
    while (roomWaiters.length > 0 && hasRoom(roomWaiters[0]!.need)) {
      roomWaiters.shift()!.admit();
    }
  }

  /**
   * Waits (bounded) until `need` jobs fit, then stores the events; a batch larger than the
   * capacity waits for an empty queue. `need` counts duplicates too (they are known only once
   * admitted), which at worst makes a batch wait a little longer than it had to.
   */
  function waitForRoom(events: readonly AcceptedEvent[], need: number): Promise<Acceptance> {
    return new Promise<Acceptance>((resolve, reject) => {
      const waiter: RoomWaiter = {
        need,
        admit: () => {
          clearTimeout(timer);
          resolve(store(events));
        },
        refuse: (detail) => {
          clearTimeout(timer);
          reject(new Unavailable(detail, 1));
        },
      };
      const timer = setTimeout(() => {
        roomWaiters.splice(roomWaiters.indexOf(waiter), 1);
        reject(new Unavailable(fullDetail(), 1));
        // The waiter may have held back smaller ones behind it that fit now.
        admitRoomWaiters();
      }, maxWaitMs);
      roomWaiters.push(waiter);
    });
  }

  /** Why a full queue refused: dead jobs named when they hold some of its room. */
  function fullDetail(): string {
    if (deadCount === 0) return "the delivery queue is full; slow down and retry";
    return `the delivery queue is full (${deadCount} of its ${capacity} jobs are dead deliveries: redrive or delete them); slow down and retry`;
  }

  /** Makes the dead jobs `ids` (oldest first, each still dead) due again with fresh attempts. */
  function revive(subscriptionId: string, ids: readonly string[]): number {
    const jobs = dead.get(subscriptionId);
    if (jobs === undefined || ids.length === 0) return 0;
    for (const id of ids) {
      const { failure, lastFailure, ...job } = jobs.get(id) as DeadJob;
      jobs.delete(id);
      deadCount--;
      addJob({ ...job, attempts: 0 });
    }
    if (jobs.size === 0) dead.delete(subscriptionId);
    wake();
    return ids.length;
  }

  /** Takes a live job out of the live set (completed, buried or dropped). */
  function remove(entry: Entry): void {
    retoken(entry);
    entries.delete(entry.job.id);
  }

  return {
    async accept(events, options) {
      // The gateway's own events, from settling a job that holds its room: never held back.
      if (options?.settling === true) return store(events);
      if (refusal !== undefined) throw new Unavailable(refusal, 1);
      let need = 0;
      for (const { subscriptionIds } of events) need += subscriptionIds.length;
      if (roomWaiters.length > 0 || !hasRoom(need)) return waitForRoom(events, need);
      return store(events);
    },

    async lease(max, leaseMs, signal, skip) {
      checkLeaseArguments(max, leaseMs);
      for (;;) {
        if (signal.aborted) return [];
        const jobs = take(max, leaseMs, skip);
        if (jobs.length > 0) return jobs;
        await waitForChange(signal);
      }
    },

    async complete(jobId) {
      const entry = entries.get(jobId);
      if (entry === undefined) {
        // A dead job taken by hand is finished too.
        for (const jobs of dead.values()) if (jobs.delete(jobId)) return deadGone(1);
        return;
      }
      remove(entry);
      if (roomWaiters.length > 0) admitRoomWaiters();
    },

    async reschedule(jobId: string, dueAt: number, failure: DeliveryFailure) {
      const entry = entries.get(jobId);
      if (entry === undefined) return;
      entry.job = { ...entry.job, attempts: entry.job.attempts + 1, lastFailure: failure };
      if (dueAt <= clock.now()) makeReady(entry);
      else makeTimed(entry, dueAt);
      // A waiting lease may need to wake earlier (or at once) for this job.
      wake();
    },

    async bury(jobId, failure) {
      const entry = entries.get(jobId);
      if (entry === undefined) return;
      remove(entry);
      const job = entry.job;
      const jobs = dead.get(job.subscriptionId) ?? new MemoryDeadSet();
      dead.set(job.subscriptionId, jobs);
      jobs.add({ ...job, attempts: job.attempts + 1, lastFailure: failure, failure });
      // Its room stays taken: a dead job is held until it is redriven, discarded or dropped.
      deadCount++;
    },

    async dead(subscriptionId, page) {
      const from = deadPageStart(page.after);
      const jobs = dead.get(subscriptionId);
      if (jobs === undefined) return [];
      // In id order from `from` on, read no further than the page (not every dead job sorted).
      return takeDeadPage(jobs.after(from), page, (job) => job);
    },

    async findDead(subscriptionId, jobId) {
      return dead.get(subscriptionId)?.get(jobId);
    },

    async redrive(subscriptionId, jobIds) {
      const jobs = dead.get(subscriptionId);
      if (jobs === undefined) return 0;
      if (jobIds !== undefined) {
        const named = [...new Set(jobIds)].filter((id) => jobs.has(id));
        return revive(
          subscriptionId,
          named.sort((a, b) => Number(a) - Number(b)),
        );
      }
      // The whole set, `DEAD_CHUNK` jobs per turn of the event loop, oldest first, up to the
      // newest job dead when it began (jobs dying meanwhile cannot keep it going; one with a
      // lower id may be taken too). Each job goes once: the chunks walk up the ids and take only
      // jobs still dead, so a discard, drop or other redrive meanwhile takes the others.
      const to = jobs.newestId();
      let total = 0;
      for (let from = 0; from < to; ) {
        const chunk: string[] = [];
        for (const job of dead.get(subscriptionId)?.after(from) ?? []) {
          if (Number(job.id) > to || chunk.length === DEAD_CHUNK) break;
          chunk.push(job.id);
        }
        total += revive(subscriptionId, chunk);
        if (chunk.length < DEAD_CHUNK) break;
        from = Number(chunk[chunk.length - 1]);
        await nextTurn();
      }
      return total;
    },

    async discardDead(subscriptionId, jobIds) {
      const jobs = dead.get(subscriptionId);
      if (jobs === undefined) return 0;
      let discarded = 0;
      if (jobIds === undefined) {
        discarded = jobs.size;
        jobs.clear();
      } else {
        for (const id of new Set(jobIds)) if (jobs.delete(id)) discarded++;
      }
      if (jobs.size === 0) dead.delete(subscriptionId);
      deadGone(discarded);
      return discarded;
    },

    async drop(subscriptionId) {
      let dropped = dead.get(subscriptionId)?.size ?? 0;
      dead.delete(subscriptionId);
      deadCount -= dropped;
      for (const entry of entries.values()) {
        if (entry.job.subscriptionId !== subscriptionId) continue;
        remove(entry);
        dropped++;
      }
      ready.forget(subscriptionId);
      if (roomWaiters.length > 0) admitRoomWaiters();
      return dropped;
    },

    async size() {
      return entries.size;
    },

    stopAccepting(detail = "the delivery queue no longer accepts events") {
      refusal ??= detail;
      for (const waiter of roomWaiters.splice(0)) waiter.refuse(refusal);
    },
  };
}
