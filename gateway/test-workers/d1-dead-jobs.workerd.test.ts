import { beforeEach, describe, expect, it } from "vitest";
import { createD1DeadJobs } from "../src/adapters/workers/d1-dead-jobs.js";
import { ensureSchema } from "../src/adapters/workers/d1-schema.js";
import type { DeliveryJob } from "../src/deliver/delivery-queue.js";
import { MalformedRequest } from "../src/errors/errors.js";
import { bindings, resetDatabase } from "./harness.js";

beforeEach(async () => {
  await ensureSchema(bindings.HERALD_DB);
  await resetDatabase();
});

const job = (n: number, subscriptionId = "sub"): DeliveryJob => ({
  id: crypto.randomUUID(),
  subscriptionId,
  event: {
    attributes: { specversion: "1.0", id: `e-${n}`, source: "/orders", type: "com.example.t" },
  },
  attempts: 0,
});

/** `count` jobs of `subscriptionId` buried in order; resolves with them. */
async function buryAll(count: number, subscriptionId = "sub") {
  const dead = createD1DeadJobs(bindings.HERALD_DB);
  const jobs = Array.from({ length: count }, (_, n) => job(n, subscriptionId));
  for (const j of jobs) await dead.bury(j, { status: 400, error: "no", at: 0 });
  return jobs;
}

// The cases of delivery-queue.case.ts ("pages through", "refuses a dead-page cursor") on D1,
// whose job ids are UUIDs with no order of their own.
describe("D1 dead jobs: pages", () => {
  it("pages through one subscription's dead jobs, oldest first", async () => {
    const dead = createD1DeadJobs(bindings.HERALD_DB);
    const jobs = await buryAll(5);
    await buryAll(2, "other");
    const ids = (page: readonly DeliveryJob[]) => page.map((j) => j.id);
    const first = await dead.page("sub", 2);
    expect(ids(first)).toStrictEqual(ids(jobs.slice(0, 2)));
    const second = await dead.page("sub", 2, first[1]!.id);
    expect(ids(second)).toStrictEqual(ids(jobs.slice(2, 4)));
    const last = await dead.page("sub", 2, second[1]!.id);
    expect(ids(last)).toStrictEqual([jobs[4]!.id]);
    expect(await dead.page("sub", 2, last[0]!.id)).toStrictEqual([]);
    expect(await dead.page("nobody", 2)).toStrictEqual([]);
  });

  it("refuses a cursor naming no dead job of the subscription instead of starting again", async () => {
    const dead = createD1DeadJobs(bindings.HERALD_DB);
    const jobs = await buryAll(3);
    const [theirs] = await buryAll(1, "other");
    await dead.remove([jobs[0]!.id]); // redriven since
    for (const after of ["zzz", crypto.randomUUID(), theirs!.id, jobs[0]!.id]) {
      await expect(dead.page("sub", 2, after)).rejects.toBeInstanceOf(MalformedRequest);
    }
    expect((await dead.page("sub", 5, jobs[1]!.id)).map((j) => j.id)).toStrictEqual([jobs[2]!.id]);
  });
});
