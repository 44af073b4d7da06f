import { describe, expect, it } from "vitest";
import { Unavailable } from "../errors/errors.js";
import { describeDeliveryQueue, manualClock } from "./delivery-queue.case.js";
import { createMemoryQueue, type MemoryQueue } from "./memory-queue.js";

describeDeliveryQueue("memory", (clock, { dedupeWindowMs }) =>
  createMemoryQueue({ clock, dedupeWindowMs }),
);

describe("createMemoryQueue", () => {
  const signal = new AbortController().signal;
  let serial = 0;
  /** `n` events for one subscription, ids 0..n-1, each call under a source of its own. */
  const jobs = (n: number) => {
    const source = `/s${serial++}`;
    return Array.from({ length: n }, (_, i) => ({
      subscriptionIds: ["sub"],
      event: { attributes: { specversion: "1.0", id: String(i), source, type: "t" } },
    }));
  };

  it("stays exact when most leases are completed (stale timer records are dropped)", async () => {
    const clock = manualClock();
    const queue = createMemoryQueue({ clock });
    await queue.accept(jobs(3_000));
    const leased = await queue.lease(3_000, 1_000, signal);
    for (const job of leased.slice(0, 2_000)) await queue.complete(job.id);
    await queue.accept(jobs(1));
    const late = await queue.lease(10, 1_000, signal);
    expect(late.map((j) => j.event.attributes.id)).toEqual(["0"]);
    clock.advance(1_000);
    // Every lease not completed expired at the same time (in no particular order among them).
    const again = await queue.lease(5_000, 1_000, signal);
    const expected = [...leased.slice(2_000), ...late].map((j) => j.id);
    expect(again.map((j) => j.id).sort()).toEqual(expected.sort());
    expect(await queue.size()).toBe(1_001);
  });

  it("keeps FIFO order across many accepts and leases", async () => {
    const queue = createMemoryQueue();
    const seen: string[] = [];
    for (let round = 0; round < 5; round++) {
      await queue.accept(jobs(1_000));
      for (const job of await queue.lease(700, 30_000, signal)) {
        seen.push(String(job.event.attributes.id));
        await queue.complete(job.id);
      }
    }
    for (const job of await queue.lease(10_000, 30_000, signal)) {
      seen.push(String(job.event.attributes.id));
    }
    expect(seen).toHaveLength(5_000);
    expect(seen.slice(0, 1_000)).toEqual(jobs(1_000).map((j) => j.event.attributes.id));
    expect(await queue.size()).toBe(1_500);
  });
});

