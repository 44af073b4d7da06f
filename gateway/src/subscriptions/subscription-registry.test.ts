import { describe, expect, it } from "vitest";
import { recordingLogger } from "../../test/support/dispatcher-kit.js";
import { Conflict, NotFound } from "../errors/errors.js";
import type { CloudEvent } from "../event/cloud-event.js";
import { createMemorySubscriptionStore } from "../store/memory-subscription-store.js";
import type { SubscriptionStore } from "../store/subscription-store.js";
import { subscription } from "./matcher.case.js";
import { createLinearMatcher, createMatcher } from "./matcher.js";
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

/** A registry over one config subscription ("file", type t) that counts its matcher builds. */
async function countingBuilds() {
  let builds = 0;
  const registry = await openSubscriptionRegistry({
    configured: [subscription("file", { types: ["t"] })],
    store: createMemorySubscriptionStore(),
    createMatcher: (subs) => {
      builds += 1;
      return createMatcher(subs);
    },
  });
  return { registry, builds: () => builds };
}

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

  it("tells onChange listeners of every change once the new set is in place", async () => {
    const registry = await openSubscriptionRegistry({
      configured: [subscription("file", { types: ["t"] })],
      store: createMemorySubscriptionStore(),
    });
    const seen: string[][] = [];
    registry.onChange?.(() => seen.push(registry.list().map((r) => r.subscription.id)));
    await registry.create(subscription("a", { types: ["t"] }));
    await registry.update(subscription("a", { types: ["u"] }));
    registry.replaceConfigured([]);
    await registry.delete("a");
    expect(seen).toStrictEqual([["file", "a"], ["file", "a"], ["a"], []]);
  });

  it("names to onChange listeners the ids each change removed from the set", async () => {
    const store = createMemorySubscriptionStore();
    const registry = await openSubscriptionRegistry({
      configured: [subscription("file", { types: ["t"] }), subscription("shadow")],
      store,
    });
    const gone: string[][] = [];
    registry.onChange?.((ids) => gone.push([...ids]));
    await registry.create(subscription("a", { types: ["t"] }));
    await registry.create(subscription("b", { types: ["t"] }));
    await registry.update(subscription("a", { types: ["u"] }));
    await registry.disable("a", "gone", 1);
    await registry.delete("a");
    await store.put(subscription("shadow", { types: ["t"] }));
    await store.delete("b");
    await store.put(subscription("c"));
    await registry.refresh();
    // "file" goes; "shadow" stays (the stored one comes back from under the file's).
    registry.replaceConfigured([]);
    expect(gone).toStrictEqual([[], [], [], [], ["a"], ["b"], ["file"]]);
  });

  it("reads the store once for refreshes asked for while one waits its turn, and again after one started", async () => {
    const store = createMemorySubscriptionStore();
    let lists = 0;
    const counting: SubscriptionStore = {
      ...store,
      list: () => {
        lists += 1;
        return store.list();
      },
    };
    const registry = await openSubscriptionRegistry({ configured: [], store: counting });
    lists = 0;
    // A burst of watch events from a shared store: one read, not one per event.
    const burst = Array.from({ length: 20 }, () => registry.refresh());
    await Promise.all(burst);
    expect(lists).toBe(1);
    // A change made once a refresh has read the store is read by the next one.
    const first = registry.refresh();
    await Promise.resolve();
    await Promise.resolve();
    await store.put(subscription("late", { types: ["t"] }));
    const second = registry.refresh();
    await Promise.all([first, second]);
    expect(lists).toBe(3);
    expect(matchIds(registry, "t")).toStrictEqual(["late"]);
  });

  it("refresh applies what another writer changed in the store (another replica)", async () => {
    const store = createMemorySubscriptionStore();
    const registry = await openSubscriptionRegistry({ configured: [], store });
    await registry.create(subscription("a", { types: ["t"] }));
    // Another gateway sharing the store: it adds b, deletes a and disables b.
    await store.put(subscription("b", { types: ["t"] }));
    await store.delete("a");
    expect(matchIds(registry, "t")).toStrictEqual(["a"]);
    await registry.refresh();
    expect(matchIds(registry, "t")).toStrictEqual(["b"]);
    expect(registry.get("a")).toBeUndefined();
    await store.setDisabled("b", { at: 1, reason: "gone" });
    await registry.refresh();
    expect(matchIds(registry, "t")).toStrictEqual([]);
    expect(registry.find("b")?.disabled).toStrictEqual({ at: 1, reason: "gone" });
  });

  it("refreshOne applies one id as the store holds it, and does nothing for this registry's own write", async () => {
    const store = createMemorySubscriptionStore();
    const file = subscription("file", { types: ["t"] });
    const registry = await openSubscriptionRegistry({ configured: [file], store });
    const gone: string[][] = [];
    registry.onChange?.((ids) => gone.push([...ids]));
    const read = (id: string) => async () => {
      const found = (await store.list()).find((s) => s.id === id);
      const disabled = (await store.disabled()).get(id);
      return {
        ...(found === undefined ? {} : { subscription: found }),
        ...(disabled === undefined ? {} : { disabled }),
      };
    };
    await registry.create(subscription("a", { types: ["t"] }));
    // Heard back from the store: the same, so no change at all.
    await registry.refreshOne?.("a", read("a"));
    expect(gone).toStrictEqual([[]]);
    // Another writer adds b, changes a, disables the file's, then deletes b.
    await store.put(subscription("b", { types: ["t"] }));
    await registry.refreshOne?.("b", read("b"));
    expect(matchIds(registry, "t")).toStrictEqual(["file", "a", "b"]);
    await store.put(subscription("a", { types: ["u"] }));
    await registry.refreshOne?.("a", read("a"));
    expect(matchIds(registry, "t")).toStrictEqual(["file", "b"]);
    expect(matchIds(registry, "u")).toStrictEqual(["a"]);
    await store.setDisabled("file", { at: 1, reason: "gone" });
    await registry.refreshOne?.("file", read("file"));
    expect(registry.find("file")?.disabled).toStrictEqual({ at: 1, reason: "gone" });
    expect(matchIds(registry, "t")).toStrictEqual(["b"]);
    await store.delete("b");
    await registry.refreshOne?.("b", read("b"));
    expect(registry.get("b")).toBeUndefined();
    expect(matchIds(registry, "t")).toStrictEqual([]);
    expect(gone.at(-1)).toStrictEqual(["b"]);
    // A state another replica recorded under another definition of the file's does not hold.
    await store.setDisabled("file", { at: 2, reason: "gone", definition: "older" });
    await registry.refreshOne?.("file", read("file"));
    expect(registry.isDisabled("file")).toBe(false);
    expect(matchIds(registry, "t")).toStrictEqual(["file"]);
  });

  it("answers a delete of what another writer deleted first as an unknown id, and forgets it", async () => {
    const store = createMemorySubscriptionStore();
    const registry = await openSubscriptionRegistry({ configured: [], store });
    await registry.create(subscription("a", { types: ["t"] }));
    // Another replica deletes it; this one has not refreshed yet.
    await store.delete("a");
    await expect(registry.delete("a")).rejects.toBeInstanceOf(NotFound);
    expect(registry.get("a")).toBeUndefined();
    expect(matchIds(registry, "t")).toStrictEqual([]);
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
      disabled: () => store.disabled(),
      setDisabled: (id, state) => store.setDisabled(id, state),
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

  it("builds the matcher once after a run of changes, when an event next needs it", async () => {
    const { registry, builds } = await countingBuilds();
    expect(builds()).toBe(1);
    for (let i = 0; i < 50; i++) await registry.create(subscription(`api${i}`, { types: ["t"] }));
    await registry.delete("api7");
    await registry.update(subscription("api3", { types: ["other"] }));
    // Building once per change made creating N subscriptions cost N builds over a growing set;
    // a delete and an update change the matcher in place.
    expect(builds()).toBe(1);
    const matched = matchIds(registry, "t");
    expect(builds()).toBe(1);
    expect(matched).toHaveLength(49);
    expect(matched).not.toContain("api7");
    expect(matched).not.toContain("api3");
    expect(matchIds(registry, "other")).toStrictEqual(["api3"]);
    expect(builds()).toBe(1);
  });

  it("takes a created subscription into the matcher it has, with events between creates", async () => {
    const { registry, builds } = await countingBuilds();
    for (let i = 0; i < 30; i++) {
      await registry.create(subscription(`api${i}`, { types: i % 2 === 0 ? ["t"] : ["u"] }));
      // An event after each create: the new subscription routes at once, without a new build.
      expect(matchIds(registry, i % 2 === 0 ? "t" : "u").at(-1)).toBe(`api${i}`);
    }
    expect(builds()).toBe(1);
    expect(matchIds(registry, "t")).toStrictEqual([
      "file",
      ...Array.from({ length: 15 }, (_, i) => `api${2 * i}`),
    ]);
    // A delete takes it out of the matcher it has; a disable still builds it again, when next used.
    await registry.delete("api0");
    expect(matchIds(registry, "t")[1]).toBe("api2");
    expect(builds()).toBe(1);
    await registry.disable("api2", "gone", 0);
    expect(matchIds(registry, "t")[1]).toBe("api4");
    expect(builds()).toBe(2);
  });

  it("deletes and updates with events between them change the matcher it has, in order", async () => {
    const { registry, builds } = await countingBuilds();
    // A fixed pseudo-random run of creates, updates and deletes over a few types.
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const types = ["t", "u", "v"];
    const ids: string[] = [];
    for (let step = 0; step < 400; step++) {
      const action = next(3);
      const type = types[next(3)] as string;
      const filters = next(2) === 0 ? { filters: [{ prefix: { subject: `p${next(4)}` } }] } : {};
      if (action === 0 || ids.length === 0) {
        const id = `api${step}`;
        await registry.create(subscription(id, { types: [type], ...filters }));
        ids.push(id);
      } else if (action === 1) {
        const id = ids[next(ids.length)] as string;
        await registry.update(subscription(id, { types: [type], ...filters }));
      } else {
        const [id] = ids.splice(next(ids.length), 1);
        await registry.delete(id as string);
      }
      for (const t of types) {
        const event: CloudEvent = {
          attributes: { specversion: "1.0", id: "1", source: "/s", type: t, subject: "p1/x" },
        };
        const expected = createLinearMatcher(registry.list().map((entry) => entry.subscription));
        const got = registry
          .matcher()
          .match(event)
          .map((s) => s.id);
        expect(got).toStrictEqual(expected.match(event).map((s) => s.id));
      }
    }
    expect(builds()).toBe(1);
    // Nothing is left of the deleted ones: only the live subscriptions' entries and keys.
    const size = registry.matcher().size?.();
    const fresh = createMatcher(registry.list().map((entry) => entry.subscription)).size?.();
    expect(size?.entries).toBe(ids.length + 1);
    expect(size?.keys).toBeLessThanOrEqual(fresh?.keys ?? 0);
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

  describe("a stored subscription this Herald cannot compile (another version's, a damaged row)", () => {
    // What an older or newer Herald may have stored: a filter this version's CESQL refuses.
    const broken = () => subscription("broken", { filters: [{ sql: "EXISTS" }] });

    it("opens disabled with the reason instead of failing to start, and a PUT that compiles fixes it", async () => {
      const store = createMemorySubscriptionStore();
      await store.put(subscription("fine", { types: ["t"] }));
      await store.put(broken());
      const logger = recordingLogger();
      const registry = await openSubscriptionRegistry({ configured: [], store, logger });
      expect(matchIds(registry, "t")).toStrictEqual(["fine"]);
      const state = registry.find("broken")?.disabled;
      expect(state?.reason).toMatch(
        /cannot use its stored definition .*EXISTS.*PUT a new one or DELETE it/,
      );
      expect(registry.isDisabled("broken")).toBe(true);
      expect(
        logger.lines.filter((l) => l.level === "error").map((l) => l.fields?.subscriptionId),
      ).toStrictEqual(["broken"]);
      // Held in memory only: the store keeps no state a later version would have to undo.
      expect((await store.disabled()).size).toBe(0);
      await registry.update(subscription("broken", { types: ["t"] }));
      expect(matchIds(registry, "t")).toStrictEqual(["fine", "broken"]);
      expect(registry.find("broken")?.disabled).toBeUndefined();
    });

    it("can be deleted", async () => {
      const store = createMemorySubscriptionStore();
      await store.put(broken());
      const registry = await openSubscriptionRegistry({ configured: [], store });
      expect((await registry.delete("broken")).id).toBe("broken");
      expect(await store.list()).toStrictEqual([]);
      expect(registry.find("broken")).toBeUndefined();
    });

    it("a refresh (another replica wrote it) disables it too, and says so once", async () => {
      const store = createMemorySubscriptionStore();
      const logger = recordingLogger();
      const registry = await openSubscriptionRegistry({ configured: [], store, logger });
      await store.put(broken());
      await registry.refresh();
      await registry.refresh();
      expect(registry.isDisabled("broken")).toBe(true);
      // Marked as such: its jobs are kept as dead with this reason, not as a sink's 410.
      expect(registry.find("broken")?.disabled?.unusable).toBe(true);
      expect(logger.lines.filter((l) => l.level === "error")).toHaveLength(1);
    });

    it("a reload that stops shadowing it brings it back disabled, not as a refused reload", async () => {
      const store = createMemorySubscriptionStore();
      await store.put(broken());
      const registry = await openSubscriptionRegistry({
        configured: [subscription("broken", { types: ["t"] })],
        store,
      });
      registry.replaceConfigured([subscription("other", { types: ["t"] })]);
      expect(registry.find("broken")?.origin).toBe("api");
      expect(registry.find("broken")?.disabled?.unusable).toBe(true);
      expect(matchIds(registry, "t")).toStrictEqual(["other"]);
    });

    it("a config subscription with its id shadows it and is not disabled by it", async () => {
      const store = createMemorySubscriptionStore();
      await store.put(broken());
      const registry = await openSubscriptionRegistry({
        configured: [subscription("broken", { types: ["t"] })],
        store,
      });
      expect(registry.isDisabled("broken")).toBe(false);
      expect(matchIds(registry, "t")).toStrictEqual(["broken"]);
    });
  });

  describe("disable (410 Gone)", () => {
    it("stops matching, shows the state, survives a reopen, and an update enables it", async () => {
      const store = createMemorySubscriptionStore();
      const registry = await openSubscriptionRegistry({ configured: [], store });
      await registry.create(subscription("api", { types: ["t"] }));
      await registry.disable("api", "410 Gone from the sink", 1_000);
      expect(matchIds(registry, "t")).toStrictEqual([]);
      expect(registry.find("api")?.disabled).toStrictEqual({
        at: 1_000,
        reason: "410 Gone from the sink",
      });
      const reopened = await openSubscriptionRegistry({ configured: [], store });
      expect(matchIds(reopened, "t")).toStrictEqual([]);
      expect(reopened.list()[0]?.disabled?.reason).toBe("410 Gone from the sink");
      await reopened.update(subscription("api", { types: ["t"] }));
      expect(matchIds(reopened, "t")).toStrictEqual(["api"]);
      expect(reopened.find("api")?.disabled).toBeUndefined();
      expect((await store.disabled()).size).toBe(0);
    });

    it("a config subscription is enabled again when the file changes its definition", async () => {
      const store = createMemorySubscriptionStore();
      const registry = await openSubscriptionRegistry({
        configured: [subscription("file", { types: ["t"] })],
        store,
      });
      await registry.disable("file", "gone", 5);
      registry.replaceConfigured([subscription("file", { types: ["t"] })]);
      await registry.create(subscription("barrier"));
      expect(registry.find("file")?.disabled).toBeDefined();
      registry.replaceConfigured([subscription("file", { types: ["t"], source: "/new" })]);
      // The enabling is queued behind other changes; one more change waits for it.
      await registry.create(subscription("barrier-2"));
      expect(registry.find("file")?.disabled).toBeUndefined();
      expect(
        registry
          .matcher()
          .match({ attributes: { specversion: "1.0", id: "1", source: "/new", type: "t" } })
          .map((s) => s.id),
      ).toContain("file");
    });

    it("a config subscription whose definition changed while stopped starts enabled", async () => {
      const store = createMemorySubscriptionStore();
      const before = await openSubscriptionRegistry({
        configured: [subscription("file", { types: ["t"] })],
        store,
      });
      expect(await before.disable("file", "gone", 5)).toBe(true);
      // A second 410 changes nothing (no second log line or receipt).
      expect(await before.disable("file", "gone again", 6)).toBe(false);
      // Restarted with the same definition: still disabled.
      const same = await openSubscriptionRegistry({
        configured: [subscription("file", { types: ["t"] })],
        store,
      });
      expect(same.find("file")?.disabled?.reason).toBe("gone");
      // Restarted with an edited definition: enabled, and the store forgets the state.
      const edited = await openSubscriptionRegistry({
        configured: [subscription("file", { types: ["t"], source: "/new" })],
        store,
      });
      expect(edited.find("file")?.disabled).toBeUndefined();
      const fromNew = { attributes: { specversion: "1.0", id: "1", source: "/new", type: "t" } };
      expect(
        edited
          .matcher()
          .match(fromNew)
          .map((m) => m.id),
      ).toStrictEqual(["file"]);
      expect((await store.disabled()).size).toBe(0);
    });

    it("a state recorded without a fingerprint (an older Herald) holds, until the next change", async () => {
      const store = createMemorySubscriptionStore();
      await store.setDisabled("file", { at: 1, reason: "gone" });
      const adopted = await openSubscriptionRegistry({
        configured: [subscription("file", { types: ["t"], source: "/new" })],
        store,
      });
      expect(adopted.find("file")?.disabled?.reason).toBe("gone");
      const changed = await openSubscriptionRegistry({
        configured: [subscription("file", { types: ["t"], source: "/newer" })],
        store,
      });
      expect(changed.find("file")?.disabled).toBeUndefined();
    });

    it("a refresh ignores a state another replica recorded under an older definition", async () => {
      const store = createMemorySubscriptionStore();
      const older = await openSubscriptionRegistry({
        configured: [subscription("file", { types: ["t"] })],
        store,
      });
      const newer = await openSubscriptionRegistry({
        configured: [subscription("file", { types: ["t"], source: "/new" })],
        store,
      });
      // The replica still on the older definition gets the 410 and records it.
      await older.disable("file", "gone", 5);
      await newer.refresh();
      expect(newer.find("file")?.disabled).toBeUndefined();
      await older.refresh();
      expect(older.find("file")?.disabled?.reason).toBe("gone");
    });

    it("ignores an id that no longer exists", async () => {
      const store = createMemorySubscriptionStore();
      const registry = await openSubscriptionRegistry({ configured: [], store });
      await registry.disable("gone", "410", 1);
      expect((await store.disabled()).size).toBe(0);
    });
  });
});
