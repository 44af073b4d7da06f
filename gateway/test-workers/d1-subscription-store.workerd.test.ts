import { describe, expect, it } from "vitest";
import { ensureSchema } from "../src/adapters/workers/d1-schema.js";
import { createD1SubscriptionStore } from "../src/adapters/workers/d1-subscription-store.js";
import {
  openRefreshingRegistry,
  REFRESH_ABANDONED_AFTER_MS,
} from "../src/adapters/workers/refreshing-registry.js";
import { silentLogger } from "../src/ports/logger.js";
import { describeSubscriptionStore } from "../src/store/subscription-store.case.js";
import { DEFAULT_DELIVERY } from "../src/subscriptions/subscription.js";
import { openSubscriptionRegistry } from "../src/subscriptions/subscription-registry.js";
import { bindings, resetDatabase } from "./harness.js";

async function freshStore() {
  await ensureSchema(bindings.HERALD_DB);
  await resetDatabase();
  return createD1SubscriptionStore(bindings.HERALD_DB);
}

describeSubscriptionStore("D1 (workerd)", freshStore);

describe("D1 subscription store: generation", () => {
  it("grows with every write, so another isolate knows its copy is stale", async () => {
    const store = await freshStore();
    const subscription = {
      id: "g",
      filters: [],
      sink: "http://127.0.0.1:9/g",
      protocol: "HTTP" as const,
      protocolsettings: { headers: {} },
      delivery: DEFAULT_DELIVERY,
    };
    const seen = [await store.generation()];
    await store.put(subscription);
    seen.push(await store.generation());
    await store.setDisabled("g", { at: 1, reason: "gone" });
    seen.push(await store.generation());
    await store.delete("g");
    seen.push(await store.generation());
    expect(seen.map((g) => g - seen[0]!)).toStrictEqual([0, 1, 2, 3]);
  });

  it("creating the schema again keeps the data", async () => {
    const store = await freshStore();
    await store.setDisabled("kept", { at: 5, reason: "gone" });
    await ensureSchema(bindings.HERALD_DB);
    expect([...(await store.disabled()).keys()]).toStrictEqual(["kept"]);
  });
});

describe("the registry on D1: config subscriptions disabled under a definition", () => {
  const definition = (sink: string) => ({
    id: "c",
    filters: [],
    sink,
    protocol: "HTTP" as const,
    protocolsettings: { headers: {} },
    delivery: DEFAULT_DELIVERY,
  });
  const open = (sink: string) =>
    openSubscriptionRegistry({
      configured: [definition(sink)],
      store: createD1SubscriptionStore(bindings.HERALD_DB),
    });

  it("a deploy that changes the definition enables it and clears the state; the same one does not", async () => {
    await freshStore();
    const before = await open("http://127.0.0.1:9/old");
    await before.disable("c", "gone", 1);
    expect((await open("http://127.0.0.1:9/old")).isDisabled("c")).toBe(true);
    expect((await open("http://127.0.0.1:9/new")).isDisabled("c")).toBe(false);
    // Cleared in D1: the first definition, deployed again, does not find it either.
    expect((await open("http://127.0.0.1:9/old")).isDisabled("c")).toBe(false);
  });

  it("a state an older Herald recorded without a fingerprint is taken as the deployed definition's", async () => {
    await freshStore();
    await bindings.HERALD_DB.prepare(
      "INSERT INTO disabled (id, at, reason) VALUES ('c', 1, 'gone')",
    ).run();
    expect((await open("http://127.0.0.1:9/old")).isDisabled("c")).toBe(true);
    expect((await open("http://127.0.0.1:9/new")).isDisabled("c")).toBe(false);
  });
});

describe("refreshing registry: a refresh that never settles", () => {
  it("is given up on after a while, so the isolate's later requests are not held by it", async () => {
    const store = await freshStore();
    let time = 1_000;
    let hangNext = false;
    // The store as a request the runtime cancelled would leave it: its read never answers.
    const flaky: typeof store = Object.assign(Object.create(store) as typeof store, {
      generation: () => (hangNext ? new Promise<number>(() => {}) : store.generation()),
    });
    const registry = await openRefreshingRegistry({
      configured: [],
      store: flaky,
      logger: silentLogger,
      now: () => time,
    });
    hangNext = true;
    const stuck = registry.refresh();
    hangNext = false;
    // Within the window a second caller shares the read under way (one D1 read for both).
    time += REFRESH_ABANDONED_AFTER_MS - 1;
    expect(registry.refresh()).toBe(stuck);
    time += 1;
    // Past it, a new read is made, and it answers.
    await expect(registry.refresh()).resolves.toBeUndefined();
  });
});

describe("D1 subscription store: within what an isolate can load", () => {
  const subscription = (id: string, pad: number) => ({
    id,
    filters: [{ exact: { type: "x".repeat(pad) } }],
    sink: `http://127.0.0.1:9/${id}`,
    protocol: "HTTP" as const,
    protocolsettings: { headers: {} },
    delivery: DEFAULT_DELIVERY,
  });

  it("refuses a subscription (409 Conflict) that would take the stored set past its size; an update in place fits", async () => {
    await ensureSchema(bindings.HERALD_DB);
    await resetDatabase();
    const store = createD1SubscriptionStore(bindings.HERALD_DB, { maxStoredChars: 10_000 });
    await store.put(subscription("a", 4_000));
    await store.put(subscription("b", 4_000));
    await expect(store.put(subscription("c", 4_000))).rejects.toMatchObject({
      status: 409,
      code: "conflict",
    });
    // Replacing b by a version of the same size takes b's room, not more.
    await store.put(subscription("b", 4_500));
    expect((await store.list()).map((s) => s.id)).toStrictEqual(["a", "b"]);
    await store.delete("a");
    await store.put(subscription("c", 4_000));
    expect((await store.list()).map((s) => s.id)).toStrictEqual(["b", "c"]);
  });
});