describe("createMemoryQueue capacity (backpressure)", () => {
  const job = (n: number) => ({
    subscriptionIds: ["s"],
    event: { attributes: { specversion: "1.0", id: String(n), source: "/s", type: "t" } },
  });

  it("makes accept wait for room, then go on once a job completes", async () => {
    const queue = createMemoryQueue({ capacity: 2, maxWaitMs: 60_000 });
    await queue.accept([job(1), job(2)]);
    let third = false;
    const pending = queue.accept([job(3)]).then(() => {
      third = true;
    });
    const [leased] = await queue.lease(1, 60_000, new AbortController().signal);
    await Promise.resolve();
    expect(third).toBe(false);
    expect(await queue.size()).toBe(2);
    await queue.complete(leased!.id);
    await pending;
    expect(third).toBe(true);
    expect(await queue.size()).toBe(2);
  });

  it("refuses with Unavailable (503) when no room comes in time", async () => {
    const queue = createMemoryQueue({ capacity: 1, maxWaitMs: 10 });
    await queue.accept([job(1)]);
    const err = await queue.accept([job(2)]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "unavailable", status: 503 });
    expect(await queue.size()).toBe(1);
  });

  it("takes a settling accept (a reply, a receipt) at once, past the capacity and the drain", async () => {
    // The job settling holds its room until its reply or receipt is in: waiting would wait for
    // itself (a queue full of such jobs never drains), refusing would lose them at the drain.
    const queue = createMemoryQueue({ capacity: 1, maxWaitMs: 60_000 });
    await queue.accept([job(1)]);
    expect(await queue.accept([job(2)], { settling: true })).toMatchObject({ jobs: 1 });
    queue.stopAccepting("stopping");
    await expect(queue.accept([job(3)])).rejects.toMatchObject({ status: 503 });
    expect(await queue.accept([job(4)], { settling: true })).toMatchObject({ jobs: 1 });
    expect(await queue.size()).toBe(3);
  });

  it("takes a batch larger than the capacity into an empty queue, whole", async () => {
    const queue = createMemoryQueue({ capacity: 2 });
    await queue.accept([job(1), job(2), job(3)]);
    expect(await queue.size()).toBe(3);
  });

  it("keeps the capacity a hard limit when one completion wakes several waiters", async () => {
    const queue = createMemoryQueue({ capacity: 10, maxWaitMs: 60_000 });
    await queue.accept(Array.from({ length: 10 }, (_, i) => job(i)));
    const admitted: number[] = [];
    const waiting = Array.from({ length: 5 }, (_, w) =>
      queue.accept([job(100 + w), job(200 + w)]).then(() => {
        admitted.push(w);
      }),
    );
    const leased = await queue.lease(10, 60_000, new AbortController().signal);
    await queue.complete(leased[0]!.id);
    await queue.complete(leased[1]!.id);
    await Promise.resolve();
    // Two freed slots take exactly one waiter of two jobs, not all five.
    expect(await queue.size()).toBe(10);
    expect(admitted).toEqual([0]);
    // A newcomer that would fit a freed slot still queues behind the waiters (first come, first served).
    let late = false;
    const newcomer = queue.accept([job(300)]).then(() => {
      late = true;
    });
    await queue.complete(leased[2]!.id);
    await Promise.resolve();
    expect([late, await queue.size()]).toEqual([false, 9]);
    for (const j of leased.slice(3)) await queue.complete(j.id);
    await Promise.all(waiting);
    expect(admitted).toEqual([0, 1, 2, 3, 4]);
    expect([late, await queue.size()]).toEqual([false, 10]);
    const [next] = await queue.lease(1, 60_000, new AbortController().signal);
    await queue.complete(next!.id);
    await newcomer;
    expect(await queue.size()).toBe(10);
  });

  it("lets smaller waiters in once a larger one ahead of them gives up", async () => {
    const queue = createMemoryQueue({ capacity: 2, maxWaitMs: 20 });
    await queue.accept([job(1), job(2)]);
    const big = queue.accept([job(3), job(4)]).catch((e: unknown) => e);
    const small = queue.accept([job(5)]).catch((e: unknown) => e);
    const [leased] = await queue.lease(1, 60_000, new AbortController().signal);
    await queue.complete(leased!.id);
    // One slot is free: the big batch cannot use it and times out; the small one behind it fits.
    expect(await big).toMatchObject({ code: "unavailable" });
    expect(await small).toMatchObject({ jobs: 1 });
    expect(await queue.size()).toBe(2);
  });

  it("counts dead jobs against the capacity until they are redriven, discarded or dropped", async () => {
    const queue = createMemoryQueue({ capacity: 2, maxWaitMs: 10 });
    const failure = { status: 500, error: "down", at: 0 };
    await queue.accept([job(1), job(2)]);
    for (const leased of await queue.lease(2, 60_000, new AbortController().signal)) {
      await queue.bury(leased.id, failure);
    }
    expect(await queue.size()).toBe(0);
    // Two dead jobs fill it: a sink failing everything no longer grows memory without bound.
    const refused = await queue.accept([job(3)]).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "unavailable", status: 503 });
    expect((refused as Error).message).toContain("2 of its 2 jobs are dead deliveries");
    // A redrive keeps their room taken (they are live again); a discard frees it.
    const [first, second] = await queue.dead("s", { limit: 10 });
    expect(await queue.redrive("s", [first!.id])).toBe(1);
    await expect(queue.accept([job(4)])).rejects.toMatchObject({ status: 503 });
    expect(await queue.discardDead("s", [second!.id])).toBe(1);
    expect(await queue.accept([job(5)])).toMatchObject({ jobs: 1 });
    // Dropping the subscription frees the room of its dead jobs too.
    for (const leased of await queue.lease(2, 60_000, new AbortController().signal)) {
      await queue.bury(leased.id, failure);
    }
    await expect(queue.accept([job(6)])).rejects.toMatchObject({ status: 503 });
    expect(await queue.drop("s")).toBe(2);
    expect(await queue.accept([job(7), job(8)])).toMatchObject({ jobs: 2 });
  });

  it("admits a waiting accept once a dead job is discarded", async () => {
    const queue = createMemoryQueue({ capacity: 1, maxWaitMs: 60_000 });
    await queue.accept([job(1)]);
    const [leased] = await queue.lease(1, 60_000, new AbortController().signal);
    await queue.bury(leased!.id, { status: 500, error: "down", at: 0 });
    const waiting = queue.accept([job(2)]);
    expect(await queue.discardDead("s")).toBe(1);
    expect(await waiting).toMatchObject({ jobs: 1 });
  });

  it("stopAccepting() refuses waiting and later accepts with Unavailable, and still drains", async () => {
    const queue = createMemoryQueue({ capacity: 1, maxWaitMs: 60_000 });
    await queue.accept([job(1)]);
    const waiting = queue.accept([job(2)]).catch((e: unknown) => e);
    queue.stopAccepting("the gateway is shutting down");
    const refused = await waiting;
    expect(refused).toBeInstanceOf(Unavailable);
    expect(refused).toMatchObject({ status: 503, message: "the gateway is shutting down" });
    await expect(queue.accept([job(3)])).rejects.toMatchObject({ code: "unavailable" });
    const [leased] = await queue.lease(5, 60_000, new AbortController().signal);
    expect(leased?.event.attributes.id).toBe("1");
    await queue.complete(leased!.id);
    // The freed room lets nothing in.
    expect(await queue.size()).toBe(0);
    await expect(queue.accept([job(4)])).rejects.toMatchObject({ code: "unavailable" });
    queue.stopAccepting();
  });
});

