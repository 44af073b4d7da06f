import { toBoolean } from "./cast.js";
import type { CesqlError } from "./cesql-error.js";
import type { LogicOperator } from "./cesql-node.js";
import type { CompiledNode, EvaluationScope } from "./evaluation-scope.js";

/**
 * `a AND b OR c ...`: one chain of logic operators (3.4.2). AND, OR and XOR have one precedence
 * (3.6: "MUST be evaluated left to right when the precedence is equal"), so the chain means
 * `((a AND b) OR c) ...`, as the order of precedence in the spec's text says (CESQLParser.g4 writes
 * `<assoc=right>`; the spec's normative text wins, and it agrees with SQL for `a AND b OR c`).
 * Evaluated in a loop (no recursion per operator). AND and OR short-circuit (3.4.2, 3.6): once
 * the left side of `AND` is false or of `OR` is true, its right operand is not evaluated.
 *
 * Errors, applying the fail-fast rule of `EvaluationScope` to the nested form: an operand's error
 * anywhere makes the chain `false`. A cast error of an operand belongs to the operator whose
 * operand it is (the first two operands belong to the first operator): that operator goes on
 * with `false` for it, and the operator above it, if any, then sees an operand's error.
 *
 * @example
 * compileLogic([yes, no], ["OR"]).evaluate(scope); // true
 */
export function compileLogic(
  operands: readonly CompiledNode[],
  operators: readonly LogicOperator[],
): CompiledNode {
  const evaluators = operands.map((operand) => operand.evaluate);
  const last = operators.length - 1;
  const evaluate = (scope: EvaluationScope): boolean => {
    let value = evaluators[0]!(scope);
    if (scope.error !== undefined) return false;
    let cast = toBoolean(value, "implicit");
    // The error of the operator being evaluated: a cast of one of its operands.
    let ownError: CesqlError | undefined =
      cast.failure === undefined ? undefined : { kind: "cast", message: cast.failure };
    let result = cast.value;
    for (let index = 0; index <= last; index += 1) {
      const operator = operators[index]!;
      // Short-circuit: this operator's value is its left side's, without its right operand.
      const decided = (operator === "AND" && !result) || (operator === "OR" && result);
      if (!decided) {
        value = evaluators[index + 1]!(scope);
        if (scope.error !== undefined) {
          // The first error is the one reported: this operator's own came before.
          if (ownError !== undefined) scope.error = ownError;
          return false;
        }
        cast = toBoolean(value, "implicit");
        if (cast.failure !== undefined) ownError ??= { kind: "cast", message: cast.failure };
        result =
          operator === "AND"
            ? result && cast.value
            : operator === "OR"
              ? result || cast.value
              : result !== cast.value;
      }
      // This operator's own error is an operand's error to the operator above it.
      if (ownError !== undefined && index < last) {
        scope.error = ownError;
        return false;
      }
    }
    if (ownError !== undefined) scope.error = ownError;
    return result;
  };
  return { evaluate, type: "Boolean" };
}
