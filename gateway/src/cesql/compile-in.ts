import type { CesqlError } from "./cesql-error.js";
import { typeOf } from "./cesql-value.js";
import { type CompiledNode, castOperand, type EvaluationScope } from "./evaluation-scope.js";

/**
 * `x [NOT] IN (y1, y2, ...)` (3.4.5): true when `x` equals an element, with `=`'s semantics but
 * `x`'s type as the target: each element is cast to `x`'s type (3.7, "For the IN operator ...").
 * Elements are evaluated left to right and the search stops at the first equal one. An element's
 * error makes the result `false` (and so `NOT IN` too); a failed cast of an element is recorded
 * and that element compares as the zero value.
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
      if (cast === value) {
        found = true;
        break;
      }
    }
    if (castError !== undefined) scope.error = castError;
    return found !== negated;
  };
  return { evaluate, type: "Boolean" };
}
