import { afterEach, describe, expect, it } from "vitest";
import type { CloudEvent } from "../event/cloud-event.js";
import { type Clock, systemClock } from "../ports/clock.js";
import type { DeliveryJob, DeliveryQueue, NewDeliveryJob } from "./delivery-queue.js";

/** A clock that moves only when told to, so lease expiry and due times are deterministic. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
}

/**
 * A `ManualClock` starting at `start` (epoch ms).
 *
 * @example
 * const clock = manualClock();
 * clock.advance(30_000);
 */
export function manualClock(start = Date.UTC(2030, 0, 1)): ManualClock {
  let now = start;
  return {
    now: () => now,
    advance(ms) {
      now += ms;
    },
  };
}

/** Builds a fresh, empty queue on the given clock. */
export type DeliveryQueueFactory = (clock: Clock) => DeliveryQueue | Promise<DeliveryQueue>;

const LEASE_MS = 30_000;

const event = (id: string, data?: CloudEvent["data"]): CloudEvent => ({
  attributes: { specversion: "1.0", id, source: "/orders", type: "com.example.order.created" },
  ...(data === undefined ? {} : { data }),
});

const job = (id: string, subscriptionId = "sub"): NewDeliveryJob => ({
  subscriptionId,
  event: event(id),
});

const eventIds = (jobs: readonly DeliveryJob[]) => jobs.map((j) => j.event.attributes.id);
const never = () => new AbortController().signal;

/**
 * The behaviour every `DeliveryQueue` implementation shares (memory now; SQLite, D1/Queues and
 * NATS later): run it from the implementation's test file with a factory for fresh queues.
 * Time-dependent cases use a `ManualClock`; the few that check that a waiting `lease` wakes up
 * for a due time use the system clock with delays of a few milliseconds.
 *
 * @example
 * // memory-queue.test.ts
 * describeDeliveryQueue("memory", (clock) => createMemoryQueue({ clock }));
 */
