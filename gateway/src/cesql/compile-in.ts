import type { CesqlError } from "./cesql-error.js";
import { typeOf } from "./cesql-value.js";
import { type CompiledNode, castOperand, type EvaluationScope } from "./evaluation-scope.js";

/**
 * `x [NOT] IN (y1, y2, ...)` (3.4.5): true when `x` equals an element, with `=`'s semantics but
 * `x`'s type as the target: each element is cast to `x`'s type (3.7, "For the IN operator ...").
 * Every element is evaluated, left to right, even after an equal one: the elements are a _Set_,
 * "an unordered collection" (3.1), and only AND and OR short-circuit (3.4.2, 3.6), so
 * `1 IN (1, 1 / 0)` has the same value and error as `1 IN (1 / 0, 1)`. Stopping at the first
 * equal element made a filter's verdict depend on the order of the set. An element's error makes
 * the result `false` (and so `NOT IN` too); a failed cast of an element is recorded and that
 * element compares as the zero value.
 *
 * @example
 * compileIn(literal("1"), [literal(1), literal(2)], false).evaluate(scope); // true
 */
export function compileIn(
  operand: CompiledNode,
  set: readonly CompiledNode[],
  negated: boolean,
): CompiledNode {
  const evaluateOperand = operand.evaluate;
  const elements = set.map((element) => element.evaluate);
  const evaluate = (scope: EvaluationScope): boolean => {
    const value = evaluateOperand(scope);
    if (scope.error !== undefined) return false;
    const type = typeOf(value);
    let castError: CesqlError | undefined;
    let found = false;
    for (const element of elements) {
      const item = element(scope);
      if (scope.error !== undefined) {
        if (castError !== undefined) scope.error = castError;
        return false;
      }
      const cast = castOperand(scope, item, type);
      // A cast error is this operator's own: keep it aside so the next element runs clean.
      if (scope.error !== undefined) {
        castError ??= scope.error;
        scope.error = undefined;
      }
      if (cast === value) found = true;
    }
    if (castError !== undefined) scope.error = castError;
    return found !== negated;
  };
  return { evaluate, type: "Boolean" };
}
