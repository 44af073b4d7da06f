import { afterEach, describe, expect, it } from "vitest";
import { publishOrder } from "../../test/support/publish-order.js";
import { type ScriptedSink, startScriptedSink } from "../../test/support/scripted-sink.js";
import { parseConfig } from "../config/load-config.js";
import { createGateway, type Gateway } from "./create-gateway.js";

// A reload (`replaceConfigured`, what SIGHUP does on Node) while deliveries are queued and held:
// the gateway, the memory store and the dispatcher in one process, against real sinks.

const sinks: ScriptedSink[] = [];
let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  for (const sink of sinks.splice(0)) await sink.close();
});

const config = (sink: string) =>
  parseConfig(
    JSON.stringify({
      store: { kind: "memory" },
      subscriptions: [{ id: "orders", sink, delivery: { concurrency: 1, retry: 0 } }],
    }),
    "t.json",
  );

/** Resolves once the first delivery was settled (kept as dead, with `retry: 0`). */
async function settled(gw: Gateway): Promise<void> {
  for (;;) {
    const res = await gw.fetch(new Request("http://gw/subscriptions/orders/dead"));
    const { items } = (await res.json()) as { items: unknown[] };
    if (items.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("a config reload while deliveries are queued", () => {
  it("sends them to the subscription's new sink at once, not held by the old sink's Retry-After", async () => {
    const old = await startScriptedSink([{ status: 503, headers: { "retry-after": "3600" } }]);
    const next = await startScriptedSink([{ status: 204 }]);
    sinks.push(old, next);
    gateway = createGateway({ config: config(old.url) });
    gateway.start();
    for (const id of ["o-1", "o-2", "o-3"]) await publishOrder(gateway, id);
    await old.waitFor(1);
    // Once o-1 is settled (dead: retry 0), the old sink's pause of an hour holds the rest.
    await settled(gateway);
    gateway.subscriptions.replaceConfigured(config(next.url).subscriptions);
    const arrived = await Promise.race([
      next.waitFor(2),
      new Promise<undefined>((resolve) => setTimeout(resolve, 5_000)),
    ]);
    expect(arrived?.map((r) => r.headers["ce-id"]).sort()).toStrictEqual(["o-2", "o-3"]);
    expect(old.received).toHaveLength(1);
  });

  it("does not let the old sink's Retry-After, answered after the reload, pause the new sink", async () => {
    const old = await startScriptedSink([{ status: 503, headers: { "retry-after": "3600" } }]);
    const next = await startScriptedSink([{ status: 204 }]);
    sinks.push(old, next);
    gateway = createGateway({ config: config(old.url) });
    gateway.start();
    for (const id of ["o-1", "o-2", "o-3"]) await publishOrder(gateway, id);
    // The request is at the old sink, its answer not yet read: the reload lands in between.
    await old.waitFor(1);
    gateway.subscriptions.replaceConfigured(config(next.url).subscriptions);
    const arrived = await Promise.race([
      next.waitFor(2),
      new Promise<undefined>((resolve) => setTimeout(resolve, 5_000)),
    ]);
    expect(arrived?.map((r) => r.headers["ce-id"]).sort()).toStrictEqual(["o-2", "o-3"]);
    expect(old.received).toHaveLength(1);
  });
});
