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
  const onGone = disableOnGone({ registry, emit, clock });
  return {
    registry,
    emitted,
    failing,
    failingEmit,
    // A 410 to an attempt made with the subscription as it is now.
    gone: (id: string, reason: string) =>
      onGone(
        registry.get(id) ?? { ...subscription(id), delivery: configured[0]!.delivery },
        reason,
      ),
  };
}

describe("disableOnGone", () => {
  it("stores the disabled receipt before it disables the subscription", async () => {
    const { registry, emitted, gone } = await setUp();
    await gone("gone", "sink answered 410 Gone");
    expect(registry.isDisabled("gone")).toBe(true);
    expect(emitted.map((e) => [e.attributes.type, e.attributes.disabledYet])).toStrictEqual([
      [RECEIPT_TYPES.disabled, "false"],
    ]);
  });

  it("keeps the receipt when the disable is never written (a crash between them), and the next 410 disables", async () => {
    const { registry, emitted, failing, gone } = await setUp();
    failing.disable = true;
    await expect(gone("gone", "410")).rejects.toThrow(/disk gone/);
    expect(emitted).toHaveLength(1);
    expect(registry.isDisabled("gone")).toBe(false);

    // The job that met the 410 is delivered again after the restart and meets it again:
    // at-least-once, the receipt may come twice but never not at all.
    failing.disable = false;
    await gone("gone", "410");
    expect(registry.isDisabled("gone")).toBe(true);
    expect(emitted).toHaveLength(2);
  });

  it("disables nothing when the receipt cannot be stored, so a later 410 tries both again", async () => {
    const { registry, emitted, failingEmit, gone } = await setUp();
    failingEmit.on = true;
    await expect(gone("gone", "410")).rejects.toThrow(/store unavailable/);
    expect(registry.isDisabled("gone")).toBe(false);
    failingEmit.on = false;
    await gone("gone", "410");
    expect(registry.isDisabled("gone")).toBe(true);
    expect(emitted).toHaveLength(1);
  });

  it("emits once for 410s of several jobs at the same time, and not again once disabled", async () => {
    const { registry, emitted, gone } = await setUp();
    await Promise.all([gone("gone", "410"), gone("gone", "410"), gone("gone", "410")]);
    await gone("gone", "410");
    expect(registry.isDisabled("gone")).toBe(true);
    expect(emitted).toHaveLength(1);
  });

  it("disables without a receipt when the subscription does not ask for receipts, and ignores unknown ids", async () => {
    const { registry, emitted, gone } = await setUp([subscription("gone", { types: ["t"] })]);
    await gone("gone", "410");
    await gone("deleted-meanwhile", "410");
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
    const attempted = await registry.create(withReceipts("api"));
    const moved = await registry.update({ ...attempted, sink: "http://127.0.0.1:9000/new-home" });
    const emitted: CloudEvent[] = [];
    const onGone = disableOnGone({ registry, emit: async (e) => void emitted.push(...e), clock });
    await onGone(attempted, "sink answered 410 Gone: moved");
    expect(registry.isDisabled("api")).toBe(false);
    expect(emitted).toStrictEqual([]);
    // Its new sink's own 410 still disables it, and the receipt names that sink.
    await onGone(moved, "sink answered 410 Gone");
    expect(registry.isDisabled("api")).toBe(true);
    expect(emitted.map((e) => (e.data?.kind === "json" ? e.data.value : undefined))).toStrictEqual([
      expect.objectContaining({ sink: "http://127.0.0.1:9000/new-home" }),
    ]);
  });

  it("does not disable a subscription an update moved while the receipt was being stored", async () => {
    const memory = createMemorySubscriptionStore();
    const registry = await openSubscriptionRegistry({ configured: [], store: memory });
    const attempted = await registry.create(withReceipts("api"));
    // The update lands between the receipt and the disable.
    const emit = async () => {
      await registry.update({ ...attempted, sink: "http://127.0.0.1:9000/new-home" });
    };
    await disableOnGone({ registry, emit, clock })(attempted, "sink answered 410 Gone");
    expect(registry.isDisabled("api")).toBe(false);
    expect(registry.get("api")?.sink).toBe("http://127.0.0.1:9000/new-home");
  });

  it("reports the 410 as receipts were when the attempt began", async () => {
    const memory = createMemorySubscriptionStore();
    const registry = await openSubscriptionRegistry({ configured: [], store: memory });
    const attempted = await registry.create(withReceipts("api"));
    // Receipts turned off (same sink) while the attempt was on its way.
    await registry.update({ ...attempted, delivery: { ...attempted.delivery, receipts: false } });
    const emitted: CloudEvent[] = [];
    await disableOnGone({ registry, emit: async (e) => void emitted.push(...e), clock })(
      attempted,
      "sink answered 410 Gone",
    );
    expect(registry.isDisabled("api")).toBe(true);
    expect(emitted.map((e) => e.attributes.type)).toStrictEqual([RECEIPT_TYPES.disabled]);
  });
});
