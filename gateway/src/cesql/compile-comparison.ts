import type { ComparisonOperator } from "./cesql-node.js";
import { typeOf } from "./cesql-value.js";
import { type CompiledNode, castOperand, type EvaluationScope } from "./evaluation-scope.js";

/**
 * A left-associative chain of comparisons (3.4.2): `a = b < c` is `(a = b) < c`.
 *
 * `=`, `!=`, `<>` are defined for String, Integer and Boolean pairs: they are "ambiguous" (3.7),
 * so the left operand is cast to the right operand's type (`'5' = 5` compares integers,
 * `TRUE = 'TRUE'` compares the strings "true" and "TRUE"). `<`, `<=`, `>`, `>=` only take
 * integers, so both sides are cast to Integer. Strings compare case-sensitively.
 *
 * @example
 * compileComparison([literal("5"), literal(5)], ["="]).evaluate(scope); // true
 */
export function compileComparison(
  operands: readonly CompiledNode[],
  operators: readonly ComparisonOperator[],
): CompiledNode {
  const evaluators = operands.map((operand) => operand.evaluate);
  const [first, ...rest] = evaluators;
  const evaluate = (scope: EvaluationScope): boolean => {
    let left = first!(scope);
    for (let index = 0; index < rest.length; index += 1) {
      // The chain so far is the left operand: its error (an operand's, or a cast's) ends it.
      if (scope.error !== undefined) return false;
      const right = rest[index]!(scope);
      if (scope.error !== undefined) return false;
      left = compare(scope, operators[index]!, left, right);
    }
    return left as boolean;
  };
  return { evaluate, type: "Boolean" };
}

function compare(
  scope: EvaluationScope,
  operator: ComparisonOperator,
  left: string | number | boolean,
  right: string | number | boolean,
): boolean {
  switch (operator) {
    case "=":
      return castOperand(scope, left, typeOf(right)) === right;
    case "!=":
    case "<>":
      return castOperand(scope, left, typeOf(right)) !== right;
  }
  const x = castOperand(scope, left, "Integer") as number;
  const y = castOperand(scope, right, "Integer") as number;
  switch (operator) {
    case "<":
      return x < y;
    case "<=":
      return x <= y;
    case ">":
      return x > y;
    case ">=":
      return x >= y;
  }
}
