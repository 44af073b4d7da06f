import { afterEach, describe, expect, it } from "vitest";
import { publishOrder } from "../../test/support/publish-order.js";
import { type ScriptedSink, startScriptedSink } from "../../test/support/scripted-sink.js";
import { waitUntil } from "../../test/support/wait-until.js";
import { parseConfig } from "../config/load-config.js";
import { createGateway, type Gateway } from "./create-gateway.js";

// A reload (`replaceConfigured`, what SIGHUP does on Node) while deliveries are queued and held:
// the gateway, the memory store and the dispatcher in one process, against real sinks.

const sinks: ScriptedSink[] = [];
let gateway: Gateway | undefined;
afterEach(async () => {
  // This test's resources are taken before the first await: a hook that outlives its timeout
  // must not stop or close what the next test has started meanwhile.
  const [held, heldSinks] = [gateway, sinks.splice(0)];
  gateway = undefined;
  await held?.stop();
  for (const sink of heldSinks) await sink.close();
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
  await waitUntil(
    async () => {
      const res = await gw.fetch(new Request("http://gw/subscriptions/orders/dead"));
      const { items } = (await res.json()) as { items: unknown[] };
      return items.length > 0;
    },
    { timeoutMs: 15_000, everyMs: 10, what: "the first delivery to be kept as dead" },
  );
}

/**
 * A gateway delivering to a sink that answers 503 with a `Retry-After` of an hour, with three
 * events published and the first at that sink; and the sink the reload will move them to.
 */
async function threeOrdersAtAPausingSink(): Promise<{
  old: ScriptedSink;
  next: ScriptedSink;
  gw: Gateway;
}> {
  const old = await startScriptedSink([{ status: 503, headers: { "retry-after": "3600" } }]);
  const next = await startScriptedSink([{ status: 204 }]);
  sinks.push(old, next);
  const gw = createGateway({ config: config(old.url) });
  gateway = gw;
  gw.start();
  for (const id of ["o-1", "o-2", "o-3"]) await publishOrder(gw, id);
  await old.waitFor(1);
  return { old, next, gw };
}

/** The ids the new sink got once it has two, or `undefined` after 5 s. */
async function twoArrivedAt(next: ScriptedSink): Promise<string[] | undefined> {
  let stopWaiting = () => {};
  const arrived = await Promise.race([
    next.waitFor(2),
    new Promise<undefined>((resolve) => {
      const timer = setTimeout(resolve, 5_000);
      stopWaiting = () => clearTimeout(timer);
    }),
  ]);
  stopWaiting();
  return arrived?.map((r) => String(r.headers["ce-id"])).sort();
}

describe("a config reload while deliveries are queued", () => {
  it("sends them to the subscription's new sink at once, not held by the old sink's Retry-After", async () => {
    const { old, next, gw } = await threeOrdersAtAPausingSink();
    // Once o-1 is settled (dead: retry 0), the old sink's pause of an hour holds the rest.
    await settled(gw);
    gw.subscriptions.replaceConfigured(config(next.url).subscriptions);
    expect(await twoArrivedAt(next)).toStrictEqual(["o-2", "o-3"]);
    expect(old.received).toHaveLength(1);
  });

  it("does not let the old sink's Retry-After, answered after the reload, pause the new sink", async () => {
    const { old, next, gw } = await threeOrdersAtAPausingSink();
    // The request is at the old sink, its answer not yet read: the reload lands in between.
    gw.subscriptions.replaceConfigured(config(next.url).subscriptions);
    expect(await twoArrivedAt(next)).toStrictEqual(["o-2", "o-3"]);
    expect(old.received).toHaveLength(1);
  });
});
