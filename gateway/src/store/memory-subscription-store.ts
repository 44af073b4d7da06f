import type { Subscription } from "../subscriptions/subscription.js";
import type { DisabledState, SubscriptionStore } from "./subscription-store.js";

/**
 * A `SubscriptionStore` in memory: for tests and for `store: { kind: memory }`, where API-created
 * subscriptions last as long as the process. A `Map` keeps insertion order, and `set` on an
 * existing key keeps its place, which is exactly the port's ordering rule.
 *
 * Values are copied in and out through JSON, as a durable store would, so a caller that mutates
 * what it passed or got back cannot change what is stored, and the contract suite catches a
 * subscription that would not survive serialisation.
 *
 * @example
 * const store = createMemorySubscriptionStore();
 */
export function createMemorySubscriptionStore(): SubscriptionStore {
  const stored = new Map<string, string>();
  const disabled = new Map<string, DisabledState>();
  return {
    async list() {
      return [...stored.values()].map((json) => JSON.parse(json) as Subscription);
    },
    async put(subscription) {
      stored.set(subscription.id, JSON.stringify(subscription));
    },
    async delete(id) {
      return stored.delete(id);
    },
    async disabled() {
      return new Map(disabled);
    },
    async setDisabled(id, state) {
      if (state === undefined) disabled.delete(id);
      else disabled.set(id, { ...state });
    },
  };
}