describe("createMemoryQueue dedupe and all-or-nothing", () => {
  const accepted = (id: string) => ({
    subscriptionIds: ["s"],
    event: { attributes: { specversion: "1.0", id, source: "/s", type: "t" } },
  });

  it("stores nothing of a refused batch, dedupe keys included", async () => {
    const queue = createMemoryQueue({ capacity: 1, maxWaitMs: 10 });
    await queue.accept([accepted("1")]);
    await expect(queue.accept([accepted("2"), accepted("3")])).rejects.toMatchObject({
      status: 503,
    });
    const [leased] = await queue.lease(1, 60_000, new AbortController().signal);
    await queue.complete(leased!.id);
    expect(await queue.accept([accepted("2"), accepted("3")])).toEqual({
      events: 2,
      duplicates: 0,
      jobs: 2,
    });
  });

  it("forgets the oldest keys beyond maxDedupeKeys (bounded memory)", async () => {
    const queue = createMemoryQueue({ maxDedupeKeys: 2 });
    await queue.accept([accepted("1"), accepted("2"), accepted("3")]);
    expect(await queue.accept([accepted("3")])).toMatchObject({ duplicates: 1 });
    expect(await queue.accept([accepted("1")])).toMatchObject({ duplicates: 0 });
  });

  it("passes over a skipped subscription's backlog without losing its order", async () => {
    const queue = createMemoryQueue();
    const slow = Array.from({ length: 1_000 }, (_, i) => ({
      ...accepted(`s${i}`),
      subscriptionIds: ["slow"],
    }));
    await queue.accept([...slow, accepted("fast")]);
    const skip = new Set(["slow"]);
    const signal = new AbortController().signal;
    expect((await queue.lease(10, 60_000, signal, skip)).map((j) => j.subscriptionId)).toEqual([
      "s",
    ]);
    const rest = await queue.lease(2_000, 60_000, signal);
    expect(rest.map((j) => j.event.attributes.id)).toEqual(slow.map((a) => a.event.attributes.id));
  });
});

