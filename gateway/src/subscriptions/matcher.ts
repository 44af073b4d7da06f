import { attributeString, type CloudEvent } from "../event/cloud-event.js";
import { compileFilters, type FilterPredicate } from "./compile-filter.js";
import type { Subscription } from "./subscription.js";

/** Finds the subscriptions an event is delivered to. */
export interface Matcher {
  /** Matching subscriptions in configuration order; the same frozen empty array when none match. */
  match(event: CloudEvent): readonly Subscription[];
}

interface CompiledSubscription {
  readonly subscription: Subscription;
  readonly source: string | undefined;
  readonly types: ReadonlySet<string> | undefined;
  readonly filters: FilterPredicate;
}

const NO_MATCH: readonly Subscription[] = Object.freeze([]);

/**
 * Compiles every subscription's `source`, `types` and `filters` once and returns a matcher for
 * them (Subscriptions API 3.2.1, 3.2.4). Throws a `TypeError` naming the subscription when a filter
 * does not compile (e.g. `sql`, until CESQL lands).
 *
 * @example
 * const matcher = createMatcher(config.subscriptions);
 * for (const subscription of matcher.match(event)) enqueue(subscription, event);
 */
export function createMatcher(subscriptions: readonly Subscription[]): Matcher {
  const compiled = subscriptions.map(compileSubscription);
  return {
    match(event) {
      const source = attributeString(event, "source");
      const type = attributeString(event, "type");
      let matched: Subscription[] | undefined;
      for (const entry of compiled) {
        // 3.2.1 "source": exact match; "types": the event's type is one of them.
        if (entry.source !== undefined && entry.source !== source) continue;
        if (entry.types !== undefined && (type === undefined || !entry.types.has(type))) continue;
        if (!entry.filters(event)) continue;
        matched ??= [];
        matched.push(entry.subscription);
      }
      return matched ?? NO_MATCH;
    },
  };
}

function compileSubscription(subscription: Subscription): CompiledSubscription {
  try {
    return {
      subscription,
      source: subscription.source,
      types: subscription.types === undefined ? undefined : new Set(subscription.types),
      filters: compileFilters(subscription.filters),
    };
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    throw new TypeError(`subscription "${subscription.id}": ${error.message}`, { cause: error });
  }
}
