import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  events,
  plainHttpDeliverer,
  recordingSettle,
  startHoldingSink,
  subscription,
} from "../../test/support/dispatcher-kit.js";
import { startRecordingSink } from "../../test/support/recording-sink.js";
import { createTestQueue } from "../../test/support/test-queue.js";
import { createNodeSinkClient } from "../adapters/node/node-sink-client.js";
import type { Subscription } from "../subscriptions/subscription.js";
import { createDispatcher } from "./dispatcher.js";

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe("dispatcher isolation (issue 5: a slow or dead sink does not delay the others)", () => {
  it("delivers everything to a healthy sink while a dead one holds only its own slots", async () => {
    const slow = await startHoldingSink();
    const healthy = await startRecordingSink(204);
    const client = createNodeSinkClient();
    cleanup.push(slow.close, healthy.close, () => client.close());
    const subs = new Map<string, Subscription>([
      ["slow", subscription("slow", { concurrency: 4, timeoutMs: 60_000 }, slow.url)],
      ["healthy", subscription("healthy", { concurrency: 4 }, `${healthy.url}/hook`)],
    ]);
    const queue = createTestQueue();
    const { settle } = recordingSettle(queue);
    // Eight slots in all: without per-sink limits the dead sink's older jobs would take them all.
    const dispatcher = createDispatcher({
      queue,
      deliverer: plainHttpDeliverer(client),
      settle,
      subscriptions: (id) => subs.get(id),
      concurrency: 8,
    });
    cleanup.push(() => dispatcher.stop({ deadlineMs: 1_000 }));
    await queue.add("slow", ...events("s", 40));
    await queue.add("healthy", ...events("h", 40));
    dispatcher.start();

    await slow.waitFor(4);
    await healthy.waitFor(40);
    // Every healthy delivery is done while the dead sink still holds its first four requests.
    expect(slow.received()).toBe(4);
    expect(slow.open()).toBe(4);
    expect(healthy.received.map((r) => r.headers["ce-id"]).sort()).toEqual(
      events("h", 40)
        .map((e) => e.attributes.id)
        .sort(),
    );
    // The saturated sink's jobs were left in the queue, not leased and held here.
    expect(queue.skips.some((skip) => skip.has("slow"))).toBe(true);

    // The sink comes back: its slots free up and wake the loop, which leases its jobs again.
    slow.release();
    await dispatcher.idle();
    expect(slow.received()).toBe(40);
    expect(slow.maxOpen()).toBe(4);
    expect(await queue.size()).toBe(0);
  });

  it("keeps delivering to a healthy sink when dead sinks' lanes add up to every slot", async () => {
    // Eight slots: the two dead sinks' lanes take all of them at first.
    const { dead, healthy, queue, dispatcher } = await deadSinksRig(2, {
      laneConcurrency: 4,
      concurrency: 8,
    });
    await queue.add("dead-0", ...events("a", 10));
    await queue.add("dead-1", ...events("b", 10));
    dispatcher.start();
    await dead[0]!.waitFor(4);
    await dead[1]!.waitFor(4);
    await queue.add("healthy", ...events("h", 40));

    // Past slowMs their attempts leave the fast pool to the healthy sink.
    await healthy.waitFor(40);
    expect(dead.map((sink) => sink.open())).toEqual([4, 4]);
    for (const sink of dead) sink.release();
    await dispatcher.idle();
    expect(dead.map((sink) => sink.received())).toEqual([10, 10]);
  });

  it("keeps delivering to a healthy sink when dead sinks want more than both pools", async () => {
    // Two slots per pool; three dead sinks want six, added one after the other.
    const { dead, healthy, queue, dispatcher } = await deadSinksRig(3, {
      laneConcurrency: 2,
      concurrency: 2,
    });
    dispatcher.start();
    for (const [i, sink] of dead.entries()) {
      await queue.add(`dead-${i}`, ...events(`d${i}-`, 4));
      await sink.waitFor(2);
    }
    await queue.add("healthy", ...events("h", 6));
    // Attempts past slowMs leave the fast pool even with the slow pool full.
    await healthy.waitFor(6);
    expect(dead.map((sink) => sink.open())).toEqual([2, 2, 2]);
    for (const sink of dead) sink.release();
    await dispatcher.idle();
    expect(dead.map((sink) => sink.received())).toEqual([4, 4, 4]);
  });

  it("never has more than delivery.concurrency requests open at one sink", async () => {
    let open = 0;
    let maxOpen = 0;
    let received = 0;
    const waiting: (() => void)[] = [];
    // Answers in groups: only once three requests are open at once, so the test sees the limit
    // reached and never passed.
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        received++;
        open++;
        maxOpen = Math.max(maxOpen, open);
        waiting.push(() => {
          open--;
          res.writeHead(204).end();
        });
        if (waiting.length === 3) for (const answer of waiting.splice(0)) answer();
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const client = createNodeSinkClient();
    cleanup.push(
      () => new Promise((ok) => server.close(ok)),
      () => server.closeAllConnections(),
      () => client.close(),
    );
    const { port } = server.address() as AddressInfo;
    const sub = subscription("limited", { concurrency: 3 }, `http://127.0.0.1:${port}/hook`);
    const queue = createTestQueue();
    const { settle } = recordingSettle(queue);
    const dispatcher = createDispatcher({
      queue,
      deliverer: plainHttpDeliverer(client),
      settle,
      subscriptions: (id) => (id === "limited" ? sub : undefined),
      concurrency: 64,
    });
    cleanup.push(() => dispatcher.stop());
    await queue.add("limited", ...events("e", 30));
    dispatcher.start();
    await dispatcher.idle();
    expect(received).toBe(30);
    expect(maxOpen).toBe(3);
  });

  it("uses DEFAULT_SINK_CONCURRENCY when a subscription does not say", async () => {
    const slow = await startHoldingSink();
    const client = createNodeSinkClient();
    cleanup.push(slow.close, () => client.close());
    const sub = subscription("default", { timeoutMs: 60_000 }, slow.url);
    const queue = createTestQueue();
    const { settle } = recordingSettle(queue);
    const dispatcher = createDispatcher({
      queue,
      deliverer: plainHttpDeliverer(client),
      settle,
      subscriptions: () => sub,
      concurrency: 64,
    });
    cleanup.push(() => dispatcher.stop());
    await queue.add("default", ...events("e", 40));
    dispatcher.start();
    const { DEFAULT_SINK_CONCURRENCY } = await import("../subscriptions/subscription.js");
    await slow.waitFor(DEFAULT_SINK_CONCURRENCY);
    // Another full round trip through the loop: a lease that would pass the limit had its chance.
    await queue.add("default", ...events("late", 1));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(slow.open()).toBe(DEFAULT_SINK_CONCURRENCY);
    slow.release();
    await dispatcher.idle();
    expect(slow.received()).toBe(41);
    expect(slow.maxOpen()).toBe(DEFAULT_SINK_CONCURRENCY);
  });
});

