import { toBoolean } from "./cast.js";
import type { CesqlError } from "./cesql-error.js";
import type { LogicOperator } from "./cesql-node.js";
import type { CompiledNode, EvaluationScope } from "./evaluation-scope.js";

/**
 * `a AND b OR c ...`: one chain of logic operators (3.4.2), right-associative like
 * CESQLParser.g4's `<assoc=right>`, so it means `a AND (b OR (c ...))`. Evaluated left to right in
 * a loop (no recursion per operator). AND and OR short-circuit (3.4.2, 3.6): `false AND x` and
 * `true OR x` do not evaluate `x`.
 *
 * Errors, applying the fail-fast rule of `EvaluationScope` to the nested form: an operand's error
 * anywhere makes the chain `false`; so does a cast error of any operand but the first (it belongs
 * to a nested operator, which its parent then sees as an operand's error). A cast error of the
 * first operand is the outer operator's own: it goes on with `false` for that operand.
 *
 * @example
 * compileLogic([yes, no], ["OR"]).evaluate(scope); // true
 */
export function compileLogic(
  operands: readonly CompiledNode[],
  operators: readonly LogicOperator[],
): CompiledNode {
  const evaluators = operands.map((operand) => operand.evaluate);
  const evaluate = (scope: EvaluationScope): boolean => {
    let firstCastError: CesqlError | undefined;
    // The operators passed so far wait for the value on their right. AND with a true left and OR
    // with a false left pass it through; XOR flips it when its left is true. So their combined
    // effect is one flip, when an odd number of XORs had a true left.
    let flip = false;
    let result = false;
    for (let index = 0; index < evaluators.length; index += 1) {
      const value = evaluators[index]!(scope);
      if (scope.error !== undefined) {
        if (firstCastError !== undefined) scope.error = firstCastError;
        return false;
      }
      const cast = toBoolean(value, "implicit");
      if (cast.failure !== undefined) {
        if (index > 0) {
          scope.error = { kind: "cast", message: cast.failure };
          return false;
        }
        firstCastError = { kind: "cast", message: cast.failure };
      }
      const operator = operators[index];
      if (operator === undefined) {
        result = cast.value;
        break;
      }
      // Short-circuit: this operator's value is known without its right-hand side.
      if (operator === "AND" && !cast.value) {
        result = false;
        break;
      }
      if (operator === "OR" && cast.value) {
        result = true;
        break;
      }
      if (operator === "XOR" && cast.value) flip = !flip;
    }
    if (firstCastError !== undefined) scope.error = firstCastError;
    return result !== flip;
  };
  return { evaluate, type: "Boolean" };
}
