import type { CloudEvent } from "../event/cloud-event.js";
import { compileFilters, type FilterPredicate } from "./compile-filter.js";
import type { Subscription } from "./subscription.js";

/** A subscription with its `source`, `types` and `filters` compiled once, and its place in the list. */
export interface CompiledSubscription {
  readonly subscription: Subscription;
  /** Position in the configured list: results come back in this order. */
  readonly position: number;
  readonly source: string | undefined;
  readonly types: ReadonlySet<string> | undefined;
  readonly filters: FilterPredicate;
}

/**
 * Compiles one subscription (Subscriptions API 3.2.1, 3.2.4). Throws a `TypeError` naming the
 * subscription, with the compiler's error as its cause, when a filter does not compile.
 *
 * @example
 * const compiled = subscriptions.map(compileSubscription);
 */
export function compileSubscription(
  subscription: Subscription,
  position: number,
): CompiledSubscription {
  let compiled = compiledParts.get(subscription);
  if (compiled === undefined) {
    try {
      compiled = {
        types: subscription.types === undefined ? undefined : new Set(subscription.types),
        filters: compileFilters(subscription.filters),
      };
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      throw new TypeError(`subscription "${subscription.id}": ${error.message}`, { cause: error });
    }
    compiledParts.set(subscription, compiled);
  }
  return { subscription, position, source: subscription.source, ...compiled };
}

/**
 * What compiling a subscription produced, kept per subscription object: subscriptions are
 * immutable values, and the set is rebuilt on every change through the API or a reload, so
 * without this every change would compile every CESQL expression of every subscription again.
 */
const compiledParts = new WeakMap<Subscription, Pick<CompiledSubscription, "types" | "filters">>();

/**
 * Whether the event is for this subscription. `source` and `type` are the event's attribute
 * strings, read once per event by the caller rather than once per subscription.
 *
 * @example
 * const source = attributeString(event, "source");
 * const type = attributeString(event, "type");
 * const matched = compiled.filter((entry) => passes(entry, event, source, type));
 */
export function passes(
  entry: CompiledSubscription,
  event: CloudEvent,
  source: string | undefined,
  type: string | undefined,
): boolean {
  // 3.2.1 "source": exact match; "types": the event's type is one of them; then the filters.
  if (entry.source !== undefined && entry.source !== source) return false;
  if (entry.types !== undefined && (type === undefined || !entry.types.has(type))) return false;
  return entry.filters(event);
}
