import { toText } from "./cast.js";
import type { CompiledNode, EvaluationScope } from "./evaluation-scope.js";
import { compileLikePattern } from "./like-pattern.js";

/**
 * `x [NOT] LIKE 'pattern'` (3.4.3): `x` is cast to String; the pattern is compiled once, here.
 * `NOT LIKE` is `NOT (x LIKE pattern)`, so an operand's error makes both `false`.
 *
 * @example
 * compileLike(attribute("subject"), "uploads/%", false).evaluate(scope);
 */
export function compileLike(
  operand: CompiledNode,
  pattern: string,
  negated: boolean,
): CompiledNode {
  const matches = compileLikePattern(pattern);
  const evaluateOperand = operand.evaluate;
  const evaluate = (scope: EvaluationScope): boolean => {
    const value = evaluateOperand(scope);
    if (scope.error !== undefined) return false;
    return matches(toText(value)) !== negated;
  };
  return { evaluate, type: "Boolean" };
}
