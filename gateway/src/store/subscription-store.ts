import type { Subscription } from "../subscriptions/subscription.js";

/**
 * Where subscriptions created through the Subscriptions API are kept, so they outlive the process
 * once a durable store backs this port (subscriptions from the config file are not stored: the
 * file is their home). Every implementation passes `subscription-store.case.ts`.
 *
 * Subscriptions are stored in their normalised form (`subscriptions/subscription.ts`), which is
 * plain JSON: a store may serialise them with `JSON.stringify`.
 *
 * @example
 * const store = createMemorySubscriptionStore();
 * await store.put(subscription);
 * (await store.list()).map((s) => s.id); // [subscription.id]
 */
export interface SubscriptionStore {
  /** Every stored subscription, oldest first; an update keeps a subscription's place. */
  list(): Promise<readonly Subscription[]>;
  /** Inserts the subscription, or replaces the one with the same `id` in place. */
  put(subscription: Subscription): Promise<void>;
  /** Removes the subscription; resolves `false` when there was none with that id. */
  delete(id: string): Promise<boolean>;
}
