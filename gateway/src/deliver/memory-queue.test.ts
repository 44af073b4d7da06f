import { describe, expect, it } from "vitest";
import { describeDeliveryQueue, manualClock } from "./delivery-queue.case.js";
import { createMemoryQueue } from "./memory-queue.js";

describeDeliveryQueue("memory", (clock) => createMemoryQueue({ clock }));

describe("createMemoryQueue", () => {
  const signal = new AbortController().signal;
  const jobs = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      subscriptionId: "sub",
      event: { attributes: { specversion: "1.0", id: String(i), source: "/s", type: "t" } },
    }));

  it("stays exact when most leases are completed (stale timer records are dropped)", async () => {
    const clock = manualClock();
    const queue = createMemoryQueue({ clock });
    await queue.enqueue(jobs(3_000));
    const leased = await queue.lease(3_000, 1_000, signal);
    for (const job of leased.slice(0, 2_000)) await queue.complete(job.id);
    await queue.enqueue(jobs(1));
    const late = await queue.lease(10, 1_000, signal);
    expect(late.map((j) => j.event.attributes.id)).toEqual(["0"]);
    clock.advance(1_000);
    // Every lease not completed expired at the same time (in no particular order among them).
    const again = await queue.lease(5_000, 1_000, signal);
    const expected = [...leased.slice(2_000), ...late].map((j) => j.id);
    expect(again.map((j) => j.id).sort()).toEqual(expected.sort());
    expect(await queue.size()).toBe(1_001);
  });

  it("keeps FIFO order across many enqueues and leases", async () => {
    const queue = createMemoryQueue();
    const seen: string[] = [];
    for (let round = 0; round < 5; round++) {
      await queue.enqueue(jobs(1_000));
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
    subscriptionId: "s",
    event: { attributes: { specversion: "1.0", id: String(n), source: "/s", type: "t" } },
  });

  it("makes enqueue wait for room, then go on once a job completes", async () => {
    const queue = createMemoryQueue({ capacity: 2, maxWaitMs: 60_000 });
    await queue.enqueue([job(1), job(2)]);
    let third = false;
    const pending = queue.enqueue([job(3)]).then(() => {
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
    await queue.enqueue([job(1)]);
    const err = await queue.enqueue([job(2)]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "unavailable", status: 503 });
    expect(await queue.size()).toBe(1);
  });

  it("takes a batch larger than the capacity into an empty queue, whole", async () => {
    const queue = createMemoryQueue({ capacity: 2 });
    await queue.enqueue([job(1), job(2), job(3)]);
    expect(await queue.size()).toBe(3);
  });
});
