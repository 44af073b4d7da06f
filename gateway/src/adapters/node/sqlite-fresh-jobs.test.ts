import { describe, expect, it } from "vitest";
import { type FreshJob, FreshJobs } from "./sqlite-fresh-jobs.js";

const roomy = () => new FreshJobs({ maxJobs: 100, maxEventJobs: 100, maxEventBytes: 1 << 20 });
const parts = (text: string, bytes: Uint8Array | null = null) => ({ text, bytes });

/** Takes every waiting job outside `skip`, earliest first, as the queue's merge does. */
function drain(jobs: FreshJobs, skip: ReadonlySet<string> = new Set()): FreshJob[] {
  const out: FreshJob[] = [];
  for (;;) {
    const head = jobs.earliest(skip);
    if (head === undefined) return out;
    out.push(jobs.shift(head.subscriptionId) as FreshJob);
  }
}

describe("FreshJobs", () => {
  it("hands jobs out earliest first across subscriptions, and leaves skipped ones waiting", () => {
    const jobs = roomy();
    jobs.add(1, "a", 10, undefined);
    jobs.add(2, "b", 10, undefined);
    jobs.add(3, "a", 11, undefined);
    jobs.add(4, "b", 12, undefined);
    expect(drain(jobs, new Set(["b"])).map((job) => job.id)).toEqual([1, 3]);
    expect(jobs.size).toBe(2);
    expect(drain(jobs).map((job) => job.id)).toEqual([2, 4]);
    expect(jobs.size).toBe(0);
  });

  it("puts a job back in due order, marked as returned and without its event", () => {
    const jobs = roomy();
    jobs.add(1, "a", 10, parts("one"));
    jobs.add(2, "a", 20, undefined);
    jobs.add(3, "a", 30, undefined);
    const first = jobs.shift("a") as FreshJob;
    expect(first.event).toEqual(parts("one"));
    jobs.putBack(first.id, first.subscriptionId, 25);
    const order = drain(jobs);
    expect(order.map((job) => [job.id, job.due])).toEqual([
      [2, 20],
      [1, 25],
      [3, 30],
    ]);
    expect(order[1]).toMatchObject({ returned: true, event: undefined });
  });

  it("keeps a copy of each event within the job and byte limits, and none beyond", () => {
    const jobs = new FreshJobs({ maxJobs: 100, maxEventJobs: 2, maxEventBytes: 1 << 20 });
    const request = new Uint8Array([1, 2, 3, 4, 5]);
    jobs.add(1, "a", 1, parts("x", request.subarray(1, 3)));
    jobs.add(2, "a", 2, parts("y"));
    jobs.add(3, "a", 3, parts("z"));
    request.fill(0);
    const [one, two, three] = drain(jobs);
    expect(one?.event).toEqual(parts("x", new Uint8Array([2, 3])));
    expect(two?.event).toEqual(parts("y"));
    expect(three?.event).toBeUndefined();
    // Taking them out frees their room.
    jobs.add(4, "a", 4, parts("w"));
    expect(jobs.shift("a")?.event).toEqual(parts("w"));

    const small = new FreshJobs({ maxJobs: 100, maxEventJobs: 100, maxEventBytes: 10 });
    small.add(1, "a", 1, parts("abcd")); // 8 bytes as UTF-16
    small.add(2, "a", 2, parts("ab"));
    expect(drain(small).map((job) => job.event?.text)).toEqual(["abcd", undefined]);
  });

  it("says when it is full, counting the jobs on their way", () => {
    const jobs = new FreshJobs({ maxJobs: 3, maxEventJobs: 3, maxEventBytes: 1 << 20 });
    jobs.add(1, "a", 1, undefined);
    expect(jobs.hasRoomFor(1)).toBe(true);
    expect(jobs.hasRoomFor(2)).toBe(false);
    jobs.add(2, "b", 1, undefined);
    expect(jobs.hasRoomFor(0)).toBe(true);
    jobs.add(3, "b", 1, undefined);
    expect(jobs.hasRoomFor(0)).toBe(false);
    jobs.drop("b");
    expect(jobs.size).toBe(1);
    expect(jobs.hasRoomFor(1)).toBe(true);
    expect(drain(jobs).map((job) => job.id)).toEqual([1]);
  });

  it("keeps order through a long line drained while it grows", () => {
    const big = new FreshJobs({ maxJobs: 10_000, maxEventJobs: 0, maxEventBytes: 0 });
    let added = 0;
    const taken: number[] = [];
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 1_500; i++) big.add(++added, "a", added, undefined);
      for (let i = 0; i < 1_200; i++) taken.push((big.shift("a") as FreshJob).id);
    }
    taken.push(...drain(big).map((job) => job.id));
    expect(taken).toEqual(Array.from({ length: added }, (_, i) => i + 1));
    expect(big.size).toBe(0);
    expect(big.shift("a")).toBeUndefined();
  });
});
