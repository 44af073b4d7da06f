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

/**
 * The indexable conditions a subscription's events must meet (Subscriptions API 3.2.1, 3.2.4):
 * `source` (exact on `source`), `types` (exact on `type`, any of them), and every attribute of a
 * top-level `exact`, `prefix` or `suffix` filter, also inside a top-level `all` (filters are
 * ANDed, and so is `all`). `any`, `not` and `sql` yield none: their events need not meet any one
 * condition. An empty result means the subscription must be checked against every event.
 *
 * @example
 * indexConjuncts(subscription("s", { types: ["a", "b"], filters: [{ prefix: { subject: "x/" } }] }));
 * // [{ kind: "exact", name: "type", values: ["a", "b"] }, { kind: "prefix", name: "subject", values: ["x/"] }]
 */
export function indexConjuncts(subscription: Subscription): IndexConjunct[] {
  const out: IndexConjunct[] = [];
  if (typeof subscription.source === "string") {
    out.push({ kind: "exact", name: "source", values: [subscription.source] });
  }
  if (subscription.types !== undefined) {
    // Set.has compares with the event's type string, so only strings can match. An empty
    // `types` matches no event: indexed under no value, it is never a candidate.
    const values = [...new Set(subscription.types)].filter((t) => typeof t === "string");
    out.push({ kind: "exact", name: "type", values });
  }
  for (const filter of subscription.filters) addFilter(filter, out);
  return out;
}

function addFilter(filter: Filter, out: IndexConjunct[]): void {
  // The same dialect lookup as compileFilter: exactly one own key names the dialect.
  const keys = Object.keys(filter);
  const dialect = keys[0];
  if (keys.length !== 1 || dialect === undefined) return;
  const expression: unknown = (filter as Readonly<Record<string, unknown>>)[dialect];
  if (dialect === "all" && Array.isArray(expression)) {
    for (const nested of expression as readonly Filter[]) addFilter(nested, out);
    return;
  }
  if (dialect !== "exact" && dialect !== "prefix" && dialect !== "suffix") return;
  if (typeof expression !== "object" || expression === null) return;
  for (const [name, value] of Object.entries(expression)) {
    // Validation guarantees non-empty strings; anything else stays with the compiled predicate.
    if (typeof value === "string" && value !== "") {
      out.push({ kind: dialect, name, values: [value] });
    }
  }
}
