import { afterEach, describe, expect, it } from "vitest";
import {
  delivered,
  event,
  fakeDeliverer,
  subscription,
} from "../../test/support/dispatcher-kit.js";
import type { DeliveryQueue } from "./delivery-queue.js";
import { createDispatcher } from "./dispatcher.js";
import { createMemoryQueue } from "./memory-queue.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/**
 * Starts a dispatcher over `perLane` waiting jobs for each of `lanes` batch subscriptions
 * (maxBatchSize 1,000, so none is full and nothing is sent): how many jobs it had leased when
 * the event loop first turned (a callback queued as it started ran).
 */
async function leasedAtFirstTurn(lanes: number, perLane: number): Promise<number> {
  const ids = Array.from({ length: lanes }, (_, i) => `s${i}`);
  const memory = createMemoryQueue({ capacity: 1_000_000 });
  let leased = 0;
  const queue: DeliveryQueue = {
    ...memory,
    async lease(max, leaseMs, signal, skip) {
      const jobs = await memory.lease(max, leaseMs, signal, skip);
      leased += jobs.length;
      return jobs;
    },
  };
  for (let i = 0; i < perLane; i++) {
    await queue.accept([{ event: event(`e${i}`), subscriptionIds: ids }]);
  }
  const subs = new Map(
    ids.map((id) => [
      id,
      subscription(id, { mode: "batch", maxBatchSize: 1_000, maxBatchWaitMs: 60_000 }),
    ]),
  );
  const dispatcher = createDispatcher({
    queue,
    deliverer: fakeDeliverer(() => delivered).deliverer,
    subscriptions: (id) => subs.get(id),
    leaseMs: 600_000,
  });
  stops.push(() => dispatcher.stop());
  const total = lanes * perLane;
  let atFirstTurn = -1;
  dispatcher.start();
  setImmediate(() => {
    atFirstTurn = leased;
  });
  while (leased < total) await new Promise((resolve) => setTimeout(resolve, 2));
  await new Promise((resolve) => setImmediate(resolve)); // the callback has run
  return atFirstTurn;
}

describe("dispatcher: leasing for batch lanes", () => {
  // A lease that finds jobs due resolves at once, and batch lanes are skipped only once full, so
  // the loop leased every waiting job of every lane (up to maxBatchSize each) in one task: 32
  // lanes of 999 jobs held the event loop 55-100 ms, no timer or request served meanwhile. It
  // now lets the event loop turn every 256 jobs leased.
  it("lets the event loop turn while it leases 32 lanes of 999 waiting jobs", async () => {
    const leased = await leasedAtFirstTurn(32, 999);
    // All 31,968 before (the longest timer gap 55-100 ms; now 5-15).
    expect(leased).toBeGreaterThan(0);
    expect(leased).toBeLessThan(1_000);
  });
});
