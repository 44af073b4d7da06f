import { getEventListeners, once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import {
  deferred,
  delivered,
  event,
  events,
  fakeDeliverer,
  recordingLogger,
  recordingSettle,
  subscription,
  turn,
} from "../../test/support/dispatcher-kit.js";
import { createFakeTime } from "../../test/support/fake-time.js";
import { createTestQueue, type TestQueue } from "../../test/support/test-queue.js";
import { createNodeSinkClient } from "../adapters/node/node-sink-client.js";
import type { Subscription } from "../subscriptions/subscription.js";
import type { Deliverer } from "./deliverer.js";
import type { DeliveryOutcome } from "./delivery-outcome.js";
import type { DeliveryQueue } from "./delivery-queue.js";
import { createDispatcher, type DispatcherOptions } from "./dispatcher.js";

const subs = new Map<string, Subscription>([["sub", subscription("sub")]]);

function setup(
  overrides: Partial<DispatcherOptions> &
    Pick<DispatcherOptions, "deliverer"> & { queue?: TestQueue },
) {
  const queue = overrides.queue ?? createTestQueue();
  const logger = recordingLogger();
  const { settle, settled } = recordingSettle(queue);
  const dispatcher = createDispatcher({
    queue,
    subscriptions: (id) => subs.get(id),
    logger,
    settle,
    ...overrides,
  });
  return { queue, logger, dispatcher, settled };
}

describe("createDispatcher", () => {
  it("delivers every queued job as its own attempt, under the job's id, and settles it", async () => {
    const { deliverer, attempts, seen } = fakeDeliverer(() => delivered);
    const { queue, dispatcher, logger, settled } = setup({ deliverer });
    await queue.add("sub", ...events("e", 3));
    dispatcher.start();
    await dispatcher.idle();
    expect(seen().sort()).toEqual(["e0", "e1", "e2"]);
    expect(await queue.size()).toBe(0);
    expect(logger.lines).toEqual([]);
    for (const { jobs, outcome, subscriptionId } of settled) {
      expect(jobs).toHaveLength(1);
      expect(outcome).toEqual(delivered);
      expect(subscriptionId).toBe("sub");
      expect(attempts.find((a) => a.id === jobs[0]?.id)?.events).toEqual([
        String(jobs[0]?.event.attributes.id),
      ]);
    }
    await queue.add("sub", event("e3"));
    await dispatcher.idle();
    expect(seen()).toContain("e3");
    await dispatcher.stop();
  });

  it("leases with one signal until it is aborted, and every lease that ended left no listener on it", async () => {
    const { deliverer } = fakeDeliverer(() => delivered);
    const base = createTestQueue();
    const signals: AbortSignal[] = [];
    const queue: TestQueue = {
      ...base,
      lease(max, leaseMs, signal, skip) {
        signals.push(signal);
        return base.lease(max, leaseMs, signal, skip);
      },
    };
    const { dispatcher } = setup({ deliverer, queue, concurrency: 1 });
    dispatcher.start();
    for (let i = 0; i < 5; i++) {
      await queue.add("sub", event(`l${i}`));
      await dispatcher.idle();
    }
    // Each job was leased on its own (one slot), and the lease waiting now still listens.
    expect(signals.length).toBeGreaterThanOrEqual(6);
    expect(new Set(signals).size).toBe(1);
    expect(getEventListeners(signals[0]!, "abort")).toHaveLength(1);
    await dispatcher.stop();
    expect(getEventListeners(signals[0]!, "abort")).toHaveLength(0);
  });

  it("resolves idle() at once when there is nothing to do, and waits for start otherwise", async () => {
    const { deliverer } = fakeDeliverer(() => delivered);
    const { queue, dispatcher } = setup({ deliverer });
    await dispatcher.idle();
    await queue.add("sub", event("1"));
    let idle = false;
    const waiting = dispatcher.idle().then(() => {
      idle = true;
    });
    await turn();
    expect(idle).toBe(false);
    dispatcher.start();
    await waiting;
    expect(await queue.size()).toBe(0);
    await dispatcher.stop();
  });

  it("keeps at most `concurrency` deliveries in flight across subscriptions", async () => {
    let current = 0;
    let max = 0;
    const firstThree = deferred();
    const { deliverer, seen } = fakeDeliverer(async () => {
      current++;
      max = Math.max(max, current);
      if (seen().length === 3) firstThree.resolve();
      await firstThree.promise;
      current--;
      return delivered;
    });
    const { queue, dispatcher } = setup({ deliverer, concurrency: 3 });
    await queue.add("sub", ...events("e", 20));
    dispatcher.start();
    await dispatcher.idle();
    expect(seen()).toHaveLength(20);
    expect(max).toBe(3);
    await dispatcher.stop();
  });

  it("completes, with a warning, jobs whose subscription is gone", async () => {
    const { deliverer, seen } = fakeDeliverer(() => delivered);
    const { queue, dispatcher, logger } = setup({ deliverer });
    await queue.add("deleted", event("1"));
    dispatcher.start();
    await dispatcher.idle();
    expect(seen()).toEqual([]);
    expect(await queue.size()).toBe(0);
    expect(logger.lines).toEqual([
      {
        level: "warn",
        message: "dropping deliveries: their subscription no longer exists",
        fields: { subscriptionId: "deleted", jobs: 1 },
      },
    ]);
    await dispatcher.stop();
  });

  it("survives a delivery that throws: logs it, goes on, and the job comes back after its lease", async () => {
    let thrown = false;
    const { deliverer, seen } = fakeDeliverer((attempt) => {
      if (attempt.events[0]?.attributes.id === "1" && !thrown) {
        thrown = true;
        throw new Error("deliverer bug");
      }
      return delivered;
    });
    const { queue, dispatcher, logger } = setup({ deliverer, leaseMs: 20 });
    await queue.add("sub", event("1"), event("2"));
    dispatcher.start();
    await dispatcher.idle();
    expect(seen().filter((id) => id === "1")).toHaveLength(2);
    expect(seen().filter((id) => id === "2")).toHaveLength(1);
    expect(logger.lines.filter((l) => l.level === "error")).toEqual([
      {
        level: "error",
        message: "delivery failed unexpectedly; the job is retried when its lease expires",
        fields: { jobId: expect.any(String), subscriptionId: "sub", error: "deliverer bug" },
      },
    ]);
    await dispatcher.stop();
  });

  it("survives a settle that rejects: the job stays leased and comes back", async () => {
    const { deliverer, seen } = fakeDeliverer(() => delivered);
    const queue = createTestQueue();
    let failures = 1;
    const { dispatcher, logger } = setup({
      deliverer,
      queue,
      leaseMs: 20,
      settle: async (jobs) => {
        if (failures-- > 0) throw new Error("store down");
        for (const job of jobs) await queue.complete(job.id);
      },
    });
    await queue.add("sub", event("1"));
    dispatcher.start();
    await dispatcher.idle();
    expect(seen()).toEqual(["1", "1"]);
    expect(logger.lines.filter((l) => l.level === "error").map((l) => l.fields?.error)).toEqual([
      "store down",
    ]);
    await dispatcher.stop();
  });

  it("survives a failing lease: logs it and leases again", async () => {
    const inner = createTestQueue();
    let failures = 1;
    const queue: TestQueue = {
      ...inner,
      lease(max, leaseMs, signal, skip) {
        if (failures-- > 0) return Promise.reject(new Error("disk on fire"));
        return inner.lease(max, leaseMs, signal, skip);
      },
    };
    const { deliverer, seen } = fakeDeliverer(() => delivered);
    const { dispatcher, logger } = setup({ deliverer, queue });
    await queue.add("sub", event("1"));
    dispatcher.start();
    await dispatcher.idle();
    expect(seen()).toEqual(["1"]);
    expect(logger.lines).toEqual([
      {
        level: "error",
        message: "leasing deliveries failed; trying again shortly",
        fields: { error: "disk on fire", retryInMs: 100 },
      },
    ]);
    await dispatcher.stop();
  });

  it("stop() stops leasing, lets in-flight deliveries finish and settle, then resolves", async () => {
    const started = deferred();
    const release = deferred();
    const log: string[] = [];
    const { deliverer } = fakeDeliverer(async (attempt) => {
      log.push(`deliver ${attempt.events[0]?.attributes.id}`);
      started.resolve();
      await release.promise;
      return delivered;
    });
    const { queue, dispatcher } = setup({ deliverer, concurrency: 1 });
    await queue.add("sub", event("1"), event("2"));
    dispatcher.start();
    await started.promise;
    const stopping = dispatcher.stop().then(() => log.push("stopped"));
    await turn();
    log.push("release");
    release.resolve();
    await stopping;
    expect(log).toEqual(["deliver 1", "release", "stopped"]);
    // Job 1 settled; job 2 was never leased and stays queued for the next start.
    expect(await queue.size()).toBe(1);
    await queue.add("sub", event("3"));
    await turn();
    expect(log).toEqual(["deliver 1", "release", "stopped"]);
  });

  it("stop() is idempotent, works before start, and start() after stop() is a mistake", async () => {
    const { deliverer } = fakeDeliverer(() => delivered);
    const { dispatcher } = setup({ deliverer });
    await dispatcher.stop();
    await dispatcher.stop();
    expect(() => dispatcher.start()).toThrow(TypeError);
    const other = setup({ deliverer }).dispatcher;
    other.start();
    other.start();
    await Promise.all([other.stop(), other.stop()]);
  });

  it("stop({ deadlineMs }) resolves after the deadline, abandoning a delivery that hangs", async () => {
    const started = deferred();
    const never = new Promise<DeliveryOutcome>(() => {});
    const { deliverer } = fakeDeliverer(() => {
      started.resolve();
      return never;
    });
    const { queue, dispatcher, logger } = setup({ deliverer });
    await queue.add("sub", event("1"));
    dispatcher.start();
    await started.promise;
    await dispatcher.stop({ deadlineMs: 10 });
    // The job is neither completed nor handed out again: it stays leased in the queue.
    expect(await queue.size()).toBe(1);
    const controller = new AbortController();
    const leasing = queue.lease(1, 60_000, controller.signal);
    await turn();
    controller.abort();
    expect(await leasing).toEqual([]);
    expect(logger.lines).toEqual([
      {
        level: "warn",
        message: "stopped before in-flight deliveries finished; their jobs stay leased",
        fields: { abandoned: 1, deadlineMs: 10 },
      },
    ]);
  });

  it("stop({ deadlineMs }) resolves as soon as in-flight deliveries settle, well before it", async () => {
    const started = deferred();
    const release = deferred();
    const { deliverer } = fakeDeliverer(async () => {
      started.resolve();
      await release.promise;
      return delivered;
    });
    const { queue, dispatcher, logger } = setup({ deliverer });
    await queue.add("sub", event("1"));
    dispatcher.start();
    await started.promise;
    const stopping = dispatcher.stop({ deadlineMs: 60_000 });
    release.resolve();
    await stopping;
    expect(await queue.size()).toBe(0);
    expect(logger.lines).toEqual([]);
    await expect(dispatcher.stop({ deadlineMs: -1 })).rejects.toThrow(TypeError);
    await expect(dispatcher.stop({ deadlineMs: Number.NaN })).rejects.toThrow(TypeError);
  });

  it("never delivers a job again while its first delivery runs, even when its lease expired", async () => {
    const time = createFakeTime();
    const queue = createTestQueue(time.clock);
    const firstStarted = deferred();
    const releaseFirst = deferred();
    const secondDone = deferred();
    const { deliverer, seen } = fakeDeliverer(async (attempt) => {
      if (attempt.events[0]?.attributes.id === "1") {
        firstStarted.resolve();
        await releaseFirst.promise;
      } else {
        secondDone.resolve();
      }
      return delivered;
    });
    const { dispatcher, logger } = setup({
      deliverer,
      queue,
      leaseMs: 1_000,
      clock: time.clock,
      timers: time.timers,
    });
    await queue.add("sub", event("1"));
    dispatcher.start();
    await firstStarted.promise;
    // Job 1's lease expires mid-delivery; adding job 2 wakes the lease, which hands out both.
    time.advance(1_000);
    await queue.add("sub", event("2"));
    await secondDone.promise;
    await turn();
    expect(seen()).toEqual(["1", "2"]);
    expect(logger.lines).toEqual([
      {
        level: "warn",
        message: "leaseMs is shorter than this subscription may hold a job; raise it",
        fields: { subscriptionId: "sub", leaseMs: 1_000, holdMs: 5_000 },
      },
      {
        level: "warn",
        message: "a job came back while its delivery is still running; leaseMs is too short",
        fields: { jobId: expect.any(String), subscriptionId: "sub", leaseMs: 1_000 },
      },
    ]);
    releaseFirst.resolve();
    await dispatcher.idle();
    expect(seen()).toEqual(["1", "2"]);
    expect(await queue.size()).toBe(0);
    await dispatcher.stop();
  });

  it("refuses options that make no sense", () => {
    const { deliverer } = fakeDeliverer(() => delivered);
    expect(() => setup({ deliverer, concurrency: 0 })).toThrow(TypeError);
    expect(() => setup({ deliverer, concurrency: 1.5 })).toThrow(TypeError);
    expect(() => setup({ deliverer, leaseMs: 0 })).toThrow(TypeError);
    expect(() => setup({ deliverer, sinkClient: createNodeSinkClient(), origin: "" })).toThrow(
      TypeError,
    );
  });

  it("delivers through HTTP to a real sink, each event exactly once", async () => {
    const received: string[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        received.push(String(req.headers["ce-id"]));
        res.writeHead(204).end();
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const client = createNodeSinkClient();
    const target = subscription("http", {}, `http://127.0.0.1:${port}/hook`);
    // A minimal HTTP deliverer over the real client (the gateway's own is tested on its own).
    const deliverer: Deliverer = {
      async deliver(attempt, sub) {
        const answer = await client.send(
          {
            url: sub.sink,
            method: "POST",
            headers: { "ce-id": String(attempt.events[0]?.attributes.id) },
            body: "{}",
          },
          sub.delivery.timeoutMs,
        );
        return { kind: "delivered", status: answer.status };
      },
    };
    const queue: DeliveryQueue & TestQueue = createTestQueue();
    const { settle } = recordingSettle(queue);
    const dispatcher = createDispatcher({
      queue,
      deliverer,
      settle,
      subscriptions: (id) => (id === "http" ? target : undefined),
      concurrency: 16,
    });
    try {
      const ids = Array.from({ length: 300 }, (_, i) => `e${i}`);
      await queue.add("http", ...ids.map(event));
      dispatcher.start();
      await dispatcher.idle();
      expect(received.sort()).toEqual(ids.sort());
    } finally {
      await dispatcher.stop();
      client.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
