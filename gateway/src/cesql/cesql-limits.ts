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
  /**
   * UTF-16 code units in a string CONCAT or CONCAT_WS makes (1 MiB): longer is a
   * _FunctionEvaluationError_ and the empty string, found before anything is joined. These are
   * the only functions whose result can outgrow their arguments many times over: a 4096-character
   * `CONCAT(id, id, ...)` repeats a 200 KB `id` some 1300 times, 260 million characters per event,
   * which took gigabytes and crashed the process (V8's "invalid size" abort in the `_` matcher).
   */
  maxStringLength: 1_048_576,
} as const;
