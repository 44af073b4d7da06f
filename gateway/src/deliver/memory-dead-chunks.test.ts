import { describe, expect, it } from "vitest";
import {
  buryLeased,
  REFUSED as failure,
  NEVER as never,
  numberedEvents,
} from "../../test/support/dead-jobs.js";
import { eventLoopStalls as stalls } from "../../test/support/event-loop-stalls.js";
import { createMemoryQueue, type MemoryQueue } from "./memory-queue.js";

const events = numberedEvents();

/** A queue with `n` dead jobs of `sub` (a sink that answered 400 to each). */
async function withDead(n: number): Promise<MemoryQueue> {
  const queue = createMemoryQueue({ capacity: n + 1_000 });
  await queue.accept(events(n, "sub"));
  await buryLeased(queue, n);
  return queue;
}

describe("memory queue: redrive of a whole dead set", () => {
  // All at once held the event loop as long as the set took (80-125 ms of CPU at 50,000 dead
  // jobs on a loaded machine, growing with the set), and no request was answered meanwhile: its
  // longest stall was all of it. 1,000 per turn, the longest is about one chunk's (the dead
  // set's compaction, once half of it is gone, reads it all once): 5-15% of the whole. A ratio
  // within one run, best of two, so the machine's speed cancels out.
  it("holds the event loop for a small part of a redrive of 50,000 dead jobs", async () => {
    const share = async () => {
      const queue = await withDead(50_000);
      let count = 0;
      const { total, longest } = await stalls(async () => {
        count = await queue.redrive("sub");
      });
      expect(count).toBe(50_000);
      expect(await queue.size()).toBe(50_000);
      return { share: longest / total, text: `${longest} ms of ${total} ms` };
    };
    await share(); // the JIT
    const [one, two] = [await share(), await share()];
    const best = (one as { share: number }).share < two.share ? one : two;
    expect(best.share, best.text).toBeLessThan(0.4);
  }, 60_000);

  // What the stall means: other work (a request, a delivery) runs between chunks. Counted in
  // jobs, not time, so it holds on any machine: the live jobs seen at each turn of the event
  // loop while the redrive runs never grow by more than a chunk (by all 50,000 at once before).
  it("lets the event loop turn every 1,000 jobs while it redrives 50,000", async () => {
    const queue = await withDead(50_000);
    const seen: number[] = [0];
    let running = true;
    const turn = () => {
      void queue.size().then((size) => seen.push(size));
      if (running) setImmediate(turn);
    };
    setImmediate(turn);
    const redriven = await queue.redrive("sub");
    running = false;
    seen.push(await queue.size());
    expect(redriven).toBe(50_000);
    const steps = seen.slice(1).map((size, at) => size - (seen[at] as number));
    expect(Math.max(...steps)).toBeLessThanOrEqual(1_000);
    expect(seen.length).toBeGreaterThanOrEqual(50);
  });

  it("puts back every dead job once, oldest first, with accepts, burials and a discard meanwhile", async () => {
    const queue = await withDead(3_500);
    const dead = (await queue.dead("sub", { limit: 1_000 })).map((job) => job.id);
    await queue.accept(events(2, "other"));
    const [otherDead] = await queue.lease(1, 600_000, never);
    await queue.bury(otherDead?.id ?? "", failure);
    await queue.accept(events(2, "sub"));
    const leased = await queue.lease(10, 600_000, never);
    const [dying] = leased.filter((job) => job.subscriptionId === "sub");
    expect(leased).toHaveLength(3);
    const redriving = queue.redrive("sub");
    // Meanwhile (the first chunk is back already): a live job dies, new events are accepted, a
    // dead job not reached yet is deleted, and a second redrive runs alongside.
    await queue.bury(dying?.id ?? "", failure);
    await queue.accept(events(5, "sub"));
    expect(await queue.discardDead("sub", [String(Number(dead[0]) + 3_400)])).toBe(1);
    const alongside = queue.redrive("sub");
    const [redriven, second] = await Promise.all([redriving, alongside]);
    // Each job ends one way: 3,499 of the dead ones (one deleted), and the one that died.
    expect(redriven + second).toBe(3_500);
    expect(await queue.dead("sub", { limit: 10 })).toEqual([]);
    // All due: the redriven ones in id order (the accepted ones among them where they came).
    const due = await queue.lease(10_000, 600_000, never);
    const back = due.filter(
      (job) => job.subscriptionId === "sub" && Number(job.id) <= Number(dying?.id),
    );
    const ids = back.map((job) => Number(job.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(3_500);
    const first = ids.slice(0, 1_000);
    expect(first).toEqual([...first].sort((a, b) => a - b));
    expect(back.every((job) => job.attempts === 0)).toBe(true);
    expect(due.filter((job) => job.subscriptionId === "sub")).toHaveLength(3_505);
    // The other subscription's dead job is still dead; the two jobs leased before (one of each)
    // are still live.
    expect((await queue.dead("other", { limit: 10 })).map((job) => job.id)).toEqual([
      otherDead?.id,
    ]);
    expect(await queue.size()).toBe(3_505 + 2);
  });
});
