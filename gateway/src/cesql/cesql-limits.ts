/**
 * Herald's limits on a CESQL expression, so no subscription can make parsing or evaluation
 * overflow the stack or run long. CESQL itself sets none; a filter is a short predicate, and
 * 4096 characters is far beyond any hand-written one. Both are reported as parse errors.
 * Runs of binary operators are flat nodes evaluated in a loop, so they do not count as nesting;
 * chained `LIKE`/`IN` (`a LIKE 'x' LIKE 'y' ...`) do nest, but the length limit caps them at a
 * few hundred levels, which the stack handles.
 */
export const CESQL_LIMITS = {
  /** Characters (UTF-16 code units) in one expression. */
  maxLength: 4096,
  /** Nesting: parentheses, function calls, IN sets and prefix `NOT`/`-` each add one level. */
  maxDepth: 64,
} as const;
