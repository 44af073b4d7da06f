import type {
  AcceptedEvent,
  DeliveryFailure,
  DeliveryJob,
  DeliveryQueue,
} from "../../src/deliver/delivery-queue.js";
import type { CloudEvent } from "../../src/event/cloud-event.js";
import type { Clock } from "../../src/ports/clock.js";

interface Entry {
  job: DeliveryJob;
  /** Due time, or lease expiry while leased (epoch ms). */
  at: number;
  leased: boolean;
  dead: boolean;
}

/** A `DeliveryQueue` for tests, with what it saw. */
export interface TestQueue extends DeliveryQueue {
  /** Every `lease` call's `skip` set, as passed. */
  readonly skips: ReadonlySet<string>[];
  /** Adds one job per event for `subscriptionId`, due now. */
  add(subscriptionId: string, ...events: CloudEvent[]): Promise<void>;
}

/**
 * A small, honest in-memory `DeliveryQueue` for dispatcher tests (no dedupe, no dead listing):
 * FIFO by due time, leases that expire, `skip` obeyed. A waiting `lease` wakes on `accept`,
 * `reschedule`, or a real timer at the next due time or lease expiry (by `clock`).
 *
 * @example
 * const queue = createTestQueue();
 * await queue.add("sub", event("1"));
 */
export function createTestQueue(clock: Clock = { now: () => Date.now() }): TestQueue {
  const entries = new Map<string, Entry>();
  const skips: ReadonlySet<string>[] = [];
  let seq = 0;
  let wakers: (() => void)[] = [];
  const notify = () => {
    const w = wakers;
    wakers = [];
    for (const wake of w) wake();
  };

  function take(
    max: number,
    leaseMs: number,
    skip: ReadonlySet<string> | undefined,
  ): DeliveryJob[] {
    const now = clock.now();
    const due = [...entries.values()]
      .filter((e) => !e.dead && e.at <= now && !skip?.has(e.job.subscriptionId))
      .sort((a, b) => a.at - b.at)
      .slice(0, max);
    for (const e of due) {
      e.leased = true;
      e.at = now + leaseMs;
    }
    return due.map((e) => e.job);
  }

  const queue: TestQueue = {
    skips,
    async add(subscriptionId, ...events) {
      await queue.accept(events.map((event) => ({ event, subscriptionIds: [subscriptionId] })));
    },
    async accept(events: readonly AcceptedEvent[]) {
      let jobs = 0;
      for (const { event, subscriptionIds } of events) {
        for (const subscriptionId of subscriptionIds) {
          const id = `job-${seq++}`;
          entries.set(id, {
            job: { id, subscriptionId, event, attempts: 0 },
            at: clock.now(),
            leased: false,
            dead: false,
          });
          jobs++;
        }
      }
      notify();
      return { events: events.length, duplicates: 0, jobs };
    },
    async lease(max, leaseMs, signal, skip) {
      skips.push(skip ?? new Set());
      for (;;) {
        if (signal.aborted) return [];
        const jobs = take(max, leaseMs, skip);
        if (jobs.length > 0) return jobs;
        const next = Math.min(
          ...[...entries.values()]
            .filter((e) => !e.dead && !skip?.has(e.job.subscriptionId))
            .map((e) => e.at),
        );
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            signal.removeEventListener("abort", done);
            resolve();
          };
          const timer = Number.isFinite(next)
            ? setTimeout(done, Math.max(0, next - clock.now()))
            : undefined;
          wakers.push(done);
          signal.addEventListener("abort", done, { once: true });
        });
      }
    },
    async complete(jobId) {
      entries.delete(jobId);
    },
    async reschedule(jobId, dueAt, failure: DeliveryFailure) {
      const e = entries.get(jobId);
      if (e === undefined) return;
      e.job = { ...e.job, attempts: e.job.attempts + 1, lastFailure: failure };
      e.at = dueAt;
      e.leased = false;
      notify();
    },
    async bury(jobId, failure) {
      const e = entries.get(jobId);
      if (e === undefined) return;
      e.job = { ...e.job, attempts: e.job.attempts + 1, lastFailure: failure };
      e.dead = true;
    },
    async dead() {
      return [];
    },
    async redrive() {
      return 0;
    },
    async drop(subscriptionId) {
      let n = 0;
      for (const [id, e] of entries) {
        if (e.job.subscriptionId === subscriptionId) {
          entries.delete(id);
          n++;
        }
      }
      return n;
    },
    async size() {
      return [...entries.values()].filter((e) => !e.dead).length;
    },
  };
  return queue;
}
