import { beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_DELIVERY, type Subscription } from "../subscriptions/subscription.js";
import type { SubscriptionStore } from "./subscription-store.js";

function subscription(id: string, overrides: Partial<Subscription> = {}): Subscription {
  return {
    id,
    filters: [],
    sink: `http://127.0.0.1:9000/${id}`,
    protocol: "HTTP",
    protocolsettings: { headers: {} },
    delivery: DEFAULT_DELIVERY,
    ...overrides,
  };
}

/**
 * The contract of `SubscriptionStore`: every implementation (memory now, SQLite and NATS key-value
 * later) runs it.
 *
 * @example
 * describeSubscriptionStore("memory", async () => createMemorySubscriptionStore());
 */
export function describeSubscriptionStore(
  name: string,
  create: () => Promise<SubscriptionStore>,
): void {
  describe(`${name}: SubscriptionStore contract`, () => {
    let store: SubscriptionStore;
    beforeEach(async () => {
      store = await create();
    });

    it("starts empty", async () => {
      expect(await store.list()).toStrictEqual([]);
    });

    it("lists what was put, oldest first, equal to what went in", async () => {
      const a = subscription("a", {
        source: "/orders",
        types: ["t1", "t2"],
        filters: [{ all: [{ prefix: { subject: "x/" } }, { not: { exact: { type: "y" } } }] }],
        protocolsettings: { headers: { "x-team": "media" } },
        delivery: { mode: "structured", timeoutMs: 250, retry: 3, deadLetterSink: "http://d/" },
      });
      const b = subscription("b");
      await store.put(a);
      await store.put(b);
      expect(await store.list()).toStrictEqual([a, b]);
    });

    it("replaces a subscription with the same id in place", async () => {
      await store.put(subscription("a"));
      await store.put(subscription("b"));
      const changed = subscription("a", { sink: "http://127.0.0.1:9000/changed" });
      await store.put(changed);
      expect(await store.list()).toStrictEqual([changed, subscription("b")]);
    });

    it("deletes by id and says whether there was one", async () => {
      await store.put(subscription("a"));
      await store.put(subscription("b"));
      expect(await store.delete("a")).toBe(true);
      expect(await store.delete("a")).toBe(false);
      expect(await store.delete("never")).toBe(false);
      expect((await store.list()).map((s) => s.id)).toStrictEqual(["b"]);
    });

    it("keeps ids that look like object keys apart", async () => {
      for (const id of ["__proto__", "constructor", "toString"]) await store.put(subscription(id));
      expect((await store.list()).map((s) => s.id)).toStrictEqual([
        "__proto__",
        "constructor",
        "toString",
      ]);
    });

    it("is not changed by mutating what was put or listed", async () => {
      const headers: Record<string, string> = { "x-a": "1" };
      await store.put(subscription("a", { protocolsettings: { headers } }));
      headers["x-a"] = "2";
      const [listed] = await store.list();
      (listed?.protocolsettings.headers as Record<string, string>)["x-a"] = "3";
      expect((await store.list())[0]?.protocolsettings.headers).toStrictEqual({ "x-a": "1" });
    });

    it("starts with nothing disabled", async () => {
      expect(await store.disabled()).toStrictEqual(new Map());
    });

    it("marks subscriptions disabled and enabled again, config ids included", async () => {
      await store.put(subscription("a"));
      await store.setDisabled("a", { at: 1_000, reason: "the sink answered 410 Gone" });
      await store.setDisabled("from-config", { at: 2_000, reason: "gone" });
      expect(await store.disabled()).toStrictEqual(
        new Map([
          ["a", { at: 1_000, reason: "the sink answered 410 Gone" }],
          ["from-config", { at: 2_000, reason: "gone" }],
        ]),
      );
      await store.setDisabled("a", { at: 3_000, reason: "again" });
      await store.setDisabled("from-config", undefined);
      await store.setDisabled("never", undefined);
      expect(await store.disabled()).toStrictEqual(
        new Map([["a", { at: 3_000, reason: "again" }]]),
      );
    });

    it("keeps the definition a config subscription was disabled under", async () => {
      await store.setDisabled("from-config", { at: 5, reason: "gone", definition: "ab12" });
      expect(await store.disabled()).toStrictEqual(
        new Map([["from-config", { at: 5, reason: "gone", definition: "ab12" }]]),
      );
      await store.setDisabled("from-config", { at: 6, reason: "gone again" });
      expect(await store.disabled()).toStrictEqual(
        new Map([["from-config", { at: 6, reason: "gone again" }]]),
      );
    });

    it("keeps the disabled state when the subscription is deleted", async () => {
      await store.put(subscription("a"));
      await store.setDisabled("a", { at: 1, reason: "gone" });
      await store.delete("a");
      expect([...(await store.disabled()).keys()]).toStrictEqual(["a"]);
    });
  });
}
