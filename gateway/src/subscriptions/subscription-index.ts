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
  /**
   * Takes a subscription out (by its id), from wherever it is filed, and its conditions out of
   * the counts: a DELETE or an update costs the lists it was in, not an index built again over
   * every other subscription. Returns the entry taken out; `undefined` for an unknown id.
   */
  remove(id: string): CompiledSubscription | undefined;
  /**
   * Files `entry` in its `position`'s place (an updated subscription keeps its place): in each
   * list between its neighbours by position, not after every one.
   */
  insert(entry: CompiledSubscription): void;
  /** How many subscriptions are filed, and how many keys the lookups and counts hold (for tests). */
  size(): { readonly entries: number; readonly keys: number };
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
  for (const plan of plans) countKeys(shared, plan.conjuncts, 1);
  const always: CompiledSubscription[] = [];
  const check = createLookups();
  const sure = createLookups();
  /** Where each subscription is filed, by id: what `remove` takes it out of. */
  const filed = new Map<string, Filed>();
  const file = (entry: CompiledSubscription, plan: IndexConjuncts, last: boolean) => {
    const chosen = mostSelective(plan.conjuncts, shared);
    const lookups =
      chosen === undefined
        ? undefined
        : plan.complete && plan.conjuncts.length === 1
          ? sure
          : check;
    if (chosen === undefined || lookups === undefined) placeIn(always, entry, last);
    else lookups.file(chosen, entry, last);
    filed.set(entry.subscription.id, { entry, plan, chosen, lookups });
  };
  for (const [i, entry] of entries.entries()) file(entry, plans[i] as IndexConjuncts, true);
  return {
    candidates(event) {
      const lists: Candidates = { check: always.length > 0 ? [always] : [], sure: [] };
      check.collect(event, lists.check);
      sure.collect(event, lists.sure);
      return lists;
    },
    add(entry) {
      const plan = indexConjuncts(entry.subscription);
      countKeys(shared, plan.conjuncts, 1);
      file(entry, plan, true);
    },
    insert(entry) {
      const plan = indexConjuncts(entry.subscription);
      countKeys(shared, plan.conjuncts, 1);
      file(entry, plan, false);
    },
    remove(id) {
      const found = filed.get(id);
      if (found === undefined) return undefined;
      filed.delete(id);
      countKeys(shared, found.plan.conjuncts, -1);
      if (found.chosen === undefined || found.lookups === undefined) {
        takeOut(always, found.entry);
      } else found.lookups.unfile(found.chosen, found.entry);
      return found.entry;
    },
    size() {
      let keys = check.keys() + sure.keys();
      for (const byName of shared.values()) {
        for (const byValue of byName.values()) keys += byValue.size;
      }
      return { entries: filed.size, keys };
    },
  };
}

/** Where one subscription is filed. */
interface Filed {
  readonly entry: CompiledSubscription;
  readonly plan: IndexConjuncts;
  readonly chosen: IndexConjunct | undefined;
  readonly lookups: Lookups | undefined;
}

/** Puts `entry` in `list` (kept in position order): at the end, or `last` false, in its place. */
function placeIn(list: CompiledSubscription[], entry: CompiledSubscription, last: boolean): void {
  if (last) {
    list.push(entry);
    return;
  }
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((list[mid] as CompiledSubscription).position < entry.position) low = mid + 1;
    else high = mid;
  }
  list.splice(low, 0, entry);
}

/** Takes `entry` out of `list`; whether the list is now empty. */
function takeOut(list: CompiledSubscription[], entry: CompiledSubscription): boolean {
  const i = list.indexOf(entry);
  if (i >= 0) list.splice(i, 1);
  return list.length === 0;
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

type Lookups = ReturnType<typeof createLookups>;

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
    file(conjunct: IndexConjunct, entry: CompiledSubscription, last: boolean): void {
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
          else placeIn(list, entry, last);
        }
      } else {
        const trie = lookups[conjunct.kind] ?? createStringTrie(conjunct.kind);
        lookups[conjunct.kind] = trie;
        for (const value of conjunct.values)
          trie.add(value, entry, last ? undefined : (items, item) => placeIn(items, item, false));
      }
    },
    unfile(conjunct: IndexConjunct, entry: CompiledSubscription): void {
      const lookups = byName.get(conjunct.name);
      if (lookups === undefined) return;
      if (conjunct.kind === "exact") {
        for (const value of conjunct.values) {
          const list = lookups.exact?.get(value);
          if (list !== undefined && takeOut(list, entry)) lookups.exact?.delete(value);
        }
      } else {
        for (const value of conjunct.values) lookups[conjunct.kind]?.remove(value, entry);
      }
    },
    /** How many exact values and trie nodes are held (for tests). */
    keys(): number {
      let keys = 0;
      for (const [, lookups] of attributes) {
        // A trie's root is there however many keys it holds.
        keys += (lookups.exact?.size ?? 0) + (lookups.prefix?.nodes() ?? 1) - 1;
        keys += (lookups.suffix?.nodes() ?? 1) - 1;
      }
      return keys;
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

/** Adds one subscription's conditions to `counts` (`by` 1), or takes them out (-1). */
function countKeys(counts: KeyCounts, conjuncts: readonly IndexConjunct[], by: 1 | -1): void {
  for (const { kind, name, values } of conjuncts) {
    for (const value of values) {
      const byValue = nestedMap(nestedMap(counts, kind), name);
      const count = (byValue.get(value) ?? 0) + by;
      // A key no subscription offers any more goes: counts of short-lived ones do not pile up.
      if (count > 0) byValue.set(value, count);
      else byValue.delete(value);
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
