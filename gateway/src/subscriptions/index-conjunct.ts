import type { Filter, Subscription } from "./subscription.js";

/**
 * A condition a subscription's events must all meet and that a hash map or trie can look up: the
 * attribute `name`'s string form equals one of `values` (`exact`), or starts (`prefix`) or ends
 * (`suffix`) with `values[0]`.
 */
export interface IndexConjunct {
  readonly kind: "exact" | "prefix" | "suffix";
  readonly name: string;
  /** `exact`: any one of them (several for `types`, deduplicated); otherwise exactly one. */
  readonly values: readonly string[];
}

/** What a subscription's events must meet, as far as an index can look it up. */
export interface IndexConjuncts {
  readonly conjuncts: readonly IndexConjunct[];
  /**
   * `true` when the conjuncts are ALL the subscription asks for (no `any`, `not` or `sql`), so an
   * event that meets every one of them matches it.
   */
  readonly complete: boolean;
}

/**
 * The indexable conditions a subscription's events must meet (Subscriptions API 3.2.1, 3.2.4):
 * `source` (exact on `source`), `types` (exact on `type`, any of them), and every attribute of a
 * top-level `exact`, `prefix` or `suffix` filter, also inside a top-level `all` (filters are
 * ANDed, and so is `all`). `any`, `not` and `sql` yield none: their events need not meet any one
 * condition. No conjuncts means the subscription must be checked against every event.
 *
 * @example
 * indexConjuncts(subscription("s", { types: ["a", "b"], filters: [{ prefix: { subject: "x/" } }] }));
 * // { complete: true, conjuncts: [{ kind: "exact", name: "type", values: ["a", "b"] },
 * //                               { kind: "prefix", name: "subject", values: ["x/"] }] }
 */
export function indexConjuncts(subscription: Subscription): IndexConjuncts {
  const conjuncts: IndexConjunct[] = [];
  let complete = true;
  if (typeof subscription.source === "string") {
    conjuncts.push({ kind: "exact", name: "source", values: [subscription.source] });
  } else if (subscription.source !== undefined) {
    complete = false;
  }
  if (subscription.types !== undefined) {
    // Set.has compares with the event's type string, so only strings can match. An empty
    // `types` matches no event: indexed under no value, it is never a candidate.
    const values = [...new Set(subscription.types)].filter((t) => typeof t === "string");
    conjuncts.push({ kind: "exact", name: "type", values });
  }
  for (const filter of subscription.filters) {
    if (!addFilter(filter, conjuncts)) complete = false;
  }
  return { conjuncts, complete };
}

/** Adds the filter's conjuncts; `false` when the filter asks for more than they say. */
function addFilter(filter: Filter, out: IndexConjunct[]): boolean {
  // The same dialect lookup as compileFilter: exactly one own key names the dialect.
  const keys = Object.keys(filter);
  const dialect = keys[0];
  if (keys.length !== 1 || dialect === undefined) return false;
  const expression: unknown = (filter as Readonly<Record<string, unknown>>)[dialect];
  if (dialect === "all" && Array.isArray(expression)) {
    let complete = true;
    for (const nested of expression as readonly Filter[]) {
      if (!addFilter(nested, out)) complete = false;
    }
    return complete;
  }
  if (dialect !== "exact" && dialect !== "prefix" && dialect !== "suffix") return false;
  if (typeof expression !== "object" || expression === null) return false;
  let complete = true;
  for (const [name, value] of Object.entries(expression)) {
    // Validation guarantees non-empty strings; anything else stays with the compiled predicate.
    if (typeof value === "string" && value !== "") {
      out.push({ kind: dialect, name, values: [value] });
    } else {
      complete = false;
    }
  }
  return complete;
}
