import { describe, expect, it } from "vitest";
import { ensureSchema } from "../src/adapters/workers/d1-schema.js";
import { createD1SubscriptionStore } from "../src/adapters/workers/d1-subscription-store.js";
import { describeSubscriptionStore } from "../src/store/subscription-store.case.js";
import { DEFAULT_DELIVERY } from "../src/subscriptions/subscription.js";
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
