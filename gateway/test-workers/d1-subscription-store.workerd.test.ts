import { describe, expect, it } from "vitest";
import { ensureSchema } from "../src/adapters/workers/d1-schema.js";
import {
  configFingerprints,
  createD1SubscriptionStore,
} from "../src/adapters/workers/d1-subscription-store.js";
import { describeSubscriptionStore } from "../src/store/subscription-store.case.js";
import { DEFAULT_DELIVERY } from "../src/subscriptions/subscription.js";
import { bindings, resetDatabase } from "./harness.js";

async function freshStore() {
  await ensureSchema(bindings.HERALD_DB);
  await resetDatabase();
  return createD1SubscriptionStore(bindings.HERALD_DB);
}

// D1 records the deployed definition's fingerprint itself (see createD1SubscriptionStore), so it
// does not keep a `definition` given to setDisabled; that case is left out for it.
describeSubscriptionStore("D1 (workerd)", freshStore, { keepsDefinition: false });

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

describe("D1 subscription store: config subscriptions disabled under a definition", () => {
  const definition = (sink: string) => ({
    id: "c",
    filters: [],
    sink,
    protocol: "HTTP" as const,
    protocolsettings: { headers: {} },
    delivery: DEFAULT_DELIVERY,
  });

  it("a state recorded under another definition is left out and cleared; API ones stay", async () => {
    await freshStore();
    const before = await configFingerprints([definition("http://127.0.0.1:9/old")]);
    const after = await configFingerprints([definition("http://127.0.0.1:9/new")]);
    expect(before.get("c")).toMatch(/^[0-9a-f]{64}$/);
    expect(before.get("c")).not.toBe(after.get("c"));
    const old = createD1SubscriptionStore(bindings.HERALD_DB, before);
    await old.setDisabled("c", { at: 1, reason: "gone" });
    await old.setDisabled("api", { at: 2, reason: "gone" });
    expect([...(await old.disabled()).keys()]).toStrictEqual(["api", "c"]);
    const redeployed = createD1SubscriptionStore(bindings.HERALD_DB, after);
    expect([...(await redeployed.disabled()).keys()]).toStrictEqual(["api"]);
    // Cleared in D1: the first definition, deployed again, does not find it either.
    expect([...(await old.disabled()).keys()]).toStrictEqual(["api"]);
  });

  it("a state an older Herald recorded without a fingerprint is taken as the deployed definition's", async () => {
    await freshStore();
    await bindings.HERALD_DB.prepare(
      "INSERT INTO disabled (id, at, reason) VALUES ('c', 1, 'gone')",
    ).run();
    const before = await configFingerprints([definition("http://127.0.0.1:9/old")]);
    const after = await configFingerprints([definition("http://127.0.0.1:9/new")]);
    expect([
      ...(await createD1SubscriptionStore(bindings.HERALD_DB, before).disabled()).keys(),
    ]).toStrictEqual(["c"]);
    expect([
      ...(await createD1SubscriptionStore(bindings.HERALD_DB, after).disabled()).keys(),
    ]).toStrictEqual([]);
  });
});
