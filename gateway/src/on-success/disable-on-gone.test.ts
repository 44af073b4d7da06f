import { describe, expect, it } from "vitest";
import type { CloudEvent } from "../event/cloud-event.js";
import { createMemorySubscriptionStore } from "../store/memory-subscription-store.js";
import type { SubscriptionStore } from "../store/subscription-store.js";
import { subscription } from "../subscriptions/matcher.case.js";
import type { Subscription } from "../subscriptions/subscription.js";
import { openSubscriptionRegistry } from "../subscriptions/subscription-registry.js";
import { disableOnGone } from "./disable-on-gone.js";
import { RECEIPT_TYPES } from "./receipt-events.js";

const clock = { now: () => 1_000 };
/** The sink of `subscription("gone")`: the one that answered 410. */
const SINK = "http://127.0.0.1:9000/gone";
const withReceipts = (id: string): Subscription => {
  const s = subscription(id, { types: ["t"] });
  return { ...s, delivery: { ...s.delivery, receipts: true } };
};

/** A registry over a memory store whose disable writes fail while `failing.disable` is set. */
async function setUp(configured = [withReceipts("gone")]) {
  const memory = createMemorySubscriptionStore();
  const failing = { disable: false };
  const store: SubscriptionStore = {
    ...memory,
    setDisabled: (id, state) =>
      failing.disable
        ? Promise.reject(new Error("disk gone (a crash here)"))
        : memory.setDisabled(id, state),
  };
  const registry = await openSubscriptionRegistry({ configured, store });
  const emitted: CloudEvent[] = [];
  const failingEmit = { on: false };
  const emit = async (events: readonly CloudEvent[]) => {
    // The order the gateway's durable steps happen in: what was disabled when the receipt
    // was stored.
    if (failingEmit.on) throw new Error("store unavailable");
    for (const event of events) {
      emitted.push({
        ...event,
        attributes: { ...event.attributes, disabledYet: String(registry.isDisabled("gone")) },
      });
    }
  };
  return {
    registry,
    emitted,
    failing,
    failingEmit,
    onGone: disableOnGone({ registry, emit, clock }),
  };
}

describe("disableOnGone", () => {
  it("stores the disabled receipt before it disables the subscription", async () => {
    const { registry, emitted, onGone } = await setUp();
    await onGone("gone", "sink answered 410 Gone", SINK);
    expect(registry.isDisabled("gone")).toBe(true);
    expect(emitted.map((e) => [e.attributes.type, e.attributes.disabledYet])).toStrictEqual([
      [RECEIPT_TYPES.disabled, "false"],
    ]);
  });

  it("keeps the receipt when the disable is never written (a crash between them), and the next 410 disables", async () => {
    const { registry, emitted, failing, onGone } = await setUp();
    failing.disable = true;
    await expect(onGone("gone", "410", SINK)).rejects.toThrow(/disk gone/);
    expect(emitted).toHaveLength(1);
    expect(registry.isDisabled("gone")).toBe(false);

    // The job that met the 410 is delivered again after the restart and meets it again:
    // at-least-once, the receipt may come twice but never not at all.
    failing.disable = false;
    await onGone("gone", "410", SINK);
    expect(registry.isDisabled("gone")).toBe(true);
    expect(emitted).toHaveLength(2);
  });

  it("disables nothing when the receipt cannot be stored, so a later 410 tries both again", async () => {
    const { registry, emitted, failingEmit, onGone } = await setUp();
    failingEmit.on = true;
    await expect(onGone("gone", "410", SINK)).rejects.toThrow(/store unavailable/);
    expect(registry.isDisabled("gone")).toBe(false);
    failingEmit.on = false;
    await onGone("gone", "410", SINK);
    expect(registry.isDisabled("gone")).toBe(true);
    expect(emitted).toHaveLength(1);
  });

  it("emits once for 410s of several jobs at the same time, and not again once disabled", async () => {
    const { registry, emitted, onGone } = await setUp();
    await Promise.all([
      onGone("gone", "410", SINK),
      onGone("gone", "410", SINK),
      onGone("gone", "410", SINK),
    ]);
    await onGone("gone", "410", SINK);
    expect(registry.isDisabled("gone")).toBe(true);
    expect(emitted).toHaveLength(1);
  });

  it("disables without a receipt when the subscription does not ask for receipts, and ignores unknown ids", async () => {
    const { registry, emitted, onGone } = await setUp([subscription("gone", { types: ["t"] })]);
    await onGone("gone", "410", SINK);
    await onGone("deleted-meanwhile", "410", "http://127.0.0.1:9000/deleted-meanwhile");
    expect(registry.isDisabled("gone")).toBe(true);
    expect(registry.isDisabled("deleted-meanwhile")).toBe(false);
    expect(emitted).toStrictEqual([]);
  });

  it("leaves alone a subscription whose sink an update replaced while the 410 was on its way", async () => {
    // The old sink answered 410 to an attempt in flight; meanwhile a PUT (or a reload) moved the
    // subscription to the sink's new home. That update must stand, and no receipt may name the
    // new sink as gone.
    const memory = createMemorySubscriptionStore();
    const registry = await openSubscriptionRegistry({ configured: [], store: memory });
    const created = await registry.create({ ...withReceipts("api"), sink: SINK });
    await registry.update({ ...created, sink: "http://127.0.0.1:9000/new-home" });
    const emitted: CloudEvent[] = [];
    const onGone = disableOnGone({ registry, emit: async (e) => void emitted.push(...e), clock });
    await onGone(created.id, "sink answered 410 Gone: moved", SINK);
    expect(registry.isDisabled(created.id)).toBe(false);
    expect(emitted).toStrictEqual([]);
    // Its new sink's own 410 still disables it, and the receipt names that sink.
    await onGone(created.id, "sink answered 410 Gone", "http://127.0.0.1:9000/new-home");
    expect(registry.isDisabled(created.id)).toBe(true);
    expect(emitted.map((e) => (e.data?.kind === "json" ? e.data.value : undefined))).toStrictEqual([
      expect.objectContaining({ sink: "http://127.0.0.1:9000/new-home" }),
    ]);
  });
});
