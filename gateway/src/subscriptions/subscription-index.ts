import { attributeString, type CloudEvent } from "../event/cloud-event.js";
import type { CompiledSubscription } from "./compiled-subscription.js";
import { type IndexConjunct, indexConjuncts } from "./index-conjunct.js";
import { createStringTrie, type StringTrie } from "./string-trie.js";

/** Finds the subscriptions that may match an event; the full check is the caller's. */
export interface SubscriptionIndex {
  /**
   * Lists of candidates, each in configuration order. Every subscription the event matches is in
   * exactly one list (it is filed under one condition, and an event's attribute has one value);
   * the lists also hold subscriptions it does not match.
   */
  candidates(event: CloudEvent): (readonly CompiledSubscription[])[];
}

/** The lookups on one attribute name; Maps throughout, so `constructor` or `__proto__` are plain keys. */
interface AttributeLookups {
  exact: Map<string, CompiledSubscription[]> | undefined;
  prefix: StringTrie<CompiledSubscription> | undefined;
  suffix: StringTrie<CompiledSubscription> | undefined;
}

/**
 * With at most this many indexed attribute names, a lookup asks the event for each of them;
 * beyond it, it walks the event's own attributes instead, so an index over many distinct names
 * costs what the event has, not what the subscriptions name.
 */
const FEW_NAMES = 16;

/**
 * Files every subscription under ONE condition its events must all meet (see `indexConjuncts`),
 * the one the fewest other subscriptions share: hash maps on the attribute's value for exact
 * conditions (`source`, each of `types`, `exact` filters), tries for `prefix` and reversed tries
 * for `suffix`. Subscriptions without such a condition are candidates for every event.
 * A lookup costs one map probe per attribute plus one trie step per character of its value,
 * however many subscriptions there are.
 *
 * @example
 * const index = createSubscriptionIndex(subscriptions.map(compileSubscription));
 * for (const list of index.candidates(event)) for (const entry of list) check(entry, event);
 */
export function createSubscriptionIndex(
  entries: readonly CompiledSubscription[],
): SubscriptionIndex {
  const conjuncts = entries.map((entry) => indexConjuncts(entry.subscription));
  const shared = countKeys(conjuncts);
  const always: CompiledSubscription[] = [];
  const byName = new Map<string, AttributeLookups>();
  entries.forEach((entry, i) => {
    const chosen = mostSelective(conjuncts[i] ?? [], shared);
    if (chosen === undefined) {
      always.push(entry);
      return;
    }
    let lookups = byName.get(chosen.name);
    if (lookups === undefined) {
      lookups = { exact: undefined, prefix: undefined, suffix: undefined };
      byName.set(chosen.name, lookups);
    }
    if (chosen.kind === "exact") {
      lookups.exact ??= new Map();
      for (const value of chosen.values) {
        // Values are distinct (indexConjuncts), so the entry lands in each list once.
        const list = lookups.exact.get(value);
        if (list === undefined) lookups.exact.set(value, [entry]);
        else list.push(entry);
      }
    } else {
      lookups[chosen.kind] ??= createStringTrie(chosen.kind);
      for (const value of chosen.values) lookups[chosen.kind]?.add(value, entry);
    }
  });

  const attributes = [...byName];
  const lookUp = (
    lookups: AttributeLookups,
    value: string,
    out: (readonly CompiledSubscription[])[],
  ) => {
    const exact = lookups.exact?.get(value);
    if (exact !== undefined) out.push(exact);
    lookups.prefix?.collect(value, out);
    lookups.suffix?.collect(value, out);
  };
  return {
    candidates(event) {
      const out: (readonly CompiledSubscription[])[] = always.length > 0 ? [always] : [];
      if (attributes.length <= FEW_NAMES) {
        for (const [name, lookups] of attributes) {
          // attributeString reads own properties only, as the compiled filters do.
          const value = attributeString(event, name);
          if (value !== undefined) lookUp(lookups, value, out);
        }
      } else {
        for (const name of Object.keys(event.attributes)) {
          const lookups = byName.get(name);
          const value = lookups === undefined ? undefined : attributeString(event, name);
          if (value !== undefined && lookups !== undefined) lookUp(lookups, value, out);
        }
      }
      return out;
    },
  };
}

/** How many subscriptions offer each (kind, name, value) as a condition. */
type KeyCounts = Map<string, Map<string, Map<string, number>>>;

function countKeys(conjuncts: readonly (readonly IndexConjunct[])[]): KeyCounts {
  const counts: KeyCounts = new Map();
  for (const list of conjuncts) {
    for (const { kind, name, values } of list) {
      for (const value of values) {
        const byValue = nestedMap(nestedMap(counts, kind), name);
        byValue.set(value, (byValue.get(value) ?? 0) + 1);
      }
    }
  }
  return counts;
}

function nestedMap<V>(outer: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let inner = outer.get(key);
  if (inner === undefined) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}

/**
 * The condition that makes this subscription a candidate for the fewest events, estimated by how
 * many subscriptions share its keys. An exact key wins a tie against a prefix or suffix (a trie
 * walk also finds shorter keys); between those, the longer value wins.
 */
function mostSelective(
  conjuncts: readonly IndexConjunct[],
  counts: KeyCounts,
): IndexConjunct | undefined {
  let best: IndexConjunct | undefined;
  let bestCost = Number.POSITIVE_INFINITY;
  for (const conjunct of conjuncts) {
    const byValue = counts.get(conjunct.kind)?.get(conjunct.name);
    let cost = conjunct.kind === "exact" ? 0 : 1;
    for (const value of conjunct.values) cost += byValue?.get(value) ?? 0;
    const better =
      cost < bestCost ||
      (cost === bestCost &&
        best !== undefined &&
        best.kind !== "exact" &&
        conjunct.kind !== "exact" &&
        (conjunct.values[0]?.length ?? 0) > (best.values[0]?.length ?? 0));
    if (better) {
      best = conjunct;
      bestCost = cost;
    }
  }
  return best;
}
