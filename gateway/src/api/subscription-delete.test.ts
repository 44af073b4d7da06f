import { describe, expect, it } from "vitest";
import { startRecordingSink } from "../../test/support/recording-sink.js";
import { createGateway } from "../app/create-gateway.js";
import { parseConfig } from "../config/load-config.js";
import { createMemoryQueue } from "../deliver/memory-queue.js";
import { createMemorySubscriptionStore } from "../store/memory-subscription-store.js";
import { createSubscriptionRegistry } from "../subscriptions/subscription-registry.js";

/** A JSON request to the gateway in process: `call("POST", "/subscriptions", { sink })`. */
const callOf =
  (gateway: { fetch(request: Request): Promise<Response> }) =>
  (method: string, path: string, body?: unknown) =>
    gateway.fetch(
      new Request(`http://gw${path}`, {
        method,
        headers: { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    );

describe("DELETE /subscriptions/{id}", () => {
  it("drops the subscription's queued and dead deliveries with it", async () => {
    const queue = createMemoryQueue();
    // Not started: nothing is delivered, so what is queued stays queued.
    const gateway = createGateway({
      config: parseConfig("{}", "test.json"),
      queue,
      newSubscriptionId: () => "doomed",
    });
    const call = callOf(gateway);
    const publish = (id: string) =>
      gateway.fetch(
        new Request("http://gw/events", {
          method: "POST",
          headers: { "ce-specversion": "1.0", "ce-id": id, "ce-source": "/d", "ce-type": "t" },
        }),
      );
    expect((await call("POST", "/subscriptions", { sink: "http://127.0.0.1:9/x" })).status).toBe(
      201,
    );
    expect((await publish("1")).status).toBe(202);
    const [job] = await queue.lease(1, 60_000, new AbortController().signal);
    await queue.bury(job?.id as string, { status: 400, error: "bad", at: 0 });
    expect((await publish("2")).status).toBe(202);
    expect(await queue.size()).toBe(1);
    expect(await queue.dead("doomed", { limit: 10 })).toHaveLength(1);

    expect((await call("DELETE", "/subscriptions/doomed")).status).toBe(200);
    expect(await queue.size()).toBe(0);
    expect(await queue.dead("doomed", { limit: 10 })).toEqual([]);
  });

  it("takes the subscription's metric series with it", async () => {
    const sink = await startRecordingSink();
    const gateway = createGateway({
      config: parseConfig("{}", "test.json"),
      newSubscriptionId: () => "short-lived",
    });
    gateway.start();
    try {
      const call = callOf(gateway);
      expect((await call("POST", "/subscriptions", { sink: sink.url })).status).toBe(201);
      const published = await gateway.fetch(
        new Request("http://gw/events", {
          method: "POST",
          headers: { "ce-specversion": "1.0", "ce-id": "m1", "ce-source": "/d", "ce-type": "t" },
        }),
      );
      expect(published.status).toBe(202);
      await sink.waitFor(1);
      await gateway.idle();
      const metrics = async () => (await call("GET", "/metrics")).text();
      expect(await metrics()).toMatch(/herald_deliveries_total\{subscription="short-lived",/);
      expect((await call("DELETE", "/subscriptions/short-lived")).status).toBe(200);
      const after = await metrics();
      expect(after).not.toContain('subscription="short-lived"');
      expect(after).toContain("herald_events_accepted_total 1");
      // An attempt that was in flight and ends now does not bring the series back.
      gateway.metrics.attempt("short-lived", "sink", "retry", 0.01);
      gateway.metrics.dead("short-lived", "store", 1);
      expect(await metrics()).not.toContain('subscription="short-lived"');
    } finally {
      await gateway.stop();
      await sink.close();
    }
  });

  it("and a subscription a reload removes goes from the metrics too", async () => {
    const config = parseConfig(
      JSON.stringify({
        subscriptions: [
          { id: "stays", sink: "http://127.0.0.1:9/s" },
          { id: "removed", sink: "http://127.0.0.1:9/r" },
        ],
      }),
      "test.json",
    );
    const registry = createSubscriptionRegistry(
      { configured: config.subscriptions, store: createMemorySubscriptionStore() },
      [],
    );
    const gateway = createGateway({ config, subscriptions: registry });
    gateway.metrics.attempt("stays", "sink", "delivered", 0.01);
    gateway.metrics.attempt("removed", "sink", "delivered", 0.01);
    const metrics = async () => (await gateway.fetch(new Request("http://gw/metrics"))).text();
    expect(await metrics()).toContain('subscription="removed"');
    registry.replaceConfigured(config.subscriptions.filter((sub) => sub.id === "stays"));
    const after = await metrics();
    expect(after).not.toContain('subscription="removed"');
    expect(after).toContain('subscription="stays"');
  });
});
