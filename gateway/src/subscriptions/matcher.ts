import { attributeString, type CloudEvent } from "../event/cloud-event.js";
import { type CompiledSubscription, compileSubscription, passes } from "./compiled-subscription.js";
import type { Subscription } from "./subscription.js";
import { createSubscriptionIndex } from "./subscription-index.js";

/** Finds the subscriptions an event is delivered to. */
export interface Matcher {
  /** Matching subscriptions in configuration order; the same frozen empty array when none match. */
  match(event: CloudEvent): readonly Subscription[];
  /**
   * Takes one more subscription, after all the others (a subscription created through the API),
   * instead of a new matcher over the whole set. Throws a `TypeError` when its filter does not
   * compile, changing nothing. Absent where a matcher cannot (it is built again instead).
   */
  readonly add?: (subscription: Subscription) => void;
  /**
   * Takes out the subscription with this id (a DELETE): whether it was there. Absent where a
   * matcher cannot (it is built again instead).
   */
  readonly remove?: (id: string) => boolean;
  /**
   * Puts `subscription` in place of the one with its id, in that one's place in the order (an
   * update), or last when there is none. Throws a `TypeError` when its filter does not compile,
   * changing nothing. Absent where a matcher cannot.
   */
  readonly replace?: (subscription: Subscription) => void;
  /** How many subscriptions it holds, and how many keys its index holds (for tests). */
  readonly size?: () => { readonly entries: number; readonly keys: number };
}

const NO_MATCH: readonly Subscription[] = Object.freeze([]);

/**
 * Compiles every subscription's `source`, `types` and `filters` once and returns a matcher for
 * them (Subscriptions API 3.2.1, 3.2.4) whose cost per event does not grow with the number of
 * subscriptions: an index (`createSubscriptionIndex`) picks the candidates, and only those are
 * checked. It answers exactly as `createLinearMatcher` does. Throws a `TypeError` naming the
 * subscription when a filter does not compile.
 *
 * @example
 * const matcher = createMatcher(config.subscriptions);
 * for (const subscription of matcher.match(event)) enqueue(subscription, event);
 */
export function createMatcher(subscriptions: readonly Subscription[]): Matcher {
  const index = createSubscriptionIndex(subscriptions.map(compileSubscription));
  let count = subscriptions.length;
  return {
    add(subscription) {
      index.add(compileSubscription(subscription, count));
      count += 1;
    },
    remove: (id) => index.remove(id) !== undefined,
    replace(subscription) {
      // Compiled before anything changes: one that does not compile leaves the old in place.
      const compiled = compileSubscription(subscription, count);
      const old = index.remove(subscription.id);
      if (old === undefined) {
        index.add(compiled);
        count += 1;
      } else index.insert({ ...compiled, position: old.position });
    },
    size: () => index.size(),
    match(event) {
      const { check, sure } = index.candidates(event);
      let matched: CompiledSubscription[] | undefined;
      let fromLists = 0;
      for (const list of sure) {
        matched ??= [];
        for (const entry of list) matched.push(entry);
        fromLists += 1;
      }
      if (check.length > 0) {
        const source = attributeString(event, "source");
        const type = attributeString(event, "type");
        for (const list of check) {
          const before = matched?.length ?? 0;
          for (const entry of list) {
            if (!passes(entry, event, source, type)) continue;
            matched ??= [];
            matched.push(entry);
          }
          if ((matched?.length ?? 0) > before) fromLists += 1;
        }
      }
      if (matched === undefined) return NO_MATCH;
      // Each list is in configuration order; matches from several lists are merged back into it.
      if (fromLists > 1) matched.sort((a, b) => a.position - b.position);
      return matched.map((entry) => entry.subscription);
    },
  };
}

/**
 * The reference matcher: checks every subscription against every event, in configuration order.
 * Slower than `createMatcher` with many subscriptions and kept as its specification (the property
 * test holds the two equal) and benchmark baseline.
 *
 * @example
 * const reference = createLinearMatcher(config.subscriptions);
 * expect(createMatcher(config.subscriptions).match(event)).toStrictEqual(reference.match(event));
 */
export function createLinearMatcher(subscriptions: readonly Subscription[]): Matcher {
  const compiled = subscriptions.map(compileSubscription);
  return {
    match(event) {
      const source = attributeString(event, "source");
      const type = attributeString(event, "type");
      let matched: Subscription[] | undefined;
      for (const entry of compiled) {
        if (!passes(entry, event, source, type)) continue;
        matched ??= [];
        matched.push(entry.subscription);
      }
      return matched ?? NO_MATCH;
    },
  };
}
