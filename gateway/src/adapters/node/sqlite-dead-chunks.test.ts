import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  buryLeased,
  REFUSED as failure,
  NEVER as never,
  numberedEvents,
} from "../../../test/support/dead-jobs.js";
import { eventLoopStalls } from "../../../test/support/event-loop-stalls.js";
import type { DeliveryQueue } from "../../deliver/delivery-queue.js";
import { openSqliteStore, type SqliteStore } from "./sqlite-store.js";

const dir = mkdtempSync(join(tmpdir(), "herald-sqlite-dead-"));
const stores: SqliteStore[] = [];
afterAll(async () => {
  for (const store of stores) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

let stored = 0;
const events = numberedEvents();

/** A fresh store with `n` dead jobs of `sub` (a sink that answered 400 to each). */
async function withDead(n: number): Promise<DeliveryQueue> {
  const store = openSqliteStore({ path: join(dir, `${stored++}.db`) });
  stores.push(store);
  const { queue } = store;
  for (let done = 0; done < n; done += 1_000) {
    const batch = Math.min(1_000, n - done);
    await queue.accept(events(batch, "sub"));
    await buryLeased(queue, batch);
  }
  return queue;
}

describe("SQLite: redrive and delete of a whole dead set", () => {
  // One statement for the whole set held the event loop as long as it ran (100 ms to redrive
  // 50,000 dead jobs, 170 ms to delete them; no bound but the disk), and no accept or delivery
  // went on meanwhile. In chunks, the longest stall is about one chunk's whatever the set's size
  // (a few times that when a commit checkpoints the WAL, which a set of 1,000 does not reach). A
  // ratio within one process: 40,000 dead jobs against 1,000 (one chunk); 20-40x before.
  it("holds the event loop about as long for 40,000 dead jobs as for 1,000", async () => {
    const stall = async (n: number, work: () => Promise<number>) => {
      let count = 0;
      const { longest: ms } = await eventLoopStalls(async () => {
        count = await work();
      });
      expect(count).toBe(n);
      return ms;
    };
    const both = async (n: number) => {
      const queue = await withDead(n);
      const redrive = await stall(n, () => queue.redrive("sub"));
      await buryLeased(queue, n);
      const discard = await stall(n, () => queue.discardDead("sub"));
      return { redrive, discard };
    };
    await both(1_000); // the JIT
    const small = [await both(1_000), await both(1_000)];
    const large = await both(40_000);
    for (const name of ["redrive", "discard"] as const) {
      const below = Math.min(...small.map((run) => run[name]));
      expect(large[name] / below, `${name}: ${large[name]} ms against ${below} ms`).toBeLessThan(
        15,
      );
    }
  });

  it("takes every dead job of the subscription and nothing else, and ends though jobs die meanwhile", async () => {
    const queue = await withDead(2_500);
    await queue.accept(events(3, "other"));
    const [otherDead] = await queue.lease(1, 600_000, never);
    await queue.bury(otherDead?.id ?? "", failure);
    await queue.accept(events(2, "sub"));
    const leased = await queue.lease(10, 600_000, never);
    expect(leased).toHaveLength(4);
    const [dying] = leased.filter((job) => job.subscriptionId === "sub");
    // A live job dies while the redrive runs: it may or may not be taken, never twice.
    const redriving = queue.redrive("sub");
    await queue.bury(dying?.id ?? "", failure);
    const redriven = await redriving;
    expect([2_500, 2_501]).toContain(redriven);
    expect(await queue.size()).toBe(3 + redriven);
    const dead = await queue.dead("sub", { limit: 10 });
    expect(dead.map((job) => job.id)).toEqual(redriven === 2_500 ? [dying?.id] : []);
    // Lease them all and let them die again; delete the lot.
    for (;;) {
      const jobs = await queue.lease(1_000, 600_000, AbortSignal.timeout(200));
      const theirs = jobs.filter((job) => job.subscriptionId === "sub");
      await Promise.all(theirs.map((job) => queue.bury(job.id, failure)));
      if (theirs.length === 0) break;
    }
    expect(await queue.discardDead("sub")).toBe(2_501);
    // The job leased all along is not dead: still there.
    expect(await queue.size()).toBe(3);
    expect(await queue.dead("sub", { limit: 10 })).toEqual([]);
    expect((await queue.dead("other", { limit: 10 })).map((job) => job.id)).toEqual([
      otherDead?.id,
    ]);
    expect(await queue.discardDead("sub")).toBe(0);
    expect(await queue.redrive("sub")).toBe(0);
  });
});

describe("SQLite: drop of a subscription with many jobs", () => {
  // One DELETE scanned the whole table for the subscription's rows and held the event loop as
  // long as it ran (125 ms for 40,000 dead jobs, 47x the stall for 1,000; 4x in chunks). In chunks through the indexes, the longest stall
  // is about one chunk's. A ratio within one process: 40,000 dead jobs against 1,000.
  it("holds the event loop about as long for 40,000 dead jobs as for 1,000", async () => {
    const stall = async (n: number) => {
      const queue = await withDead(n);
      let count = 0;
      const { longest: ms } = await eventLoopStalls(async () => {
        count = await queue.drop("sub");
      });
      expect(count).toBe(n);
      return ms;
    };
    await stall(1_000); // the JIT
    const below = Math.min(await stall(1_000), await stall(1_000));
    const large = await stall(40_000);
    expect(large / below, `drop: ${large} ms against ${below} ms`).toBeLessThan(15);
  });

  it("takes every job of the subscription, fresh, leased, due and dead, and nothing else", async () => {
    const store = openSqliteStore({ path: join(dir, `${stored++}.db`), memoryJobs: 1_500 });
    stores.push(store);
    const { queue } = store;
    // 2,500 dead, 1,200 due in the file (rescheduled), 2,000 accepted (1,500 waiting in memory,
    // the rest indexed), 3 leased from memory; another subscription's 4 jobs.
    for (let done = 0; done < 2_500; done += 500) {
      await queue.accept(events(500, "sub"));
      await buryLeased(queue, 500);
    }
    await queue.accept(events(1_200, "sub"));
    for (const job of await queue.lease(1_200, 600_000, never)) {
      await queue.reschedule(job.id, Date.now() + 600_000, { status: 503, error: "down", at: 0 });
    }
    await queue.accept(events(4, "other"));
    await queue.accept(events(2_000, "sub"));
    const leased = await queue.lease(7, 600_000, never);
    expect(leased.map((job) => job.subscriptionId).sort()).toEqual([
      ...Array(4).fill("other"),
      ...Array(3).fill("sub"),
    ]);
    const before = await queue.size();
    expect(before).toBe(1_200 + 4 + 2_000);
    expect(await queue.drop("sub")).toBe(2_500 + 1_200 + 2_000);
    expect(await queue.size()).toBe(4);
    expect(await queue.dead("sub", { limit: 10 })).toEqual([]);
    // Nothing of it is handed out again, its leased jobs' leases are gone with them.
    const left = await queue.lease(100, 600_000, AbortSignal.timeout(100));
    expect(left).toEqual([]);
    for (const job of leased) await queue.complete(job.id);
    expect(await queue.size()).toBe(0);
    // A job accepted after the drop is there.
    await queue.accept(events(1, "sub"));
    expect(await queue.size()).toBe(1);
    expect(await queue.drop("sub")).toBe(1);
  });
});
