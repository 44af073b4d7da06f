import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNatsServer } from "../../../test/support/nats-server.js";
import { waitUntil } from "../../../test/support/wait-until.js";
import type { CloudEvent } from "../../event/cloud-event.js";
import { silentLogger } from "../../ports/logger.js";
import { subscription } from "../../subscriptions/matcher.case.js";
import { type ConfiguredNatsStore, openConfiguredNatsStore } from "./open-configured-nats-store.js";

let nats: Awaited<ReturnType<typeof startNatsServer>>;
beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(async () => {
  await nats?.close();
});

const event = (id: string): CloudEvent => ({
  attributes: { specversion: "1.0", id, source: "/configured", type: "com.example.configured" },
});

/**
 * A replica as `herald serve` wires it: what it knows is what the bucket lists (its registry).
 * Its first `failing` refreshes after the start fail (of one key or of all), as on a moment of
 * NATS.
 */
async function replica(failing = 0): Promise<ConfiguredNatsStore & { knows(id: string): boolean }> {
  const store = await openConfiguredNatsStore(
    { kind: "nats", url: nats.url, stream: "configured", dedupeWindowMs: 60_000 },
    ".",
    silentLogger,
  );
  let known = new Set<string>();
  const refresh = async () => {
    known = new Set((await store.subscriptions.list()).map((s) => s.id));
  };
  await refresh();
  let failures = 0;
  let started = false;
  store.watch({
    // The first, as the watch starts, succeeds: the changes after it fail.
    async refresh() {
      if (started && failures++ < failing) throw new Error("TIMEOUT");
      started = true;
      await refresh();
    },
    async refreshOne(id, read) {
      if (failures++ < failing) throw new Error("TIMEOUT");
      const { subscription } = await read();
      if (subscription === undefined) known.delete(id);
      else known.add(id);
    },
  });
  await store.pullFor((id) => known.has(id));
  return Object.assign(store, { knows: (id: string) => known.has(id) });
}

describe("openConfiguredNatsStore", () => {
  it("tries a refresh that failed again: a change made elsewhere is not missed", async () => {
    const a = await replica();
    const b = await replica(2);
    try {
      await a.subscriptions.put(subscription("made-on-a"));
      // B's first two refreshes fail (the key's, then the whole bucket's); the third (after
      // 0.5 s) takes it.
      await waitUntil(() => b.knows("made-on-a"), { timeoutMs: 10_000 });
    } finally {
      await a.close();
      await b.close();
    }
  }, 30_000);

  it("drops what an accept still queued for an API subscription another replica deleted", async () => {
    const a = await replica();
    const b = await replica();
    try {
      await a.subscriptions.put(subscription("gone"));
      await waitUntil(() => a.knows("gone") && b.knows("gone"), { timeoutMs: 5_000 });
      // B deletes it, as DELETE /subscriptions/gone does: the entry, then its jobs and consumer.
      await b.subscriptions.delete("gone");
      await b.queue.drop("gone");
      // An accept on A that matched it before A heard of the delete: it makes the consumer
      // again and queues a job no replica will ever pull.
      await a.queue.accept([{ event: event("late"), subscriptionIds: ["gone"] }]);
      expect(await a.queue.size()).toBe(1);
      await waitUntil(() => !a.knows("gone") && !b.knows("gone"), { timeoutMs: 5_000 });
      await waitUntil(async () => (await a.queue.size()) === 0, { timeoutMs: 15_000 });
    } finally {
      await a.close();
      await b.close();
    }
  }, 30_000);
});
