import type { Subscription } from "../subscriptions/subscription.js";

/** Why and when a subscription was disabled (its sink answered 410 Gone). */
export interface DisabledState {
  /** Epoch ms. */
  readonly at: number;
  readonly reason: string;
  /**
   * For a subscription of the config file: the fingerprint of the definition it was disabled
   * under (`definitionFingerprint`), so a changed definition enables it even across a restart.
   */
  readonly definition?: string;
  /**
   * Set when this Herald cannot use the stored definition (it does not compile here: another
   * version's, or a damaged row). Held in memory only, never stored: its jobs are kept as dead
   * with this reason (status 0), not as a 410 Gone, for a redrive once it is fixed.
   */
  readonly unusable?: true;
}

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
  /**
   * Subscriptions disabled by a 410 Gone, config ones included (by id), so the state outlives a
   * restart. Deleting a subscription does not clear it; `setDisabled(id, undefined)` does.
   */
  disabled(): Promise<ReadonlyMap<string, DisabledState>>;
  /** Marks a subscription disabled, or enabled again with `undefined`. */
  setDisabled(id: string, state: DisabledState | undefined): Promise<void>;
}
