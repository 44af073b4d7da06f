import { createMemoryQueue, type MemoryQueue } from "../../src/deliver/memory-queue.js";
import type { CloudEvent } from "../../src/event/cloud-event.js";
import type { Clock } from "../../src/ports/clock.js";

/** The memory queue, with what the dispatcher asked of it. */
export interface TestQueue extends MemoryQueue {
  /** Every `lease` call's `skip` set, as passed. */
  readonly skips: ReadonlySet<string>[];
  /** Accepts the events for `subscriptionId` alone: one job each, due now. */
  add(subscriptionId: string, ...events: CloudEvent[]): Promise<void>;
}

/**
 * The real memory queue for dispatcher tests, recording each `lease`'s `skip` set.
 *
 * @example
 * const queue = createTestQueue(time.clock);
 * await queue.add("sub", event("1"));
 */
export function createTestQueue(clock?: Clock): TestQueue {
  const queue = createMemoryQueue(clock === undefined ? {} : { clock });
  const skips: ReadonlySet<string>[] = [];
  return Object.assign(Object.create(queue) as MemoryQueue, queue, {
    skips,
    lease(max: number, leaseMs: number, signal: AbortSignal, skip?: ReadonlySet<string>) {
      skips.push(new Set(skip));
      return queue.lease(max, leaseMs, signal, skip);
    },
    async add(subscriptionId: string, ...events: CloudEvent[]) {
      await queue.accept(events.map((event) => ({ event, subscriptionIds: [subscriptionId] })));
    },
  });
}
