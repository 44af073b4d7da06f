import { expect, it } from "vitest";
import type { DeliveryJob, DeliveryQueue } from "./delivery-queue.js";

/** What the `findDead` cases need of a store: its dead side, and a way to fill it. */
export interface FindDeadSetup {
  readonly queue: Pick<DeliveryQueue, "dead" | "findDead" | "redrive" | "discardDead">;
  /** Makes `n` new jobs of `subscriptionId` dead, oldest first; resolves with them. */
  buryAll(n: number, subscriptionId: string): Promise<readonly DeliveryJob[]>;
  /**
   * Makes a queued and a leased job of `subscriptionId` (not dead); resolves with their ids.
   * Absent where live jobs are not the store's (Workers: they wait in the Queue).
   */
  live?(subscriptionId: string): Promise<readonly string[]>;
}

/**
 * Text that is no job id of one store or another: the other stores' forms (a UUID is no
 * SQLite row id, digits no D1 UUID), leading zeros, signs, blanks, past 2^53, SQL, control
 * characters, 10,000 characters. Each must find nothing, never throw.
 */
const NO_JOB = [
  "999999",
  "9".repeat(20),
  "00000000-0000-4000-8000-000000000000",
  "0",
  "-1",
  "01",
  "1.5",
  " 1",
  "",
  "zzz",
  "1' OR '1'='1",
  "\u0000",
  "x".repeat(10_000),
];

/**
 * The `DeliveryQueue.findDead` cases (`GET /subscriptions/{id}/dead/{jobId}`), shared by every
 * store: `delivery-queue.case.ts` runs them for memory, SQLite and NATS, the D1 tests in workerd
 * for Workers. Call inside a `describe`; `make` gives a fresh, empty store each time.
 *
 * @example
 * describe("findDead", () => findDeadCases(async () => ({ queue, buryAll })));
 */
export function findDeadCases(make: () => Promise<FindDeadSetup>): void {
  it("finds a dead job by its id, exactly as the dead page lists it", async () => {
    const { queue, buryAll } = await make();
    const jobs = await buryAll(3, "sub");
    const [theirs] = await buryAll(1, "other");
    const page = await queue.dead("sub", { limit: 10 });
    expect(page).toHaveLength(3);
    for (const listed of page) {
      expect(await queue.findDead("sub", listed.id)).toStrictEqual(listed);
    }
    expect((await queue.findDead("sub", jobs[1]?.id ?? ""))?.event).toStrictEqual(jobs[1]?.event);
    // Only in its own subscription.
    expect(await queue.findDead("sub", theirs?.id ?? "")).toBeUndefined();
    expect(await queue.findDead("other", jobs[0]?.id ?? "")).toBeUndefined();
    expect(await queue.findDead("nobody", jobs[0]?.id ?? "")).toBeUndefined();
    expect((await queue.findDead("other", theirs?.id ?? ""))?.id).toBe(theirs?.id);
  });

  it("finds no job once redriven or discarded, and nothing for text that is no job id", async () => {
    const { queue, buryAll } = await make();
    const [redriven, discarded, kept] = await buryAll(3, "sub");
    expect(await queue.redrive("sub", [redriven?.id ?? ""])).toBe(1);
    expect(await queue.discardDead("sub", [discarded?.id ?? ""])).toBe(1);
    expect(await queue.findDead("sub", redriven?.id ?? "")).toBeUndefined();
    expect(await queue.findDead("sub", discarded?.id ?? "")).toBeUndefined();
    for (const text of NO_JOB) {
      expect(await queue.findDead("sub", text), JSON.stringify(text.slice(0, 20))).toBeUndefined();
    }
    expect((await queue.findDead("sub", kept?.id ?? ""))?.id).toBe(kept?.id);
  });

  it("finds no job that is queued or leased, only dead ones", async (context) => {
    const setup = await make();
    // Skipped on Workers only: a queued or leased job waits in the Queue there, not in D1, so
    // no D1 row can be asked about (see `FindDeadSetup.live`).
    if (setup.live === undefined) return context.skip();
    const live = await setup.live("sub");
    expect(live).toHaveLength(2);
    for (const id of live) expect(await setup.queue.findDead("sub", id)).toBeUndefined();
  });
}
