import { attributeString, type CloudEvent } from "../event/cloud-event.js";
import type { CompiledSubscription } from "./compiled-subscription.js";
import { type IndexConjunct, type IndexConjuncts, indexConjuncts } from "./index-conjunct.js";
import { createStringTrie, type StringTrie } from "./string-trie.js";

/** Lists of subscriptions, each in configuration order. */
export type CandidateLists = (readonly CompiledSubscription[])[];

/** An event's candidates; every subscription it matches is in exactly one of these lists. */
export interface Candidates {
  /** Subscriptions the event may match: check each one. */
  readonly check: CandidateLists;
  /**
   * Subscriptions the event matches: their whole condition is the one they are filed under (e.g.
   * only `types`, or one `exact` filter on one attribute), and the event meets it.
   */
  readonly sure: CandidateLists;
}

/** Finds the subscriptions that may match an event. */
export interface SubscriptionIndex {
  candidates(event: CloudEvent): Candidates;
  /**
   * Files one more subscription, after every one filed so far (its `position` is the largest):
   * a subscription created through the API joins the index without rebuilding it. Its condition
   * is chosen with the counts as they are now; the others keep theirs.
   */
  add(entry: CompiledSubscription): void;
}

/**
 * Files every subscription under ONE condition its events must all meet (see `indexConjuncts`),
 * the one the fewest other subscriptions share: hash maps on the attribute's value for exact
 * conditions (`source`, each of `types`, `exact` filters), radix tries for `prefix` and reversed
 * ones for `suffix`. Subscriptions without such a condition are candidates for every event.
 * A lookup costs a map probe per indexed attribute and a short trie walk along its value, however
 * many subscriptions there are. A subscription is in one list per event at most: it is filed under
 * one condition, and an event's attribute has one value.
 *
 * @example
 * const index = createSubscriptionIndex(subscriptions.map(compileSubscription));
 * const { check, sure } = index.candidates(event);
 */
export function createSubscriptionIndex(
  entries: readonly CompiledSubscription[],
): SubscriptionIndex {
  const plans = entries.map((entry) => indexConjuncts(entry.subscription));
  const shared: KeyCounts = new Map();
  for (const plan of plans) countKeys(shared, plan.conjuncts);
  const always: CompiledSubscription[] = [];
  const check = createLookups();
  const sure = createLookups();
  const file = (entry: CompiledSubscription, plan: IndexConjuncts | undefined) => {
    const chosen = plan === undefined ? undefined : mostSelective(plan.conjuncts, shared);
    if (plan === undefined || chosen === undefined) always.push(entry);
    else if (plan.complete && plan.conjuncts.length === 1) sure.file(chosen, entry);
    else check.file(chosen, entry);
  };
  for (const [i, entry] of entries.entries()) file(entry, plans[i]);
  return {
    candidates(event) {
      const lists: Candidates = { check: always.length > 0 ? [always] : [], sure: [] };
      check.collect(event, lists.check);
      sure.collect(event, lists.sure);
      return lists;
    },
    add(entry) {
      const plan = indexConjuncts(entry.subscription);
      countKeys(shared, plan.conjuncts);
      file(entry, plan);
    },
  };
}

/**
 * With at most this many indexed attribute names, a lookup asks the event for each of them;
 * beyond it, it walks the event's own attributes instead, so an index over many distinct names
 * costs what the event has, not what the subscriptions name.
 */
const FEW_NAMES = 16;

/** The lookups on one attribute name; Maps throughout, so `constructor` or `__proto__` are plain keys. */
interface AttributeLookups {
  exact: Map<string, CompiledSubscription[]> | undefined;
  prefix: StringTrie<CompiledSubscription> | undefined;
  suffix: StringTrie<CompiledSubscription> | undefined;
}

function createLookups() {
  const byName = new Map<string, AttributeLookups>();
  const attributes: [string, AttributeLookups][] = [];
  const lookUp = (lookups: AttributeLookups, value: string, out: CandidateLists) => {
    const exact = lookups.exact?.get(value);
    if (exact !== undefined) out.push(exact);
    lookups.prefix?.collect(value, out);
    lookups.suffix?.collect(value, out);
  };
  return {
    file(conjunct: IndexConjunct, entry: CompiledSubscription): void {
      let lookups = byName.get(conjunct.name);
      if (lookups === undefined) {
        lookups = { exact: undefined, prefix: undefined, suffix: undefined };
        byName.set(conjunct.name, lookups);
        attributes.push([conjunct.name, lookups]);
      }
      if (conjunct.kind === "exact") {
        lookups.exact ??= new Map();
        for (const value of conjunct.values) {
          // Values are distinct (indexConjuncts), so the entry lands in each list once.
          const list = lookups.exact.get(value);
          if (list === undefined) lookups.exact.set(value, [entry]);
          else list.push(entry);
        }
      } else {
        const trie = lookups[conjunct.kind] ?? createStringTrie(conjunct.kind);
        lookups[conjunct.kind] = trie;
        for (const value of conjunct.values) trie.add(value, entry);
      }
    },
    collect(event: CloudEvent, out: CandidateLists): void {
      if (attributes.length <= FEW_NAMES) {
        for (const [name, lookups] of attributes) {
          // attributeString reads own properties only, as the compiled filters do.
          const value = attributeString(event, name);
          if (value !== undefined) lookUp(lookups, value, out);
        }
        return;
      }
      for (const name of Object.keys(event.attributes)) {
        const lookups = byName.get(name);
        const value = lookups === undefined ? undefined : attributeString(event, name);
        if (value !== undefined && lookups !== undefined) lookUp(lookups, value, out);
      }
    },
  };
}

/** How many subscriptions offer each (kind, name, value) as a condition. */
type KeyCounts = Map<string, Map<string, Map<string, number>>>;

/** Adds one subscription's conditions to `counts`. */
function countKeys(counts: KeyCounts, conjuncts: readonly IndexConjunct[]): void {
  for (const { kind, name, values } of conjuncts) {
    for (const value of values) {
      const byValue = nestedMap(nestedMap(counts, kind), name);
      byValue.set(value, (byValue.get(value) ?? 0) + 1);
    }
  }
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
