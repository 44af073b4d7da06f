import { afterEach, describe, expect, it } from "vitest";
import {
  delivered,
  event,
  events,
  fakeDeliverer,
  recordingSettle,
  subscription,
  turns,
} from "../../test/support/dispatcher-kit.js";
import { createFakeTime } from "../../test/support/fake-time.js";
import { createTestQueue } from "../../test/support/test-queue.js";
import type { DeliverySettings } from "../subscriptions/subscription.js";
import { createDispatcher } from "./dispatcher.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function setup(delivery: Partial<DeliverySettings>) {
  const time = createFakeTime();
  const queue = createTestQueue(time.clock);
  const { settle, settled } = recordingSettle(queue);
  const fake = fakeDeliverer(() => delivered);
  const sub = subscription("batched", { mode: "batch", ...delivery });
  const dispatcher = createDispatcher({
    queue,
    deliverer: fake.deliverer,
    settle,
    subscriptions: (id) => (id === "batched" ? sub : undefined),
    clock: time.clock,
    timers: time.timers,
  });
  stops.push(() => dispatcher.stop());
  return { time, queue, dispatcher, settled, attempts: fake.attempts };
}

describe("dispatcher batch mode", () => {
  it("sends full batches at once and the rest after maxBatchWaitMs; the attempt id is the first job's", async () => {
    const { time, queue, dispatcher, settled, attempts } = setup({
      maxBatchSize: 3,
      maxBatchWaitMs: 1_000,
    });
    await queue.add("batched", ...events("e", 7));
    dispatcher.start();
    await turns();
    expect(attempts.map((a) => a.events)).toEqual([
      ["e0", "e1", "e2"],
      ["e3", "e4", "e5"],
    ]);
    time.advance(999);
    await turns();
    expect(attempts).toHaveLength(2);
    time.advance(1);
    await turns();
    expect(attempts.map((a) => a.events)).toEqual([["e0", "e1", "e2"], ["e3", "e4", "e5"], ["e6"]]);
    await dispatcher.idle();
    // Settle gets every job of its attempt, in order, and the attempt went out under the first id.
    expect(settled.map((s) => s.jobs.map((j) => j.event.attributes.id))).toEqual(
      attempts.map((a) => a.events),
    );
    expect(attempts.map((a) => a.id)).toEqual(settled.map((s) => s.jobs[0]?.id));
  });

  it("waits at most maxBatchWaitMs from the batch's first job, filling it meanwhile", async () => {
    const { time, queue, dispatcher, attempts } = setup({
      maxBatchSize: 10,
      maxBatchWaitMs: 1_000,
    });
    dispatcher.start();
    await queue.add("batched", event("a"));
    await turns();
    time.advance(600);
    await queue.add("batched", event("b"), event("c"));
    await turns();
    time.advance(399);
    await turns();
    expect(attempts).toEqual([]);
    time.advance(1);
    await turns();
    expect(attempts.map((a) => a.events)).toEqual([["a", "b", "c"]]);
    await dispatcher.idle();
  });

  it("uses DEFAULT_MAX_BATCH_SIZE and holds no more than one batch's jobs beyond it", async () => {
    const { DEFAULT_MAX_BATCH_SIZE } = await import("../subscriptions/subscription.js");
    const { queue, dispatcher, attempts } = setup({ maxBatchWaitMs: 60_000 });
    await queue.add("batched", ...events("e", DEFAULT_MAX_BATCH_SIZE * 2));
    dispatcher.start();
    await dispatcher.idle();
    expect(attempts.map((a) => a.events.length)).toEqual([
      DEFAULT_MAX_BATCH_SIZE,
      DEFAULT_MAX_BATCH_SIZE,
    ]);
  });

  it("batches within delivery.concurrency: one batch in flight at a time with concurrency 1", async () => {
    const { time, queue, dispatcher, attempts } = setup({
      maxBatchSize: 2,
      maxBatchWaitMs: 1_000,
      concurrency: 1,
    });
    await queue.add("batched", ...events("e", 5));
    dispatcher.start();
    await turns();
    // One after the other, each full; the last one waits for its deadline.
    expect(attempts.map((a) => a.events)).toEqual([
      ["e0", "e1"],
      ["e2", "e3"],
    ]);
    time.advance(1_000);
    await dispatcher.idle();
    expect(attempts.map((a) => a.events)).toEqual([["e0", "e1"], ["e2", "e3"], ["e4"]]);
  });

  it("stop() sends a partial batch at once instead of leaving it leased", async () => {
    const { queue, dispatcher, settled } = setup({ maxBatchSize: 10, maxBatchWaitMs: 60_000 });
    await queue.add("batched", event("a"), event("b"));
    dispatcher.start();
    await turns();
    expect(settled).toEqual([]);
    await dispatcher.stop();
    expect(settled.map((s) => s.jobs.length)).toEqual([2]);
    expect(await queue.size()).toBe(0);
  });
});
