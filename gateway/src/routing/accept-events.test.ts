import { describe, expect, it } from "vitest";
import { createMemoryQueue } from "../deliver/memory-queue.js";
import type { CloudEvent } from "../event/cloud-event.js";
import type { Matcher } from "../subscriptions/matcher.js";
import type { Subscription } from "../subscriptions/subscription.js";
import { createAcceptor } from "./accept-events.js";

const event = (id: string, type: string): CloudEvent => ({
  attributes: { specversion: "1.0", id, source: "/s", type },
});

// Matches subscriptions named after the event type's letters: "ab" matches "a" and "b".
const matcher: Matcher = {
  match: (e) => [...String(e.attributes.type)].map((id) => ({ id }) as Subscription),
};

describe("createAcceptor", () => {
  it("stores each event once with its matching subscriptions, counting duplicates", async () => {
    const queue = createMemoryQueue();
    const accept = createAcceptor(() => matcher, queue);
    expect(await accept([event("1", "ab"), event("2", ""), event("1", "ab")])).toEqual({
      events: 2,
      duplicates: 1,
      deliveries: 2,
    });
    const jobs = await queue.lease(10, 1_000, new AbortController().signal);
    expect(jobs.map((j) => j.subscriptionId)).toEqual(["a", "b"]);
    // The unmatched event was remembered for dedupe too.
    expect(await accept([event("2", "a")])).toEqual({ events: 0, duplicates: 1, deliveries: 0 });
  });

  it("accepts nothing for no events", async () => {
    const accept = createAcceptor(() => matcher, createMemoryQueue());
    expect(await accept([])).toEqual({ events: 0, duplicates: 0, deliveries: 0 });
  });
});
