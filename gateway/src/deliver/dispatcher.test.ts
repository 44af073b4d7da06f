import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createNodeSinkClient } from "../adapters/node/node-sink-client.js";
import type { CloudEvent } from "../event/cloud-event.js";
import type { Logger } from "../ports/logger.js";
import type { Subscription } from "../subscriptions/subscription.js";
import type { Deliverer } from "./deliverer.js";
import type { DeliveryOutcome } from "./delivery-outcome.js";
import { manualClock } from "./delivery-queue.case.js";
import type { DeliveryQueue } from "./delivery-queue.js";
import { createDispatcher, type DispatcherOptions } from "./dispatcher.js";
import { createHttpDeliverer } from "./http-deliverer.js";
import { createMemoryQueue } from "./memory-queue.js";
import type { Settle } from "./settle.js";

const sub = (id: string, sink = "http://127.0.0.1:9/hook"): Subscription => ({
  id,
  filters: [],
  sink,
  protocol: "HTTP",
  protocolsettings: { headers: {} },
  delivery: { mode: "binary", timeoutMs: 5_000 },
});
const subs = new Map([["sub", sub("sub")]]);

const event = (id: string): CloudEvent => ({
  attributes: { specversion: "1.0", id, source: "/orders", type: "com.example.order.created" },
});
const jobs = (...ids: string[]) => ids.map((id) => ({ subscriptionId: "sub", event: event(id) }));

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Lets every pending callback run: a turn of the event loop, not a timed wait. */
const settleEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly fields: Record<string, unknown> | undefined;
}

