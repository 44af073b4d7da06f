import { afterEach, describe, expect, it } from "vitest";
import {
  delivered,
  event,
  events,
  fakeDeliverer,
  recordingLogger,
  recordingSettle,
  subscription,
  turns,
} from "../../test/support/dispatcher-kit.js";
import { createFakeTime } from "../../test/support/fake-time.js";
import { createTestQueue } from "../../test/support/test-queue.js";
import type { Subscription } from "../subscriptions/subscription.js";
import type { DeliveryOutcome } from "./delivery-outcome.js";
import { createDispatcher } from "./dispatcher.js";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** A dispatcher on fake time whose sinks answer `answer` (default: delivered); attempt times by subscription. */
function setup(
  subs: readonly Subscription[],
  answer: (sub: Subscription) => DeliveryOutcome = () => delivered,
) {
  const time = createFakeTime();
  const queue = createTestQueue(time.clock);
  const { settle, settled } = recordingSettle(queue);
  const start = time.clock.now();
  const times: Record<string, number[]> = {};
  const fake = fakeDeliverer((_attempt, sub) => {
    const list = times[sub.id] ?? [];
    times[sub.id] = list;
    list.push(time.clock.now() - start);
    return answer(sub);
  });
  const byId = new Map(subs.map((s) => [s.id, s]));
  const logger = recordingLogger();
  const dispatcher = createDispatcher({
    queue,
    deliverer: fake.deliverer,
    settle,
    subscriptions: (id) => byId.get(id),
    clock: time.clock,
    timers: time.timers,
    logger,
  });
  stops.push(() => dispatcher.stop());
  return { time, queue, dispatcher, times, settled, logger };
}

describe("dispatcher rate (delivery.rate as a sliding window)", () => {
  it("sends a burst of count, then never more than count in any perMs, driven by a single timer", async () => {
    const { time, queue, dispatcher, times } = setup([
      subscription("limited", { rate: { count: 2, perMs: 1_000 } }),
    ]);
    await queue.add("limited", ...events("e", 8));
    dispatcher.start();
    await turns();
    expect(times.limited).toEqual([0, 0]);
    expect(time.pending()).toBe(1);
    for (let t = 0; t < 3_000; t += 100) {
      time.advance(100);
      await turns();
      expect(time.pending()).toBeLessThanOrEqual(1);
    }
    // A token bucket of 2/s would send 0, 0, 500, 1000, ...: three in the first second, which a
    // sink counting 2 a second answers with 429.
    expect(times.limited).toEqual([0, 0, 1_000, 1_000, 2_000, 2_000, 3_000, 3_000]);
    await dispatcher.idle();
    // The timer stays until the window empties, which lets the queue hand out this subscription again.
    expect(time.pending()).toBe(1);
    time.advance(1_000);
    await turns();
    expect(time.pending()).toBe(0);
  });

  it("leaves a subscription without room in its rate in the queue and wakes the lease when there is", async () => {
    const { time, queue, dispatcher, times } = setup([
      subscription("limited", { rate: { count: 1, perMs: 60_000 } }),
      subscription("free"),
    ]);
    await queue.add("limited", event("l0"));
    dispatcher.start();
    await turns();
    expect(times.limited).toEqual([0]);
    // Its rate used up: new jobs for it stay queued (skipped at lease); others flow.
    await queue.add("limited", event("l1"));
    await queue.add("free", ...events("f", 5));
    await turns();
    expect(times.free).toHaveLength(5);
    expect(times.limited).toEqual([0]);
    expect(await queue.size()).toBe(1);
    expect(queue.skips.at(-1)).toEqual(new Set(["limited"]));
    time.advance(59_999);
    await turns();
    expect(times.limited).toEqual([0]);
    time.advance(1);
    await turns();
    expect(times.limited).toEqual([0, 60_000]);
    await dispatcher.idle();
  });
});

describe("dispatcher pause on Retry-After", () => {
  /** The "throttled" sink answers its first request 429 (with `Retry-After` if given), then 2xx. */
  function pausing(retryAfterMs: number | undefined, subs: readonly Subscription[]) {
    let throttled = false;
    return setup(subs, (sub): DeliveryOutcome => {
      if (sub.id !== "throttled" || throttled) return delivered;
      throttled = true;
      return {
        kind: "retry",
        status: 429,
        error: "slow down",
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      };
    });
  }

  it("starts no attempt to the subscription until the sink's Retry-After has passed; others flow", async () => {
    const { time, queue, dispatcher, times } = pausing(30_000, [
      subscription("throttled", { concurrency: 1 }),
      subscription("free"),
    ]);
    await queue.add("throttled", ...events("t", 4));
    dispatcher.start();
    await turns();
    expect(times.throttled).toEqual([0]);
    await queue.add("free", ...events("f", 3));
    time.advance(29_999);
    await turns();
    expect(times.throttled).toEqual([0]);
    expect(times.free).toHaveLength(3);
    time.advance(1);
    await turns();
    // The pause is over: the other three go (one at a time, concurrency 1).
    expect(times.throttled).toEqual([0, 30_000, 30_000, 30_000]);
    await dispatcher.idle();
  });

  it("caps the pause like a job's own wait (an hour unless backoffMax is longer)", async () => {
    const { time, queue, dispatcher, times } = pausing(10 * 24 * 3_600_000, [
      subscription("throttled", { concurrency: 1 }),
    ]);
    await queue.add("throttled", ...events("t", 2));
    dispatcher.start();
    await turns();
    time.advance(3_600_000 - 1);
    await turns();
    expect(times.throttled).toEqual([0]);
    time.advance(1);
    await turns();
    expect(times.throttled).toEqual([0, 3_600_000]);
    await dispatcher.idle();
  });

  it("logs a pause only when there is one: not for Retry-After 0 or a date already past", async () => {
    const pauses = (logger: ReturnType<typeof recordingLogger>) =>
      logger.lines.filter((line) => line.message.includes("asked for a pause"));
    const none = pausing(0, [subscription("throttled", { concurrency: 1 })]);
    await none.queue.add("throttled", ...events("t", 2));
    none.dispatcher.start();
    await turns();
    expect(none.times.throttled).toEqual([0, 0]);
    await none.dispatcher.idle();
    expect(pauses(none.logger)).toEqual([]);
    const some = pausing(5_000, [subscription("throttled", { concurrency: 1 })]);
    await some.queue.add("throttled", ...events("t", 2));
    some.dispatcher.start();
    await turns();
    expect(pauses(some.logger).map((line) => line.fields?.pauseMs)).toEqual([5_000]);
  });

  it("does not pause on a retry without Retry-After", async () => {
    const { queue, dispatcher, times, settled } = pausing(undefined, [
      subscription("throttled", { concurrency: 1 }),
    ]);
    await queue.add("throttled", ...events("t", 3));
    dispatcher.start();
    await turns();
    expect(times.throttled).toEqual([0, 0, 0]);
    expect(settled.map((s) => s.outcome.kind)).toEqual(["retry", "delivered", "delivered"]);
    await dispatcher.idle();
  });
});
