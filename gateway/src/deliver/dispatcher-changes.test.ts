import { describe, expect, it } from "vitest";
import {
  deferred,
  delivered,
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

/**
 * Jobs leased together wait in their subscription's lane for a slot. A subscription changed or
 * removed meanwhile (a config reload, an API PUT or DELETE) must not have them sent as it was:
 * only the attempt already running goes to the old sink.
 */
describe("createDispatcher: a subscription changed while its jobs wait", () => {
  function setup() {
    const subs = new Map<string, Subscription>([
      ["sub", subscription("sub", { concurrency: 1 }, "http://127.0.0.1:9/old")],
    ]);
    const queue = createTestQueue();
    const logger = recordingLogger();
    const { settle } = recordingSettle(queue);
    const firstRuns = deferred();
    const release = deferred();
    const sinks: string[] = [];
    const { deliverer, seen } = fakeDeliverer(async (_attempt, sub) => {
      sinks.push(sub.sink);
      if (sinks.length === 1) {
        firstRuns.resolve();
        await release.promise;
      }
      return delivered;
    });
    const dispatcher = createDispatcher({
      queue,
      deliverer,
      subscriptions: (id) => subs.get(id),
      logger,
      settle,
    });
    return { subs, queue, logger, dispatcher, firstRuns, release, sinks, seen };
  }

  it("drops the waiting jobs of a subscription removed meanwhile, sending none of them", async () => {
    const { subs, queue, logger, dispatcher, firstRuns, release, seen } = setup();
    await queue.add("sub", ...events("e", 5));
    dispatcher.start();
    await firstRuns.promise;
    await turns();
    subs.delete("sub");
    release.resolve();
    await dispatcher.idle();
    expect(seen()).toEqual(["e0"]);
    expect(await queue.size()).toBe(0);
    // One line for the four jobs that were waiting, not one each.
    const drops = logger.lines.filter((l) => l.message.startsWith("dropping deliveries"));
    expect(drops).toEqual([
      {
        level: "warn",
        message: "dropping deliveries: their subscription no longer exists",
        fields: { subscriptionId: "sub", jobs: 4 },
      },
    ]);
    await dispatcher.stop();
  });

  it("sends the waiting jobs to the sink the subscription has now", async () => {
    const { subs, queue, dispatcher, firstRuns, release, sinks, seen } = setup();
    await queue.add("sub", ...events("e", 5));
    dispatcher.start();
    await firstRuns.promise;
    await turns();
    subs.set("sub", subscription("sub", { concurrency: 1 }, "http://127.0.0.1:9/new"));
    release.resolve();
    await dispatcher.idle();
    expect(seen().sort()).toEqual(["e0", "e1", "e2", "e3", "e4"]);
    expect(sinks).toEqual([
      "http://127.0.0.1:9/old",
      "http://127.0.0.1:9/new",
      "http://127.0.0.1:9/new",
      "http://127.0.0.1:9/new",
      "http://127.0.0.1:9/new",
    ]);
    await dispatcher.stop();
  });

  it("a new sink is not held by the pause the old one asked for (Retry-After), once told of the change", async () => {
    const time = createFakeTime();
    const queue = createTestQueue(time.clock);
    const { settle } = recordingSettle(queue);
    const subs = new Map<string, Subscription>([
      ["sub", subscription("sub", { concurrency: 1 }, "http://127.0.0.1:9/old")],
    ]);
    const sinks: string[] = [];
    const { deliverer } = fakeDeliverer((_attempt, sub): DeliveryOutcome => {
      sinks.push(sub.sink);
      return sub.sink.endsWith("/old")
        ? { kind: "retry", status: 503, error: "busy", retryAfterMs: 3_600_000 }
        : delivered;
    });
    const dispatcher = createDispatcher({
      queue,
      deliverer,
      settle,
      subscriptions: (id) => subs.get(id),
      clock: time.clock,
      timers: time.timers,
    });
    await queue.add("sub", ...events("e", 3));
    dispatcher.start();
    await turns();
    expect(sinks).toEqual(["http://127.0.0.1:9/old"]);
    subs.set("sub", subscription("sub", { concurrency: 1 }, "http://127.0.0.1:9/new"));
    dispatcher.subscriptionsChanged();
    await turns(30);
    // No time has passed: the two held jobs went to the new sink at once.
    expect(sinks).toEqual([
      "http://127.0.0.1:9/old",
      "http://127.0.0.1:9/new",
      "http://127.0.0.1:9/new",
    ]);
    await dispatcher.stop({ deadlineMs: 0 });
  });
});