export function describeDeliveryQueue(
  name: string,
  factory: DeliveryQueueFactory,
  dispose?: (queue: DeliveryQueue) => void | Promise<void>,
): void {
  describe(`DeliveryQueue contract: ${name}`, () => {
    const created: DeliveryQueue[] = [];
    const make = async (clock: Clock = manualClock()) => {
      const queue = await factory(clock);
      created.push(queue);
      return queue;
    };
    afterEach(async () => {
      for (const queue of created.splice(0)) await dispose?.(queue);
    });

    describe("enqueue and lease", () => {
      it("hands out each job once, with a unique id and no attempts yet", async () => {
        const queue = await make();
        await queue.enqueue([job("1", "a"), job("2", "b")]);
        const jobs = await queue.lease(10, LEASE_MS, never());
        expect(jobs.map((j) => [j.subscriptionId, j.event.attributes.id, j.attempts])).toEqual([
          ["a", "1", 0],
          ["b", "2", 0],
        ]);
        expect(new Set(jobs.map((j) => j.id)).size).toBe(2);
        for (const j of jobs) expect(typeof j.id).toBe("string");
        await queue.enqueue([job("3")]);
        expect(eventIds(await queue.lease(10, LEASE_MS, never()))).toEqual(["3"]);
      });

      it("returns at most max jobs, oldest first", async () => {
        const queue = await make();
        await queue.enqueue([job("1"), job("2"), job("3")]);
        await queue.enqueue([job("4")]);
        expect(eventIds(await queue.lease(2, LEASE_MS, never()))).toEqual(["1", "2"]);
        expect(eventIds(await queue.lease(5, LEASE_MS, never()))).toEqual(["3", "4"]);
      });

      it("treats an empty enqueue as nothing", async () => {
        const queue = await make();
        await queue.enqueue([]);
        expect(await queue.size()).toBe(0);
      });

      it("keeps events intact: attributes of every type and each kind of data", async () => {
        const queue = await make();
        const events: CloudEvent[] = [
          {
            attributes: { ...event("1").attributes, count: 42, flag: true, subject: "Grüße 😀" },
            data: { kind: "json", value: { nested: [1, "two", null, { three: 3.5 }] } },
          },
          event("2", { kind: "text", value: "<xml/>" }),
          event("3", { kind: "binary", value: new Uint8Array([0, 1, 127, 128, 255]) }),
          event("4", { kind: "json", value: null }),
          event("5"),
        ];
        await queue.enqueue(events.map((e) => ({ subscriptionId: "sub", event: e })));
        const leased = await queue.lease(10, LEASE_MS, never());
        expect(leased.map((j) => j.event)).toEqual(events);
      });

      it("refuses a max or lease duration that makes no sense", async () => {
        const queue = await make();
        await expect(queue.lease(0, LEASE_MS, never())).rejects.toThrow(TypeError);
        await expect(queue.lease(1.5, LEASE_MS, never())).rejects.toThrow(TypeError);
        await expect(queue.lease(1, 0, never())).rejects.toThrow(TypeError);
      });
    });

    describe("leases", () => {
      it("does not hand out a leased job again while its lease lasts", async () => {
        const clock = manualClock();
        const queue = await make(clock);
        await queue.enqueue([job("1")]);
        await queue.lease(1, LEASE_MS, never());
        clock.advance(LEASE_MS - 1);
        const controller = new AbortController();
        const waiting = queue.lease(1, LEASE_MS, controller.signal);
        await queue.enqueue([job("2")]);
        expect(eventIds(await waiting)).toEqual(["2"]);
      });

      it("hands a job out again, same id and attempts, once its lease expired", async () => {
        const clock = manualClock();
        const queue = await make(clock);
        await queue.enqueue([job("1"), job("2")]);
        const [first] = await queue.lease(1, LEASE_MS, never());
        clock.advance(LEASE_MS);
        const again = await queue.lease(2, LEASE_MS, never());
        // Job 2 came due first (at enqueue); job 1 when its lease expired.
        expect(again.map((j) => [j.id, j.event.attributes.id, j.attempts])).toEqual([
          [again[0]?.id, "2", 0],
          [first?.id, "1", 0],
        ]);
      });

      it("never hands out a completed job again, even after its lease would have expired", async () => {
        const clock = manualClock();
        const queue = await make(clock);
        await queue.enqueue([job("1")]);
        const [leased] = await queue.lease(1, LEASE_MS, never());
        await queue.complete(leased?.id ?? "");
        clock.advance(LEASE_MS * 2);
        await queue.enqueue([job("2")]);
        expect(eventIds(await queue.lease(10, LEASE_MS, never()))).toEqual(["2"]);
      });

      it("lets the first holder still complete a job whose lease expired", async () => {
        const clock = manualClock();
        const queue = await make(clock);
        await queue.enqueue([job("1")]);
        const [leased] = await queue.lease(1, LEASE_MS, never());
        clock.advance(LEASE_MS);
        await queue.complete(leased?.id ?? "");
        expect(await queue.size()).toBe(0);
      });
    });

    describe("complete and size", () => {
      it("counts queued and leased jobs until they are completed", async () => {
        const queue = await make();
        await queue.enqueue([job("1"), job("2"), job("3")]);
        expect(await queue.size()).toBe(3);
        const [a, b] = await queue.lease(2, LEASE_MS, never());
        expect(await queue.size()).toBe(3);
        await queue.complete(a?.id ?? "");
        await queue.complete(b?.id ?? "");
        expect(await queue.size()).toBe(1);
      });

      it("treats completing twice, or an unknown id, as nothing", async () => {
        const queue = await make();
        await queue.enqueue([job("1"), job("2")]);
        const [a] = await queue.lease(1, LEASE_MS, never());
        await queue.complete(a?.id ?? "");
        await queue.complete(a?.id ?? "");
        await queue.complete("no-such-job");
        expect(await queue.size()).toBe(1);
      });
    });

    describe("reschedule", () => {
      it("raises attempts and keeps the job back until it is due", async () => {
        const clock = manualClock();
        const queue = await make(clock);
        await queue.enqueue([job("1")]);
        const [first] = await queue.lease(1, LEASE_MS, never());
        await queue.reschedule(first?.id ?? "", clock.now() + 1_000);
        expect(await queue.size()).toBe(1);
        clock.advance(999);
        await queue.enqueue([job("2")]);
        expect(eventIds(await queue.lease(10, LEASE_MS, never()))).toEqual(["2"]);
        clock.advance(1);
        const [again] = await queue.lease(10, LEASE_MS, never());
        expect([again?.id, again?.attempts]).toEqual([first?.id, 1]);
      });

      it("makes a job due at once for a due time that has passed, and counts every attempt", async () => {
        const clock = manualClock();
        const queue = await make(clock);
        await queue.enqueue([job("1")]);
        for (let attempt = 1; attempt <= 3; attempt++) {
          const [leased] = await queue.lease(1, LEASE_MS, never());
          await queue.reschedule(leased?.id ?? "", clock.now() - 1);
        }
        const [leased] = await queue.lease(1, LEASE_MS, never());
        expect(leased?.attempts).toBe(3);
      });

      it("cancels the lease: the job is not handed out at the old lease expiry", async () => {
        const clock = manualClock();
        const queue = await make(clock);
        await queue.enqueue([job("1")]);
        const [leased] = await queue.lease(1, 1_000, never());
        await queue.reschedule(leased?.id ?? "", clock.now() + 5_000);
        clock.advance(1_000);
        await queue.enqueue([job("2")]);
        expect(eventIds(await queue.lease(10, LEASE_MS, never()))).toEqual(["2"]);
      });

      it("treats an unknown id as nothing", async () => {
        const queue = await make();
        await queue.reschedule("no-such-job", 0);
        expect(await queue.size()).toBe(0);
      });
    });

    describe("waiting", () => {
      it("resolves a waiting lease as soon as a job is enqueued", async () => {
        const queue = await make();
        const waiting = queue.lease(5, LEASE_MS, never());
        await queue.enqueue([job("1"), job("2")]);
        expect(eventIds(await waiting)).toEqual(["1", "2"]);
      });

      it("shares jobs between waiting leases without handing one out twice", async () => {
        const queue = await make();
        const first = queue.lease(1, LEASE_MS, never());
        const second = queue.lease(1, LEASE_MS, never());
        await queue.enqueue([job("1"), job("2")]);
        const ids = [...eventIds(await first), ...eventIds(await second)];
        expect(ids.sort()).toEqual(["1", "2"]);
      });

      it("resolves with no jobs when the signal aborts while waiting", async () => {
        const queue = await make();
        const controller = new AbortController();
        const waiting = queue.lease(1, LEASE_MS, controller.signal);
        controller.abort();
        expect(await waiting).toEqual([]);
        await queue.enqueue([job("1")]);
        expect(eventIds(await queue.lease(1, LEASE_MS, never()))).toEqual(["1"]);
      });

      it("hands out nothing for an aborted signal, leaving due jobs queued", async () => {
        const queue = await make();
        await queue.enqueue([job("1")]);
        expect(await queue.lease(1, LEASE_MS, AbortSignal.abort())).toEqual([]);
        expect(eventIds(await queue.lease(1, LEASE_MS, never()))).toEqual(["1"]);
      });

      it("wakes a waiting lease when a rescheduled job comes due", async () => {
        const queue = await make(systemClock);
        await queue.enqueue([job("1")]);
        const [leased] = await queue.lease(1, LEASE_MS, never());
        const dueAt = Date.now() + 20;
        const waiting = queue.lease(1, LEASE_MS, never());
        await queue.reschedule(leased?.id ?? "", dueAt);
        const [again] = await waiting;
        expect(again?.id).toBe(leased?.id);
        expect(Date.now()).toBeGreaterThanOrEqual(dueAt);
      });

      it("wakes a waiting lease when a lease expires", async () => {
        const queue = await make(systemClock);
        await queue.enqueue([job("1")]);
        const leasedAt = Date.now();
        const [leased] = await queue.lease(1, 20, never());
        const [again] = await queue.lease(1, LEASE_MS, never());
        expect(again?.id).toBe(leased?.id);
        expect(Date.now()).toBeGreaterThanOrEqual(leasedAt + 20);
      });
    });
  });
}
