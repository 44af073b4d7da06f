import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNatsServer } from "../../../test/support/nats-server.js";
import { PayloadTooLarge } from "../../errors/errors.js";
import type { CloudEvent } from "../../event/cloud-event.js";
import { DELIVERY_STATE_BYTES } from "./nats-message-limit.js";
import { type NatsStore, openNatsStore } from "./nats-store.js";

let nats: Awaited<ReturnType<typeof startNatsServer>>;
let store: NatsStore;
beforeAll(async () => {
  nats = await startNatsServer();
  store = await openNatsStore({ servers: nats.url, stream: "limit", ackWaitMs: 5_000 });
});
afterAll(async () => {
  await store?.close();
  await nats?.close();
});

/** nats-server's default `max_payload`. */
const MAX_PAYLOAD = 1024 * 1024;

const event = (id: string, dataBytes: number): CloudEvent => ({
  attributes: { specversion: "1.0", id, source: "/limit", type: "com.example.limit" },
  data: { kind: "binary", value: new Uint8Array(dataBytes) },
});

describe("events larger than the NATS server's max_payload", () => {
  it("refuses one that cannot fit with a 413 (a retry never fits), not a 503 asking for one", async () => {
    const refused = store.queue.accept([
      { event: event("big", MAX_PAYLOAD), subscriptionIds: ["a"] },
    ]);
    await expect(refused).rejects.toBeInstanceOf(PayloadTooLarge);
    await expect(refused).rejects.toMatchObject({
      status: 413,
      extensions: { limit: MAX_PAYLOAD - DELIVERY_STATE_BYTES },
      message: expect.stringMatching(/max_payload/),
    });
    expect(await store.queue.size()).toBe(0);
  });

  it("refuses a batch with one such event whole, naming its index, and stores none of it", async () => {
    const refused = store.queue.accept([
      { event: event("small", 10), subscriptionIds: ["a"] },
      { event: event("big-2", MAX_PAYLOAD - 1_000), subscriptionIds: ["a"] },
    ]);
    await expect(refused).rejects.toMatchObject({ status: 413, extensions: { index: 1 } });
    expect(await store.queue.size()).toBe(0);
  });

  it("takes the largest event that fits, and its job still takes a retry's and a death's state", async () => {
    // Headers of this event: well under 1 KiB.
    const largest = event("largest", MAX_PAYLOAD - DELIVERY_STATE_BYTES - 1_024);
    expect(await store.queue.accept([{ event: largest, subscriptionIds: ["a"] }])).toMatchObject({
      events: 1,
    });
    // The longest failure text (1024 bytes), in the characters that grow most when encoded.
    const failure = { status: 500, error: '"'.repeat(1024), at: Date.now() };
    const [job] = await store.queue.lease(1, 60_000, AbortSignal.timeout(10_000));
    await store.queue.reschedule(job?.id as string, Date.now(), failure);
    const [again] = await store.queue.lease(1, 60_000, AbortSignal.timeout(10_000));
    expect(again?.attempts).toBe(1);
    await store.queue.bury(again?.id as string, failure);
    const dead = await store.queue.dead("a", { limit: 10 });
    expect(dead.map((each) => each.event.attributes.id)).toEqual(["largest"]);
  });
});