function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push({ level, message, fields });
  };
  return { lines, debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

/** A deliverer that answers from `answer` and records the event ids it saw. */
function fakeDeliverer(answer: (event: CloudEvent) => Promise<DeliveryOutcome> | DeliveryOutcome) {
  const seen: string[] = [];
  const deliverer: Deliverer = {
    async deliver(e) {
      seen.push(String(e.attributes.id));
      return answer(e);
    },
  };
  return { deliverer, seen };
}

const delivered: DeliveryOutcome = { kind: "delivered", status: 202 };

function setup(overrides: Partial<DispatcherOptions> & Pick<DispatcherOptions, "deliverer">) {
  const queue = overrides.queue ?? createMemoryQueue();
  const logger = recordingLogger();
  const dispatcher = createDispatcher({
    queue,
    subscriptions: (id) => subs.get(id),
    logger,
    ...overrides,
  });
  return { queue, logger, dispatcher };
}

describe("createDispatcher", () => {
  it("delivers every queued job and completes it", async () => {
    const { deliverer, seen } = fakeDeliverer(() => delivered);
    const { queue, dispatcher, logger } = setup({ deliverer });
    await queue.enqueue(jobs("1", "2", "3"));
    dispatcher.start();
    await dispatcher.idle();
    expect(seen.sort()).toEqual(["1", "2", "3"]);
    expect(await queue.size()).toBe(0);
    expect(logger.lines).toEqual([]);
    await queue.enqueue(jobs("4"));
    await dispatcher.idle();
    expect(seen).toContain("4");
    await dispatcher.stop();
  });

  it("resolves idle() at once when there is nothing to do, and waits for start otherwise", async () => {
    const { deliverer } = fakeDeliverer(() => delivered);
    const { queue, dispatcher } = setup({ deliverer });
    await dispatcher.idle();
    await queue.enqueue(jobs("1"));
    let idle = false;
    const waiting = dispatcher.idle().then(() => {
      idle = true;
    });
    await settleEventLoop();
    expect(idle).toBe(false);
    dispatcher.start();
    await waiting;
    expect(await queue.size()).toBe(0);
    await dispatcher.stop();
  });

  it("keeps at most `concurrency` deliveries in flight", async () => {
    let current = 0;
    let max = 0;
    const firstThree = deferred();
    const { deliverer, seen } = fakeDeliverer(async () => {
      current++;
      max = Math.max(max, current);
      if (seen.length === 3) firstThree.resolve();
      await firstThree.promise;
      current--;
      return delivered;
    });
    const { queue, dispatcher } = setup({ deliverer, concurrency: 3 });
    await queue.enqueue(jobs(...Array.from({ length: 20 }, (_, i) => String(i))));
    dispatcher.start();
    await dispatcher.idle();
    expect(seen).toHaveLength(20);
    expect(max).toBe(3);
    await dispatcher.stop();
  });

  it("completes retry and dead outcomes too, with a warning naming the event", async () => {
    const outcomes: Record<string, DeliveryOutcome> = {
      "1": { kind: "retry", status: 503, error: "down", retryAfterMs: 1_000 },
      "2": { kind: "dead", status: 404, error: "no such hook" },
      "3": delivered,
    };
    const { deliverer } = fakeDeliverer((e) => outcomes[String(e.attributes.id)] ?? delivered);
    const { queue, dispatcher, logger } = setup({ deliverer, concurrency: 1 });
    await queue.enqueue(jobs("1", "2", "3"));
    dispatcher.start();
    await dispatcher.idle();
    expect(await queue.size()).toBe(0);
    expect(logger.lines).toEqual([
      {
        level: "warn",
        message:
          "delivery failed (retry); retries and dead-lettering arrive with the durable store",
        fields: { subscriptionId: "sub", source: "/orders", id: "1", status: 503, error: "down" },
      },
      {
        level: "warn",
        message: "delivery failed (dead); retries and dead-lettering arrive with the durable store",
        fields: {
          subscriptionId: "sub",
          source: "/orders",
          id: "2",
          status: 404,
          error: "no such hook",
        },
      },
    ]);
    await dispatcher.stop();
  });

  it("hands each outcome to a custom settle policy with the job and subscription", async () => {
    const settled: [string, string, string][] = [];
    const { deliverer } = fakeDeliverer(() => delivered);
    const queue = createMemoryQueue();
    const settle: Settle = async (job, outcome, subscription) => {
      settled.push([String(job.event.attributes.id), outcome.kind, subscription.id]);
      await queue.complete(job.id);
    };
    const { dispatcher } = setup({ deliverer, queue, settle });
    await queue.enqueue(jobs("1"));
    dispatcher.start();
    await dispatcher.idle();
    expect(settled).toEqual([["1", "delivered", "sub"]]);
    await dispatcher.stop();
  });

  it("completes, with a warning, jobs whose subscription is gone", async () => {
    const { deliverer, seen } = fakeDeliverer(() => delivered);
    const { queue, dispatcher, logger } = setup({ deliverer });
    await queue.enqueue([{ subscriptionId: "deleted", event: event("1") }]);
    dispatcher.start();
    await dispatcher.idle();
    expect(seen).toEqual([]);
    expect(logger.lines).toEqual([
      {
        level: "warn",
        message: "dropping a delivery: its subscription no longer exists",
        fields: { jobId: expect.any(String), subscriptionId: "deleted" },
      },
    ]);
    await dispatcher.stop();
  });

  it("survives a delivery that throws: logs it, goes on, and the job comes back after its lease", async () => {
    let thrown = false;
    const { deliverer, seen } = fakeDeliverer((e) => {
      if (e.attributes.id === "1" && !thrown) {
        thrown = true;
        throw new Error("deliverer bug");
      }
      return delivered;
    });
    const { queue, dispatcher, logger } = setup({ deliverer, leaseMs: 20 });
    await queue.enqueue(jobs("1", "2"));
    dispatcher.start();
    await dispatcher.idle();
    expect(seen.filter((id) => id === "1")).toHaveLength(2);
    expect(seen.filter((id) => id === "2")).toHaveLength(1);
    expect(logger.lines).toEqual([
      {
        level: "error",
        message: "delivery failed unexpectedly; the job is retried when its lease expires",
        fields: { jobId: expect.any(String), subscriptionId: "sub", error: "deliverer bug" },
      },
    ]);
    await dispatcher.stop();
  });

  it("survives a failing lease: logs it and leases again", async () => {
    const inner = createMemoryQueue();
    let failures = 1;
    const queue: DeliveryQueue = {
      ...inner,
      lease(max, leaseMs, signal) {
        if (failures-- > 0) return Promise.reject(new Error("disk on fire"));
        return inner.lease(max, leaseMs, signal);
      },
    };
    const { deliverer, seen } = fakeDeliverer(() => delivered);
    const { dispatcher, logger } = setup({ deliverer, queue });
    await queue.enqueue(jobs("1"));
    dispatcher.start();
    await dispatcher.idle();
    expect(seen).toEqual(["1"]);
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
    const { deliverer } = fakeDeliverer(async (e) => {
      log.push(`deliver ${e.attributes.id}`);
      started.resolve();
      await release.promise;
      return delivered;
    });
    const { queue, dispatcher } = setup({ deliverer, concurrency: 1 });
    await queue.enqueue(jobs("1", "2"));
    dispatcher.start();
    await started.promise;
    const stopping = dispatcher.stop().then(() => log.push("stopped"));
    await settleEventLoop();
    log.push("release");
    release.resolve();
    await stopping;
    expect(log).toEqual(["deliver 1", "release", "stopped"]);
    // Job 1 settled; job 2 was never leased and stays queued for the next start.
    expect(await queue.size()).toBe(1);
    await queue.enqueue(jobs("3"));
    await settleEventLoop();
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
    await queue.enqueue(jobs("1"));
    dispatcher.start();
    await started.promise;
    await dispatcher.stop({ deadlineMs: 10 });
    // The job is neither completed nor handed out again: it stays leased in the queue.
    expect(await queue.size()).toBe(1);
    const controller = new AbortController();
    const leasing = queue.lease(1, 60_000, controller.signal);
    await settleEventLoop();
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
    await queue.enqueue(jobs("1"));
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
    const clock = manualClock();
    const queue = createMemoryQueue({ clock });
    const firstStarted = deferred();
    const releaseFirst = deferred();
    const secondDone = deferred();
    const { deliverer, seen } = fakeDeliverer(async (e) => {
      if (e.attributes.id === "1") {
        firstStarted.resolve();
        await releaseFirst.promise;
      } else {
        secondDone.resolve();
      }
      return delivered;
    });
    const { dispatcher, logger } = setup({ deliverer, queue, leaseMs: 1_000 });
    await queue.enqueue(jobs("1"));
    dispatcher.start();
    await firstStarted.promise;
    // Job 1's lease expires mid-delivery; enqueueing job 2 wakes the lease, which hands out both.
    clock.advance(1_000);
    await queue.enqueue(jobs("2"));
    await secondDone.promise;
    await settleEventLoop();
    expect(seen).toEqual(["1", "2"]);
    expect(logger.lines).toEqual([
      {
        level: "warn",
        message: "a job came back while its delivery is still running; leaseMs is too short",
        fields: { jobId: expect.any(String), subscriptionId: "sub", leaseMs: 1_000 },
      },
    ]);
    releaseFirst.resolve();
    await dispatcher.idle();
    expect(seen).toEqual(["1", "2"]);
    expect(await queue.size()).toBe(0);
    await dispatcher.stop();
  });

  it("refuses options that make no sense", () => {
    const { deliverer } = fakeDeliverer(() => delivered);
    expect(() => setup({ deliverer, concurrency: 0 })).toThrow(TypeError);
    expect(() => setup({ deliverer, concurrency: 1.5 })).toThrow(TypeError);
    expect(() => setup({ deliverer, leaseMs: 0 })).toThrow(TypeError);
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
    const target = sub("http", `http://127.0.0.1:${port}/hook`);
    const queue = createMemoryQueue();
    const dispatcher = createDispatcher({
      queue,
      deliverer: createHttpDeliverer({ client }),
      subscriptions: (id) => (id === "http" ? target : undefined),
      concurrency: 16,
    });
    try {
      const ids = Array.from({ length: 500 }, (_, i) => `e${i}`);
      await queue.enqueue(ids.map((id) => ({ subscriptionId: "http", event: event(id) })));
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
