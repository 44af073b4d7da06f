import { getEventListeners } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { MalformedRequest } from "../errors/errors.js";
import type { CloudEvent } from "../event/cloud-event.js";
import { type Clock, systemClock } from "../ports/clock.js";
import type {
  AcceptedEvent,
  DeliveryFailure,
  DeliveryJob,
  DeliveryQueue,
} from "./delivery-queue.js";
import { deadJobSize } from "./delivery-queue.js";
import { findDeadCases } from "./find-dead.case.js";

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

/** What the suite asks of a fresh queue besides its clock. */
export interface DeliveryQueueSetup {
  readonly dedupeWindowMs: number;
}

/**
 * What a queue cannot do the way the suite asks, each with the reason; the cases that depend on
 * it are skipped for that queue only (and the queue's own tests cover the behaviour instead).
 */
export interface DeliveryQueueCapabilities {
  /**
   * Whose clock ends the dedupe window: `injected` (default) follows the factory's clock, so
   * the suite can move past the window at once; `server` follows a server's own clock (JetStream's
   * duplicate window), which a `ManualClock` cannot move.
   */
  readonly dedupeClock?: "injected" | "server";
}

/** Builds a fresh, empty queue on the given clock. */
export type DeliveryQueueFactory = (
  clock: Clock,
  setup: DeliveryQueueSetup,
) => DeliveryQueue | Promise<DeliveryQueue>;

const LEASE_MS = 30_000;
const WINDOW_MS = 60_000;

const event = (id: string, data?: CloudEvent["data"], source = "/orders"): CloudEvent => ({
  attributes: { specversion: "1.0", id, source, type: "com.example.order.created" },
  ...(data === undefined ? {} : { data }),
});

const accepted = (id: string, ...subscriptionIds: string[]): AcceptedEvent => ({
  event: event(id),
  subscriptionIds: subscriptionIds.length === 0 ? ["sub"] : subscriptionIds,
});

const failure = (status: number, at = 0): DeliveryFailure => ({
  status,
  error: `got ${status}`,
  at,
});
const eventIds = (jobs: readonly DeliveryJob[]) => jobs.map((j) => j.event.attributes.id);
const never = () => new AbortController().signal;

/**
 * The behaviour every `DeliveryQueue` implementation shares (memory, SQLite; D1/Queues and NATS
 * later): run it from the implementation's test file with a factory for fresh queues.
 * Time-dependent cases use a `ManualClock`; the two that check that a waiting `lease` wakes up
 * for a due time use the system clock with delays of a few milliseconds (the timer is what they
 * test).
 *
 * @example
 * // memory-queue.test.ts
 * describeDeliveryQueue("memory", (clock, { dedupeWindowMs }) =>
 *   createMemoryQueue({ clock, dedupeWindowMs }),
 * );
 */
