import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Unavailable } from "../errors/errors.js";
import { createFreshAdmission, type Incoming } from "./fresh-admission.js";

const jobs = (entries: Record<string, number>): Incoming => new Map(Object.entries(entries));

/** Whether the promise has settled after the pending microtasks ran, and how. */
async function state(promise: Promise<void> | undefined): Promise<string> {
  if (promise === undefined) return "in";
  let result = "waiting";
  promise.then(
    () => {
      result = "in";
    },
    (err: unknown) => {
      result = err instanceof Unavailable ? "refused" : `error: ${String(err)}`;
    },
  );
  await Promise.resolve();
  await Promise.resolve();
  return result;
}

describe("createFreshAdmission", () => {
  let now = 0;
  const clock = { now: () => now };
  beforeEach(() => {
    now = 1_000;
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Lets an accept in and stores its jobs, as a queue does. */
  function fill(admission: ReturnType<typeof createFreshAdmission>, incoming: Incoming) {
    expect(admission.enter(incoming)).toBeUndefined();
    admission.stored(incoming, incoming);
  }

  it("lets accepts in up to maxFresh fresh jobs, then holds the next until a job is handed out", async () => {
    const admission = createFreshAdmission({ clock, maxFresh: 2 });
    fill(admission, jobs({ a: 1 }));
    fill(admission, jobs({ a: 1 }));
    const third = admission.enter(jobs({ a: 1 }));
    expect(await state(third)).toBe("waiting");
    admission.freed();
    expect(await state(third)).toBe("waiting");
    admission.handedOut("a");
    admission.freed();
    expect(await state(third)).toBe("in");
  });

  it("counts jobs let in but not stored yet against the room", async () => {
    const admission = createFreshAdmission({ clock, maxFresh: 2 });
    expect(admission.enter(jobs({ a: 2 }))).toBeUndefined();
    expect(await state(admission.enter(jobs({ a: 1 })))).toBe("waiting");
  });

  it("refuses with Unavailable after maxWaitMs, and those behind it may then go in", async () => {
    const admission = createFreshAdmission({ clock, maxFresh: 2, maxWaitMs: 50 });
    fill(admission, jobs({ a: 2 }));
    const held = admission.enter(jobs({ a: 1 }));
    const outcome = state(held);
    vi.advanceTimersByTime(50);
    expect(await outcome).toBe("refused");
    await expect(held).rejects.toThrow(/backlog is full/);
  });

  it("lets a batch bigger than maxFresh in when nothing of its subscription waits", () => {
    const admission = createFreshAdmission({ clock, maxFresh: 2 });
    expect(admission.enter(jobs({ a: 5 }))).toBeUndefined();
  });

  it("does not hold back other subscriptions' publishers", () => {
    const admission = createFreshAdmission({ clock, maxFresh: 1 });
    fill(admission, jobs({ a: 1 }));
    const heldForA = admission.enter(jobs({ a: 1 }));
    expect(heldForA).toBeDefined();
    expect(admission.enter(jobs({ b: 1 }))).toBeUndefined();
    heldForA?.catch(() => {});
  });

  it("keeps arrival order: a newcomer goes behind an accept waiting for the same subscription", async () => {
    const admission = createFreshAdmission({ clock, maxFresh: 2 });
    fill(admission, jobs({ a: 2 }));
    const big = admission.enter(jobs({ a: 2 }));
    admission.handedOut("a");
    // One job of room: the newcomer of one job would fit, but the bigger one came first.
    const small = admission.enter(jobs({ a: 1 }));
    expect(await state(big)).toBe("waiting");
    expect(await state(small)).toBe("waiting");
    admission.handedOut("a");
    admission.freed();
    expect(await state(big)).toBe("in");
    expect(await state(small)).toBe("waiting");
  });

  it("lets an accept for a free subscription pass one that waits for a full one and the free one", async () => {
    const admission = createFreshAdmission({ clock, maxFresh: 2 });
    fill(admission, jobs({ full: 2 }));
    const both = admission.enter(jobs({ full: 1, free: 1 }));
    const onlyFree = admission.enter(jobs({ free: 1 }));
    expect(await state(both)).toBe("waiting");
    expect(await state(onlyFree)).toBe("in");
  });

  it("gives the room of duplicates (jobs not stored) to whoever waits", async () => {
    const admission = createFreshAdmission({ clock, maxFresh: 2 });
    expect(admission.enter(jobs({ a: 2 }))).toBeUndefined();
    const waiting = admission.enter(jobs({ a: 1 }));
    admission.stored(jobs({ a: 2 }), jobs({ a: 1 }));
    expect(await state(waiting)).toBe("in");
  });

  it("frees the room of an accept whose write failed", async () => {
    const admission = createFreshAdmission({ clock, maxFresh: 1 });
    expect(admission.enter(jobs({ a: 1 }))).toBeUndefined();
    const waiting = admission.enter(jobs({ a: 1 }));
    admission.abandoned(jobs({ a: 1 }));
    expect(await state(waiting)).toBe("in");
  });

  it("counts the jobs of accepts that never entered (settling) as fresh", async () => {
    const admission = createFreshAdmission({ clock, maxFresh: 1 });
    admission.stored(undefined, jobs({ a: 1 }));
    expect(await state(admission.enter(jobs({ a: 1 })))).toBe("waiting");
  });

  it("counts the fresh jobs it starts with, and redriven ones", async () => {
    const admission = createFreshAdmission({ clock, maxFresh: 2, fresh: [["a", 2]] });
    expect(await state(admission.enter(jobs({ a: 1 })))).toBe("waiting");
    const other = createFreshAdmission({ clock, maxFresh: 2 });
    other.redriven("b", 2);
    expect(await state(other.enter(jobs({ b: 1 })))).toBe("waiting");
  });

  it("lets publishers in once every attempt has failed for failingAfterMs, until a delivery", async () => {
    const admission = createFreshAdmission({ clock, maxFresh: 1, failingAfterMs: 100 });
    fill(admission, jobs({ a: 1 }));
    admission.failed("a");
    expect(admission.isFailing("a")).toBe(true);
    const waiting = admission.enter(jobs({ a: 1 }));
    now += 99;
    vi.advanceTimersByTime(99);
    expect(await state(waiting)).toBe("waiting");
    now += 1;
    vi.advanceTimersByTime(1);
    expect(await state(waiting)).toBe("in");
    // Down: nothing is held against its publishers.
    expect(admission.enter(jobs({ a: 3 }))).toBeUndefined();
    admission.delivered("a");
    expect(admission.isFailing("a")).toBe(false);
    expect(await state(admission.enter(jobs({ a: 1 })))).toBe("waiting");
  });

  it("does not let publishers in when a delivery comes before failingAfterMs", async () => {
    const admission = createFreshAdmission({ clock, maxFresh: 1, failingAfterMs: 100 });
    fill(admission, jobs({ a: 1 }));
    admission.failed("a");
    const waiting = admission.enter(jobs({ a: 1 }));
    admission.delivered("a");
    now += 200;
    vi.advanceTimersByTime(200);
    expect(await state(waiting)).toBe("waiting");
  });

  it("lets publishers in once an attempt has been in flight stalledAfterMs with none settled, until one settles", async () => {
    const admission = createFreshAdmission({ clock, maxFresh: 1, stalledAfterMs: 2_000 });
    fill(admission, jobs({ a: 1 }));
    admission.handedOut("a"); // its first attempt: the sink never answers
    fill(admission, jobs({ a: 1 }));
    const waiting = admission.enter(jobs({ a: 1 }));
    now += 1_999;
    vi.advanceTimersByTime(1_999);
    expect(await state(waiting)).toBe("waiting");
    now += 1;
    vi.advanceTimersByTime(1);
    expect(await state(waiting)).toBe("in");
    // Stalled: nothing is held against its publishers, and it is not "failing" (nothing failed).
    expect(admission.enter(jobs({ a: 3 }))).toBeUndefined();
    expect(admission.isFailing("a")).toBe(false);
    // An answer, even a late one, ends the stall.
    admission.delivered("a");
    expect(await state(admission.enter(jobs({ a: 1 })))).toBe("waiting");
  });

  it("keeps holding publishers back while attempts keep settling, or when none is in flight", async () => {
    const admission = createFreshAdmission({ clock, maxFresh: 1, stalledAfterMs: 2_000 });
    fill(admission, jobs({ a: 1 }));
    admission.handedOut("a");
    fill(admission, jobs({ a: 1 }));
    const first = admission.enter(jobs({ a: 1 }));
    // A slow sink: an answer every 1.5 s, each followed by the next attempt.
    for (let i = 0; i < 3; i++) {
      now += 1_500;
      vi.advanceTimersByTime(1_500);
      admission.delivered("a");
      admission.handedOut("a");
      admission.stored(undefined, jobs({ a: 1 })); // the backlog stays full
      expect(await state(first)).toBe("waiting");
    }
    // Refused after maxWaitMs (5 s), as without a stall.
    now += 500;
    vi.advanceTimersByTime(500);
    expect(await state(first)).toBe("refused");
    // Nothing in flight (the last attempt answered): no stall, however long it stays so.
    admission.delivered("a");
    const second = admission.enter(jobs({ a: 1 }));
    now += 4_999;
    vi.advanceTimersByTime(4_999);
    expect(await state(second)).toBe("waiting");
  });

  it("forgets a dropped subscription's count and failure", async () => {
    const admission = createFreshAdmission({ clock, maxFresh: 1 });
    fill(admission, jobs({ a: 1 }));
    admission.failed("a");
    const waiting = admission.enter(jobs({ a: 1 }));
    admission.dropped("a");
    expect(await state(waiting)).toBe("in");
    expect(admission.isFailing("a")).toBe(false);
  });

  it("lets every waiting accept in at close, and every later one at once", async () => {
    const admission = createFreshAdmission({ clock, maxFresh: 1 });
    fill(admission, jobs({ a: 1 }));
    const waiting = admission.enter(jobs({ a: 1 }));
    admission.close();
    expect(await state(waiting)).toBe("in");
    expect(admission.enter(jobs({ a: 5 }))).toBeUndefined();
  });

  it("rejects a stalledAfterMs that is not a number of milliseconds", () => {
    expect(() => createFreshAdmission({ clock, maxFresh: 1, stalledAfterMs: -1 })).toThrow(
      /stalledAfterMs/,
    );
  });

  it("rejects a failingAfterMs that is not a number of milliseconds", () => {
    expect(() => createFreshAdmission({ clock, maxFresh: 1, failingAfterMs: -1 })).toThrow(
      TypeError,
    );
    expect(() => createFreshAdmission({ clock, maxFresh: 1, failingAfterMs: Number.NaN })).toThrow(
      TypeError,
    );
  });
});