/**
 * `count` sinks that never answer (subscriptions `dead-<i>`, `laneConcurrency` each, 60 s
 * timeout) and a healthy one (`healthy`), behind a dispatcher of `concurrency` fast slots and a
 * `slowMs` of 50 that is not started yet; everything is stopped and closed after the test.
 */
async function deadSinksRig(
  count: number,
  options: { readonly laneConcurrency: number; readonly concurrency: number },
) {
  const dead = await Promise.all(Array.from({ length: count }, () => startHoldingSink()));
  const healthy = await startRecordingSink(204);
  const client = createNodeSinkClient();
  cleanup.push(healthy.close, () => client.close(), ...dead.map((sink) => sink.close));
  const lane = options.laneConcurrency;
  const subs = new Map<string, Subscription>(
    dead.map((sink, i) => [
      `dead-${i}`,
      subscription(`dead-${i}`, { concurrency: lane, timeoutMs: 60_000 }, sink.url),
    ]),
  );
  subs.set("healthy", subscription("healthy", { concurrency: lane }, `${healthy.url}/hook`));
  const queue = createTestQueue();
  const { settle } = recordingSettle(queue);
  const dispatcher = createDispatcher({
    queue,
    deliverer: plainHttpDeliverer(client),
    settle,
    subscriptions: (id) => subs.get(id),
    concurrency: options.concurrency,
    slowMs: 50,
  });
  cleanup.push(() => dispatcher.stop({ deadlineMs: 1_000 }));
  return { dead, healthy, queue, dispatcher };
}
