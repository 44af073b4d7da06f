import { describe, expect, it } from "vitest";
import { Conflict, NotFound } from "../errors/errors.js";
import type { CloudEvent } from "../event/cloud-event.js";
import { createMemorySubscriptionStore } from "../store/memory-subscription-store.js";
import type { SubscriptionStore } from "../store/subscription-store.js";
import { subscription } from "./matcher.case.js";
import { openSubscriptionRegistry } from "./subscription-registry.js";

const event = (type: string): CloudEvent => ({
  attributes: { specversion: "1.0", id: "1", source: "/s", type },
});
const matchIds = (
  registry: { matcher(): { match(e: CloudEvent): readonly { id: string }[] } },
  type: string,
) =>
  registry
    .matcher()
    .match(event(type))
    .map((s) => s.id);

describe("openSubscriptionRegistry", () => {
  it("loads stored API subscriptions after the config's and matches both", async () => {
    const store = createMemorySubscriptionStore();
    await store.put(subscription("stored", { types: ["t"] }));
    const registry = await openSubscriptionRegistry({
      configured: [subscription("file", { types: ["t"] })],
      store,
    });
    expect(registry.list().map((r) => [r.subscription.id, r.origin])).toStrictEqual([
      ["file", "config"],
      ["stored", "api"],
    ]);
    expect(matchIds(registry, "t")).toStrictEqual(["file", "stored"]);
  });

  it("create, update and delete change the store and the matcher together", async () => {
    const store = createMemorySubscriptionStore();
    const registry = await openSubscriptionRegistry({ configured: [], store });
    await registry.create(subscription("a", { types: ["t1"] }));
    expect(matchIds(registry, "t1")).toStrictEqual(["a"]);
    await registry.update(subscription("a", { types: ["t2"] }));
    expect(matchIds(registry, "t1")).toStrictEqual([]);
    expect(matchIds(registry, "t2")).toStrictEqual(["a"]);
    expect((await store.list()).map((s) => s.types)).toStrictEqual([["t2"]]);
    expect((await registry.delete("a")).id).toBe("a");
    expect(matchIds(registry, "t2")).toStrictEqual([]);
    expect(await store.list()).toStrictEqual([]);
    expect(registry.get("a")).toBeUndefined();
  });

  it("refuses changes to config subscriptions and unknown ids with coded errors", async () => {
    const registry = await openSubscriptionRegistry({
      configured: [subscription("file")],
      store: createMemorySubscriptionStore(),
    });
    await expect(registry.update(subscription("file"))).rejects.toBeInstanceOf(Conflict);
    await expect(registry.delete("file")).rejects.toBeInstanceOf(Conflict);
    await expect(registry.create(subscription("file"))).rejects.toBeInstanceOf(Conflict);
    await expect(registry.update(subscription("nope"))).rejects.toBeInstanceOf(NotFound);
    await expect(registry.delete("nope")).rejects.toBeInstanceOf(NotFound);
    expect(registry.list()).toHaveLength(1);
  });

  it("a store that fails leaves the set as it was", async () => {
    const store = createMemorySubscriptionStore();
    const failing: SubscriptionStore = {
      list: () => store.list(),
      put: async () => {
        throw new Error("disk full");
      },
      delete: () => store.delete("x"),
    };
    const registry = await openSubscriptionRegistry({ configured: [], store: failing });
    await expect(registry.create(subscription("a", { types: ["t"] }))).rejects.toThrow("disk full");
    expect(registry.get("a")).toBeUndefined();
    expect(matchIds(registry, "t")).toStrictEqual([]);
    // The next change still runs: one failure does not jam the queue of changes.
    await expect(registry.create(subscription("b"))).rejects.toThrow("disk full");
  });

  it("applies concurrent changes in the order they were asked for", async () => {
    const registry = await openSubscriptionRegistry({
      configured: [],
      store: createMemorySubscriptionStore(),
    });
    await registry.create(subscription("a", { types: ["t0"] }));
    await Promise.all([
      registry.update(subscription("a", { types: ["t1"] })),
      registry.update(subscription("a", { types: ["t2"] })),
      registry.update(subscription("a", { types: ["t3"] })),
    ]);
    expect(registry.get("a")?.types).toStrictEqual(["t3"]);
  });

  describe("replaceConfigured (reload)", () => {
    it("swaps the config's subscriptions and keeps the API's", async () => {
      const registry = await openSubscriptionRegistry({
        configured: [subscription("old", { types: ["t"] })],
        store: createMemorySubscriptionStore(),
      });
      await registry.create(subscription("api", { types: ["t"] }));
      const before = registry.matcher();
      registry.replaceConfigured([subscription("new", { types: ["t"] })]);
      expect(matchIds(registry, "t")).toStrictEqual(["new", "api"]);
      // The old matcher is untouched: an event being matched finishes on the old set.
      expect(before.match(event("t")).map((s) => s.id)).toStrictEqual(["old", "api"]);
      expect(registry.get("old")).toBeUndefined();
    });

    it("refuses an id an API subscription has, changing nothing", async () => {
      const registry = await openSubscriptionRegistry({
        configured: [subscription("file", { types: ["t"] })],
        store: createMemorySubscriptionStore(),
      });
      await registry.create(subscription("api"));
      expect(() => registry.replaceConfigured([subscription("api")])).toThrow(Conflict);
      expect(registry.list().map((r) => r.subscription.id)).toStrictEqual(["file", "api"]);
      expect(matchIds(registry, "t")).toStrictEqual(["file", "api"]);
    });

    it("keeps the old set when the new one does not build", async () => {
      const registry = await openSubscriptionRegistry({
        configured: [subscription("file", { types: ["t"] })],
        store: createMemorySubscriptionStore(),
        createMatcher: (subs) => {
          if (subs.some((s) => s.id === "broken")) throw new TypeError("does not compile");
          return { match: () => subs };
        },
      });
      expect(() => registry.replaceConfigured([subscription("broken")])).toThrow(TypeError);
      expect(registry.get("file")).toBeDefined();
      expect(registry.get("broken")).toBeUndefined();
    });
  });

  it("a stored subscription shadowed by a config one reappears when the file drops it", async () => {
    const store = createMemorySubscriptionStore();
    await store.put(subscription("same", { types: ["api"] }));
    const warnings: string[] = [];
    const registry = await openSubscriptionRegistry({
      configured: [subscription("same", { types: ["file"] })],
      store,
      logger: { debug() {}, info() {}, error() {}, warn: (m) => warnings.push(m) },
    });
    expect(warnings).toHaveLength(1);
    expect(registry.find("same")?.origin).toBe("config");
    expect(matchIds(registry, "api")).toStrictEqual([]);
    registry.replaceConfigured([]);
    expect(registry.find("same")?.origin).toBe("api");
    expect(matchIds(registry, "api")).toStrictEqual(["same"]);
  });
});