export function describeDeliveryQueue(
  name: string,
  factory: DeliveryQueueFactory,
  dispose?: (queue: DeliveryQueue) => void | Promise<void>,
  capabilities: DeliveryQueueCapabilities = {},
): void {
  describe(`DeliveryQueue contract: ${name}`, () => {
    const created: DeliveryQueue[] = [];
    const make = async (clock: Clock = manualClock()) => {
      const queue = await factory(clock, { dedupeWindowMs: WINDOW_MS });
      created.push(queue);
      return queue;
    };
    afterEach(async () => {
      for (const queue of created.splice(0)) await dispose?.(queue);
    });

    describe("accept and lease", () => {
      it("hands out each job once, with a unique id and no attempts yet", async () => {
        const queue = await make();
        await queue.accept([accepted("1", "a"), accepted("2", "b")]);
        const jobs = await queue.lease(10, LEASE_MS, never());
        expect(jobs.map((j) => [j.subscriptionId, j.event.attributes.id, j.attempts])).toEqual([
          ["a", "1", 0],
          ["b", "2", 0],
        ]);
        expect(new Set(jobs.map((j) => j.id)).size).toBe(2);
        for (const j of jobs) {
          expect(typeof j.id).toBe("string");
          expect(j.lastFailure).toBeUndefined();
        }
        await queue.accept([accepted("3")]);
        expect(eventIds(await queue.lease(10, LEASE_MS, never()))).toEqual(["3"]);
      });

      it("makes one job per matching subscription and says what it stored", async () => {
        const queue = await make();
        const acceptance = await queue.accept([accepted("1", "a", "b", "c"), accepted("2", "a")]);
        expect(acceptance).toEqual({ events: 2, duplicates: 0, jobs: 4 });
        const jobs = await queue.lease(10, LEASE_MS, never());
        expect(jobs.map((j) => `${j.event.attributes.id}:${j.subscriptionId}`).sort()).toEqual([
          "1:a",
          "1:b",
          "1:c",
          "2:a",
        ]);
        expect(await queue.size()).toBe(4);
      });

      it("stores a whole batch in one call", async () => {
        const queue = await make();
        const batch = Array.from({ length: 50 }, (_, i) => accepted(String(i), "a", "b"));
        expect(await queue.accept(batch)).toEqual({ events: 50, duplicates: 0, jobs: 100 });
        expect(await queue.size()).toBe(100);
      });

      it("returns at most max jobs, oldest first", async () => {
        const queue = await make();
        await queue.accept([accepted("1"), accepted("2"), accepted("3")]);
        await queue.accept([accepted("4")]);
        expect(eventIds(await queue.lease(2, LEASE_MS, never()))).toEqual(["1", "2"]);
        expect(eventIds(await queue.lease(5, LEASE_MS, never()))).toEqual(["3", "4"]);
      });

      it("treats an empty accept as nothing", async () => {
        const queue = await make();
        expect(await queue.accept([])).toEqual({ events: 0, duplicates: 0, jobs: 0 });
        expect(await queue.size()).toBe(0);
      });

      it("keeps events intact: attributes of every type and each kind of data", async () => {
        const queue = await make();
        const events: CloudEvent[] = [
          {
            attributes: { ...event("1").attributes, count: 42, flag: true, subject: "Grüße 😀" },
            data: { kind: "json", value: { nested: [1, "two", null, { three: 3.5 }] } },
          },
          event("2", { kind: "text", value: "<xml/>\n" }),
          event("3", { kind: "binary", value: new Uint8Array([0, 1, 127, 128, 255]) }),
          event("4", { kind: "json", value: null }),
          event("5", { kind: "json", value: { a: 1 }, text: '{ "a": 1.0 }' }),
          event("6"),
          event("7", { kind: "binary", value: new Uint8Array(0) }),
          event("8", { kind: "text", value: "" }),
        ];
        await queue.accept(events.map((e) => ({ event: e, subscriptionIds: ["sub"] })));
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

    describe("dedupe", () => {
      it("counts an event seen within the window as a duplicate: not stored, no jobs", async () => {
        const clock = manualClock();
        const queue = await make(clock);
        await queue.accept([accepted("1", "a", "b")]);
        clock.advance(WINDOW_MS - 1);
        expect(await queue.accept([accepted("1", "a", "b"), accepted("2", "a")])).toEqual({
          events: 1,
          duplicates: 1,
          jobs: 1,
        });
        expect(await queue.size()).toBe(3);
      });

      it("counts a second copy within one call as a duplicate", async () => {
        const queue = await make();
        expect(await queue.accept([accepted("1"), accepted("1"), accepted("2")])).toEqual({
          events: 2,
          duplicates: 1,
          jobs: 2,
        });
      });

      it("tells events apart by source and id together", async () => {
        const queue = await make();
        const other = { event: event("1", undefined, "/other"), subscriptionIds: ["sub"] };
        expect(await queue.accept([accepted("1"), other])).toMatchObject({ duplicates: 0 });
      });

      // A server-timed window cannot be moved by the ManualClock: such a queue tests its window
      // with a short real one in its own tests.
      it.skipIf(capabilities.dedupeClock === "server")(
        "accepts the pair again once the window has passed",
        async () => {
          const clock = manualClock();
          const queue = await make(clock);
          await queue.accept([accepted("1")]);
          clock.advance(WINDOW_MS);
          expect(await queue.accept([accepted("1")])).toEqual({
            events: 1,
            duplicates: 0,
            jobs: 1,
          });
          clock.advance(WINDOW_MS - 1);
          expect(await queue.accept([accepted("1")])).toMatchObject({ duplicates: 1 });
        },
      );

      it("remembers an event that matched no subscription", async () => {
        const queue = await make();
        const unmatched = { event: event("1"), subscriptionIds: [] };
        expect(await queue.accept([unmatched])).toEqual({ events: 1, duplicates: 0, jobs: 0 });
        expect(await queue.accept([accepted("1")])).toEqual({ events: 0, duplicates: 1, jobs: 0 });
        expect(await queue.size()).toBe(0);
      });

      it("keeps dedupe after the event's jobs are completed", async () => {
        const queue = await make();
        await queue.accept([accepted("1")]);
        const [job] = await queue.lease(1, LEASE_MS, never());
        await queue.complete(job?.id ?? "");
        expect(await queue.accept([accepted("1")])).toMatchObject({ duplicates: 1 });
      });
    });

    describe("skip", () => {
      it("leaves the jobs of skipped subscriptions for later, oldest first", async () => {
        const queue = await make();
        await queue.accept([accepted("1", "slow"), accepted("2", "slow"), accepted("3", "ok")]);
        const first = await queue.lease(10, LEASE_MS, never(), new Set(["slow"]));
        expect(first.map((j) => j.subscriptionId)).toEqual(["ok"]);
        await queue.accept([accepted("4", "ok")]);
        expect(eventIds(await queue.lease(10, LEASE_MS, never(), new Set(["slow"])))).toEqual([
          "4",
        ]);
        expect(eventIds(await queue.lease(10, LEASE_MS, never()))).toEqual(["1", "2"]);
      });

      it("keeps a lease waiting when only skipped subscriptions have due jobs", async () => {
        const queue = await make();
        await queue.accept([accepted("1", "slow")]);
        const waiting = queue.lease(10, LEASE_MS, never(), new Set(["slow"]));
        await queue.accept([accepted("2", "slow"), accepted("3", "ok")]);
        expect(eventIds(await waiting)).toEqual(["3"]);
      });
    });

    describe("leases", () => {
      it("does not hand out a leased job again while its lease lasts", async () => {
        const clock = manualClock();
        const queue = await make(clock);
        await queue.accept([accepted("1")]);
        await queue.lease(1, LEASE_MS, never());
        clock.advance(LEASE_MS - 1);
        const waiting = queue.lease(1, LEASE_MS, never());
        await queue.accept([accepted("2")]);
        expect(eventIds(await waiting)).toEqual(["2"]);
      });

      it("hands a job out again, same id and attempts, once its lease expired", async () => {
        const clock = manualClock();
        const queue = await make(clock);
        await queue.accept([accepted("1"), accepted("2")]);
        const [first] = await queue.lease(1, LEASE_MS, never());
        clock.advance(LEASE_MS);
        const again = await queue.lease(2, LEASE_MS, never());
        // Job 2 came due first (at accept); job 1 when its lease expired.
        expect(again.map((j) => [j.id, j.event.attributes.id, j.attempts])).toEqual([
          [again[0]?.id, "2", 0],
          [first?.id, "1", 0],
        ]);
      });

      it("never hands out a completed job again, even after its lease would have expired", async () => {
        const clock = manualClock();
        const queue = await make(clock);
        await queue.accept([accepted("1")]);
        const [leased] = await queue.lease(1, LEASE_MS, never());
        await queue.complete(leased?.id ?? "");
        clock.advance(LEASE_MS * 2);
        await queue.accept([accepted("2")]);
        expect(eventIds(await queue.lease(10, LEASE_MS, never()))).toEqual(["2"]);
      });

      it("lets the first holder still complete a job whose lease expired", async () => {
        const clock = manualClock();
        const queue = await make(clock);
        await queue.accept([accepted("1")]);
        const [leased] = await queue.lease(1, LEASE_MS, never());
        clock.advance(LEASE_MS);
        await queue.complete(leased?.id ?? "");
        expect(await queue.size()).toBe(0);
      });
    });

    describe("complete and size", () => {
      it("counts queued and leased jobs until they are completed", async () => {
        const queue = await make();
        await queue.accept([accepted("1"), accepted("2"), accepted("3")]);
        expect(await queue.size()).toBe(3);
        const [a, b] = await queue.lease(2, LEASE_MS, never());
        expect(await queue.size()).toBe(3);
        await queue.complete(a?.id ?? "");
        await queue.complete(b?.id ?? "");
        expect(await queue.size()).toBe(1);
      });

      it("treats completing twice, or an unknown id, as nothing", async () => {
        const queue = await make();
        await queue.accept([accepted("1"), accepted("2")]);
        const [a] = await queue.lease(1, LEASE_MS, never());
        await queue.complete(a?.id ?? "");
        await queue.complete(a?.id ?? "");
        await queue.complete("999999");
        expect(await queue.size()).toBe(1);
      });

      it("completes one job of an event and keeps the event for its other jobs", async () => {
        const queue = await make();
        await queue.accept([accepted("1", "a", "b")]);
        const [a] = await queue.lease(1, LEASE_MS, never());
        await queue.complete(a?.id ?? "");
        const [b] = await queue.lease(1, LEASE_MS, never());
        expect(b?.event).toEqual(event("1"));
      });
    });

    describe("reschedule", () => {
      it("raises attempts, keeps the failure and holds the job back until it is due", async () => {
        const clock = manualClock();
        const queue = await make(clock);
        await queue.accept([accepted("1")]);
        const [first] = await queue.lease(1, LEASE_MS, never());
        await queue.reschedule(first?.id ?? "", clock.now() + 1_000, failure(503, clock.now()));
        expect(await queue.size()).toBe(1);
        clock.advance(999);
        await queue.accept([accepted("2")]);
        expect(eventIds(await queue.lease(10, LEASE_MS, never()))).toEqual(["2"]);
        clock.advance(1);
        const [again] = await queue.lease(10, LEASE_MS, never());
        expect([again?.id, again?.attempts]).toEqual([first?.id, 1]);
        expect(again?.lastFailure).toEqual(failure(503, clock.now() - 1_000));
      });

      it("makes a job due at once for a due time that has passed, and counts every attempt", async () => {
        const clock = manualClock();
        const queue = await make(clock);
        await queue.accept([accepted("1")]);
        for (let attempt = 1; attempt <= 3; attempt++) {
          const [leased] = await queue.lease(1, LEASE_MS, never());
          await queue.reschedule(leased?.id ?? "", clock.now() - 1, failure(500 + attempt));
        }
        const [leased] = await queue.lease(1, LEASE_MS, never());
        expect(leased?.attempts).toBe(3);
        expect(leased?.lastFailure?.status).toBe(503);
      });

      it("cancels the lease: the job is not handed out at the old lease expiry", async () => {
        const clock = manualClock();
        const queue = await make(clock);
        await queue.accept([accepted("1")]);
        const [leased] = await queue.lease(1, 1_000, never());
        await queue.reschedule(leased?.id ?? "", clock.now() + 5_000, failure(429));
        clock.advance(1_000);
        await queue.accept([accepted("2")]);
        expect(eventIds(await queue.lease(10, LEASE_MS, never()))).toEqual(["2"]);
      });

      it("treats an unknown id as nothing", async () => {
        const queue = await make();
        await queue.reschedule("999999", 0, failure(500));
        expect(await queue.size()).toBe(0);
      });
    });

    describe("bury, dead, redrive and drop", () => {
      /** Accepts `n` events for `subscriptionId` and buries every job, oldest first. */
      const buryAll = async (queue: DeliveryQueue, n: number, subscriptionId = "sub") => {
        await queue.accept(
          Array.from({ length: n }, (_, i) => accepted(`${subscriptionId}-${i}`, subscriptionId)),
        );
        const jobs = await queue.lease(n, LEASE_MS, never());
        for (const job of jobs) await queue.bury(job.id, failure(500, 7));
        return jobs;
      };

      it("keeps a buried job as dead: counted out of size, never leased", async () => {
        const clock = manualClock();
        const queue = await make(clock);
        await queue.accept([accepted("1")]);
        const [leased] = await queue.lease(1, LEASE_MS, never());
        await queue.reschedule(leased?.id ?? "", clock.now(), failure(503));
        const [again] = await queue.lease(1, LEASE_MS, never());
        await queue.accept([accepted("2")]);
        await queue.bury(again?.id ?? "", failure(400, 9));
        expect(await queue.size()).toBe(1);
        clock.advance(LEASE_MS * 2);
        expect(eventIds(await queue.lease(10, LEASE_MS, never()))).toEqual(["2"]);
        const dead = await queue.dead("sub", { limit: 10 });
        expect(dead).toHaveLength(1);
        expect(dead[0]).toMatchObject({
          id: leased?.id,
          subscriptionId: "sub",
          attempts: 2,
          failure: failure(400, 9),
          lastFailure: failure(400, 9),
        });
        expect(dead[0]?.event).toEqual(event("1"));
      });

      it("pages through the dead jobs of one subscription, oldest first", async () => {
        const queue = await make();
        const jobs = await buryAll(queue, 5);
        await buryAll(queue, 2, "other");
        const first = await queue.dead("sub", { limit: 2 });
        expect(first.map((j) => j.id)).toEqual(jobs.slice(0, 2).map((j) => j.id));
        const second = await queue.dead("sub", { limit: 2, after: first[1]?.id ?? "" });
        expect(second.map((j) => j.id)).toEqual(jobs.slice(2, 4).map((j) => j.id));
        const last = await queue.dead("sub", { limit: 2, after: second[1]?.id ?? "" });
        expect(last.map((j) => j.id)).toEqual([jobs[4]?.id]);
        expect(await queue.dead("sub", { limit: 2, after: last[0]?.id ?? "" })).toEqual([]);
        expect(await queue.dead("nobody", { limit: 2 })).toEqual([]);
      });

      it("stops reading a dead page once its jobs hold maxSize, one job past it", async () => {
        const queue = await make();
        const jobs = await buryAll(queue, 6);
        const ids = (page: readonly DeliveryJob[]) => page.map((j) => j.id);
        const expected = (from: number, to: number) => ids(jobs.slice(from, to));
        // Every event is the same size ("sub-0" to "sub-5", no data).
        const size = deadJobSize(jobs[0] as DeliveryJob);
        // Two jobs reach 2 * size; the third says that more follow; nothing further is read.
        expect(ids(await queue.dead("sub", { limit: 10, maxSize: 2 * size }))).toEqual(
          expected(0, 3),
        );
        expect(ids(await queue.dead("sub", { limit: 10, maxSize: 2 * size + 1 }))).toEqual(
          expected(0, 4),
        );
        expect(ids(await queue.dead("sub", { limit: 10, maxSize: 1 }))).toEqual(expected(0, 2));
        expect(
          ids(await queue.dead("sub", { limit: 10, maxSize: size, after: jobs[3]?.id ?? "" })),
        ).toEqual(expected(4, 6));
        expect(ids(await queue.dead("sub", { limit: 2, maxSize: 100 * size }))).toEqual(
          expected(0, 2),
        );
      });

      it("refuses a dead-page cursor that is no job id, and goes on from one whose job left", async () => {
        const queue = await make();
        const jobs = await buryAll(queue, 3);
        for (const after of ["zzz", "-5", "0", "1.5", "01", " 1"]) {
          await expect(queue.dead("sub", { limit: 2, after })).rejects.toBeInstanceOf(
            MalformedRequest,
          );
        }
        // Redriven and delivered since: the cursor still marks a place in the order.
        await queue.redrive("sub", [jobs[0]?.id ?? ""]);
        const [again] = await queue.lease(1, LEASE_MS, never());
        await queue.complete(again?.id ?? "");
        const rest = await queue.dead("sub", { limit: 5, after: jobs[0]?.id ?? "" });
        expect(rest.map((j) => j.id)).toEqual(jobs.slice(1).map((j) => j.id));
      });

      it("redrives every dead job: attempts back to 0, due now", async () => {
        const clock = manualClock();
        const queue = await make(clock);
        const jobs = await buryAll(queue, 3);
        await buryAll(queue, 1, "other");
        expect(await queue.redrive("sub")).toBe(3);
        expect(await queue.size()).toBe(3);
        expect(await queue.dead("sub", { limit: 10 })).toEqual([]);
        const again = await queue.lease(10, LEASE_MS, never());
        expect(again.map((j) => [j.id, j.attempts])).toEqual(jobs.map((j) => [j.id, 0]));
        expect(await queue.dead("other", { limit: 10 })).toHaveLength(1);
        expect(await queue.redrive("sub")).toBe(0);
      });

      it("redrives only the chosen dead jobs, and wakes a waiting lease", async () => {
        const queue = await make();
        const jobs = await buryAll(queue, 3);
        const waiting = queue.lease(10, LEASE_MS, never());
        expect(await queue.redrive("sub", [jobs[1]?.id ?? "", "999999"])).toBe(1);
        expect((await waiting).map((j) => j.id)).toEqual([jobs[1]?.id]);
        expect((await queue.dead("sub", { limit: 10 })).map((j) => j.id)).toEqual([
          jobs[0]?.id,
          jobs[2]?.id,
        ]);
      });

      it("discards every dead job of a subscription, and only dead ones", async () => {
        const queue = await make();
        await buryAll(queue, 3);
        const others = await buryAll(queue, 2, "other");
        await queue.accept([accepted("q1"), accepted("q2")]);
        const [leased] = await queue.lease(1, LEASE_MS, never());
        expect(await queue.size()).toBe(2);
        expect(await queue.discardDead("sub")).toBe(3);
        expect(await queue.dead("sub", { limit: 10 })).toEqual([]);
        expect((await queue.dead("other", { limit: 10 })).map((j) => j.id)).toEqual(
          others.map((j) => j.id),
        );
        // The queued and the leased job stay (the queue depth too).
        expect(await queue.size()).toBe(2);
        await queue.complete(leased?.id ?? "");
        expect(eventIds(await queue.lease(10, LEASE_MS, never()))).toEqual(["q2"]);
        expect(await queue.discardDead("sub")).toBe(0);
        expect(await queue.discardDead("nobody")).toBe(0);
      });

      it("discards only the chosen dead jobs, never another subscription's", async () => {
        const queue = await make();
        const jobs = await buryAll(queue, 3);
        const [other] = await buryAll(queue, 1, "other");
        const chosen = [jobs[0]?.id ?? "", jobs[2]?.id ?? "", other?.id ?? "", "999999", "zzz"];
        expect(await queue.discardDead("sub", [...chosen, jobs[0]?.id ?? ""])).toBe(2);
        expect((await queue.dead("sub", { limit: 10 })).map((j) => j.id)).toEqual([jobs[1]?.id]);
        expect((await queue.dead("other", { limit: 10 })).map((j) => j.id)).toEqual([other?.id]);
        expect(await queue.discardDead("sub", [jobs[0]?.id ?? ""])).toBe(0);
        expect(await queue.discardDead("sub", [])).toBe(0);
        expect(await queue.size()).toBe(0);
      });

      it("discards nothing once a job was redriven, and redrives nothing once discarded", async () => {
        const queue = await make();
        const jobs = await buryAll(queue, 2);
        expect(await queue.redrive("sub", [jobs[0]?.id ?? ""])).toBe(1);
        expect(await queue.discardDead("sub", [jobs[0]?.id ?? ""])).toBe(0);
        expect(await queue.size()).toBe(1);
        expect(await queue.discardDead("sub", [jobs[1]?.id ?? ""])).toBe(1);
        expect(await queue.redrive("sub", [jobs[1]?.id ?? ""])).toBe(0);
        expect(await queue.redrive("sub")).toBe(0);
        const again = await queue.lease(10, LEASE_MS, never());
        expect(again.map((j) => j.id)).toEqual([jobs[0]?.id]);
      });

      describe("findDead", () =>
        findDeadCases(async () => {
          const clock = manualClock();
          const queue = await make(clock);
          return {
            queue,
            buryAll: (n, subscriptionId) => buryAll(queue, n, subscriptionId),
            async live(subscriptionId) {
              await queue.accept([
                accepted(`${subscriptionId}-leased`, subscriptionId),
                accepted(`${subscriptionId}-queued`, subscriptionId),
              ]);
              const [leased, queued] = await queue.lease(2, LEASE_MS, never());
              // Failed once, due again later: queued, and its id known.
              await queue.reschedule(queued?.id ?? "", clock.now() + LEASE_MS, failure(503));
              return [leased?.id ?? "", queued?.id ?? ""];
            },
          };
        }));

      it("drops every job of a subscription, dead ones included", async () => {
        const queue = await make();
        await buryAll(queue, 2);
        await queue.accept([accepted("x", "sub", "other"), accepted("y", "sub")]);
        const leased = await queue.lease(1, LEASE_MS, never());
        expect(await queue.drop("sub")).toBe(4);
        expect(await queue.size()).toBe(1);
        expect(await queue.dead("sub", { limit: 10 })).toEqual([]);
        await queue.complete(leased[0]?.id ?? "");
        const rest = await queue.lease(10, LEASE_MS, never());
        expect(rest.map((j) => [j.event.attributes.id, j.subscriptionId])).toEqual([
          ["x", "other"],
        ]);
        expect(await queue.drop("sub")).toBe(0);
      });
    });

    describe("waiting", () => {
      it("resolves a waiting lease as soon as a job is accepted", async () => {
        const queue = await make();
        const waiting = queue.lease(5, LEASE_MS, never());
        await queue.accept([accepted("1"), accepted("2")]);
        expect(eventIds(await waiting)).toEqual(["1", "2"]);
      });

      it("shares jobs between waiting leases without handing one out twice", async () => {
        const queue = await make();
        const first = queue.lease(1, LEASE_MS, never());
        const second = queue.lease(1, LEASE_MS, never());
        await queue.accept([accepted("1"), accepted("2")]);
        const ids = [...eventIds(await first), ...eventIds(await second)];
        expect(ids.sort()).toEqual(["1", "2"]);
      });

      it("resolves with no jobs when the signal aborts while waiting", async () => {
        const queue = await make();
        const controller = new AbortController();
        const waiting = queue.lease(1, LEASE_MS, controller.signal);
        controller.abort();
        expect(await waiting).toEqual([]);
        await queue.accept([accepted("1")]);
        expect(eventIds(await queue.lease(1, LEASE_MS, never()))).toEqual(["1"]);
      });

      it("leaves no listener on the signal once a lease ended (callers reuse one signal)", async () => {
        const queue = await make();
        const controller = new AbortController();
        const waiting = queue.lease(1, LEASE_MS, controller.signal);
        await queue.accept([accepted("1")]);
        expect(eventIds(await waiting)).toEqual(["1"]);
        await queue.accept([accepted("2")]);
        expect(eventIds(await queue.lease(1, LEASE_MS, controller.signal))).toEqual(["2"]);
        expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
      });

      it("hands out nothing for an aborted signal, leaving due jobs queued", async () => {
        const queue = await make();
        await queue.accept([accepted("1")]);
        expect(await queue.lease(1, LEASE_MS, AbortSignal.abort())).toEqual([]);
        expect(eventIds(await queue.lease(1, LEASE_MS, never()))).toEqual(["1"]);
      });

      it("wakes a waiting lease when a rescheduled job comes due", async () => {
        const queue = await make(systemClock);
        await queue.accept([accepted("1")]);
        const [leased] = await queue.lease(1, LEASE_MS, never());
        const dueAt = Date.now() + 20;
        const waiting = queue.lease(1, LEASE_MS, never());
        await queue.reschedule(leased?.id ?? "", dueAt, failure(503));
        const [again] = await waiting;
        expect(again?.id).toBe(leased?.id);
        expect(Date.now()).toBeGreaterThanOrEqual(dueAt);
      });

      it("wakes a waiting lease when a lease expires", async () => {
        const queue = await make(systemClock);
        await queue.accept([accepted("1")]);
        const leasedAt = Date.now();
        const [leased] = await queue.lease(1, 20, never());
        const [again] = await queue.lease(1, LEASE_MS, never());
        expect(again?.id).toBe(leased?.id);
        expect(Date.now()).toBeGreaterThanOrEqual(leasedAt + 20);
      });
    });
  });
}
