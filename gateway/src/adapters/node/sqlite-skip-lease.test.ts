import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, expect, it } from "vitest";
import { manualClock } from "../../deliver/delivery-queue.case.js";
import type { DeliveryQueue } from "../../deliver/delivery-queue.js";
import { createSqliteStore } from "./sqlite-store.js";

const dir = mkdtempSync(join(tmpdir(), "herald-skip-lease-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
let seq = 0;
const never = new AbortController().signal;
const accepted = (subscriptionId: string) => ({
  event: { attributes: { specversion: "1.0", id: `e${++seq}`, source: "/s", type: "t" } },
  subscriptionIds: [subscriptionId],
});

/** A store in a file of its own that keeps no jobs in memory: every accepted job is an indexed row. */
function openStore(clock: ReturnType<typeof manualClock>) {
  const path = join(dir, `f${++files}`);
  mkdirSync(path);
  const file = join(path, "herald.db");
  return createSqliteStore(new Database(file), {
    path: file,
    clock,
    memoryJobs: 0,
    maxFresh: 100_000,
  });
}

/** A store with 70 subscriptions that have jobs (none due) and `paused` with `backlog` due rows. */
async function storeWith(backlog: number) {
  const clock = manualClock();
  const store = openStore(clock);
  const { queue } = store;
  await queue.accept(Array.from({ length: 70 }, (_, i) => accepted(`other${i}`)));
  const others = await queue.lease(70, 60_000, never);
  const later = { status: 503, error: "503", at: 0 };
  await Promise.all(others.map((job) => queue.reschedule(job.id, clock.now() + 3_600_000, later)));
  for (let done = 0; done < backlog; done += 1_000) {
    await queue.accept(Array.from({ length: 1_000 }, () => accepted("paused")));
  }
  return { queue, close: () => store.close() };
}

/**
 * Mean ms of an accept, lease and complete of a healthy subscription while `paused` is skipped,
 * and every other lease `busy` too (a lane at its concurrency or rate limit, as the dispatcher's
 * skip set changes): a lease then cannot start its read past the rows the last one saw held
 * (`heldTo` holds for a lease skipping at least what its own skipped).
 */
async function healthyMs(queue: DeliveryQueue, rounds: number): Promise<number> {
  const skips = [new Set(["paused", "busy"]), new Set(["paused"])];
  const started = performance.now();
  for (let i = 0; i < rounds; i++) {
    await queue.accept([accepted("healthy")]);
    const [job] = await queue.lease(1, 60_000, never, skips[i % 2]);
    expect(job?.subscriptionId).toBe("healthy");
    await queue.complete(job?.id as string);
  }
  return (performance.now() - started) / rounds;
}

it("a lease that skips a subscription costs the same whatever the due backlog it skips", async () => {
  // Past 64 subscriptions one query over all due rows filtered the skipped ones out, walking
  // every due row of a sink paused by Retry-After (or held by its rate), every lease that could
  // not start past them.
  const empty = await storeWith(0);
  const deep = await storeWith(20_000);
  try {
    await healthyMs(empty.queue, 50);
    await healthyMs(deep.queue, 50);
    const without = await healthyMs(empty.queue, 300);
    const withBacklog = await healthyMs(deep.queue, 300);
    // About 1x with per-subscription reads; 20x to 100x when the 20,000 rows are walked (every
    // other lease here).
    expect(withBacklog / without).toBeLessThan(5);
  } finally {
    await empty.close();
    await deep.close();
  }
}, 60_000);

it("reads a subscription found with nothing due again once a row of its is due (reschedule, lease expiry, redrive, accept)", async () => {
  const clock = manualClock();
  const store = openStore(clock);
  const { queue } = store;
  const skip = new Set(["paused"]);
  const failure = { status: 503, error: "503", at: 0 };
  // Nothing of `sub` to hand out: a read of its rows finds none due and bounds it.
  const none = async () => {
    expect(await queue.lease(10, 60_000, AbortSignal.timeout(30), skip)).toEqual([]);
  };
  const leaseOne = async (leaseMs = 60_000) => {
    const jobs = await queue.lease(10, leaseMs, never, skip);
    expect(jobs.map((job) => job.subscriptionId)).toEqual(["sub"]);
    return jobs[0]?.id as string;
  };
  try {
    // A skipped subscription's due row keeps reads going (no `indexedNext` to spare them).
    await queue.accept([accepted("paused"), accepted("sub"), accepted("sub")]);
    const [a, b] = (await queue.lease(10, 60_000, never, skip)).map((job) => job.id);
    await queue.reschedule(b as string, clock.now() + 3_600_000, failure);
    await none();
    // A held row rescheduled to now.
    await queue.reschedule(a as string, clock.now(), failure);
    expect(await leaseOne(1_000)).toBe(a);
    await none();
    // A held row whose lease expired.
    clock.advance(1_001);
    expect(await leaseOne()).toBe(a);
    await none();
    // A dead row redriven.
    await queue.bury(a as string, failure);
    await none();
    expect(await queue.redrive("sub", [a as string])).toBe(1);
    expect(await leaseOne()).toBe(a);
    await queue.complete(a as string);
    await none();
    // A job accepted as an indexed row.
    await queue.accept([accepted("sub")]);
    await leaseOne();
  } finally {
    await store.close();
  }
});
