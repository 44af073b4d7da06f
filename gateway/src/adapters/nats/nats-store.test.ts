import { afterAll, beforeAll } from "vitest";
import { type NatsServer, startNatsServer } from "../../../test/support/nats-server.js";
import { describeDeliveryQueue } from "../../deliver/delivery-queue.case.js";
import type { DeliveryQueue } from "../../deliver/delivery-queue.js";
import { describeSubscriptionStore } from "../../store/subscription-store.case.js";
import { type NatsStore, openNatsStore } from "./nats-store.js";

let nats: NatsServer & { close(): Promise<void> };
beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(async () => {
  await nats?.close();
});

let streams = 0;
const stores = new Map<DeliveryQueue, NatsStore>();
const open = (options: Partial<Parameters<typeof openNatsStore>[0]> = {}) =>
  openNatsStore({ servers: nats.url, stream: `t${++streams}`, ackWaitMs: 5_000, ...options });

describeDeliveryQueue(
  "nats",
  async (clock, { dedupeWindowMs }) => {
    const store = await open({ clock, dedupeWindowMs });
    stores.set(store.queue, store);
    return store.queue;
  },
  async (queue) => {
    await stores.get(queue)?.close();
    stores.delete(queue);
  },
  { dedupeClock: "server" },
);

describeSubscriptionStore("nats", async () => (await open()).subscriptions);