describe("createMemoryQueue dead set at scale", () => {
  const signal = new AbortController().signal;
  let serial = 0;
  const jobs = (n: number) => {
    const source = `/dead${serial++}`;
    return Array.from({ length: n }, (_, i) => ({
      subscriptionIds: ["sub"],
      event: { attributes: { specversion: "1.0", id: String(i), source, type: "t" } },
    }));
  };

  // A page of the dead set reads from its place on, whatever the set's size: each page copied,
  // filtered and sorted every dead job (24 ms at 50,000; paging through them all grew with the
  // square of their number). A ratio within one process, so the machine's speed cancels out: a
  // first page and a deep one at 20,000 dead jobs against a first page at 2,000 (10x before).
  it("reads a page of the dead set at a cost that grows neither with the set nor with the offset", async () => {
    const failure = { status: 400, error: "got 400", at: 0 };
    const deadQueue = async (n: number) => {
      const queue = createMemoryQueue({ capacity: n + 1 });
      await queue.accept(jobs(n));
      const leased = await queue.lease(n, 60_000, signal);
      // Some die after younger ones, as retries make them.
      for (const job of leased.slice(100)) await queue.bury(job.id, failure);
      for (const job of leased.slice(0, 100)) await queue.bury(job.id, failure);
      return { queue, ids: leased.map((job) => job.id) };
    };
    const pageCost = async (queue: MemoryQueue, after?: string) => {
      const page = { limit: 101, ...(after === undefined ? {} : { after }) };
      await queue.dead("sub", page); // warm-up (and the one sort after the burials)
      const started = performance.now();
      for (let i = 0; i < 50; i++) await queue.dead("sub", page);
      return performance.now() - started;
    };
    const small = await deadQueue(2_000);
    const large = await deadQueue(20_000);
    await pageCost(small.queue); // the JIT
    // Best of 3 each: one run of 50 pages takes a few ms, which another process can double.
    // Sorting the whole set per page (before MemoryDeadSet) measured ~20x.
    const best = async (run: () => Promise<number>) =>
      Math.min(await run(), await run(), await run());
    const below = await best(() => pageCost(small.queue));
    const first = await best(() => pageCost(large.queue));
    const deep = await best(() => pageCost(large.queue, large.ids[18_000]));
    expect(first / below).toBeLessThan(6);
    expect(deep / below).toBeLessThan(6);
    // Still in id order, from the place `after` names.
    const page = await large.queue.dead("sub", { limit: 3, after: large.ids[50] ?? "" });
    expect(page.map((job) => job.id)).toEqual(large.ids.slice(51, 54));
  });

  it("redrives each of the jobIds once when one is named twice", async () => {
    const queue = createMemoryQueue();
    await queue.accept(jobs(2));
    const [one, two] = await queue.lease(2, 60_000, signal);
    await queue.bury(one?.id ?? "", { status: 400, error: "got 400", at: 0 });
    await queue.bury(two?.id ?? "", { status: 400, error: "got 400", at: 0 });
    expect(await queue.redrive("sub", [one?.id ?? "", one?.id ?? ""])).toBe(1);
    expect((await queue.dead("sub", { limit: 10 })).map((job) => job.id)).toEqual([two?.id]);
    expect(await queue.size()).toBe(1);
  });
});
