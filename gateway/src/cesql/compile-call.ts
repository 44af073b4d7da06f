import type { CesqlFunction } from "./cesql-function.js";
import type { CesqlValue } from "./cesql-value.js";
import { ZERO } from "./cesql-value.js";
import {
  type CompiledNode,
  castOperand,
  type EvaluationScope,
  report,
} from "./evaluation-scope.js";

/**
 * A function invocation (2.4, 3.5) whose overload was resolved at compile time. Arguments are
 * evaluated left to right; an argument's error returns the function's zero value. Then each is
 * cast to its parameter type (3.7; `Any` takes it as it is) and the function runs.
 *
 * @example
 * compileCall(upper, [literal("abc")]).evaluate(scope); // "ABC"
 */
export function compileCall(fn: CesqlFunction, args: readonly CompiledNode[]): CompiledNode {
  const evaluators = args.map((arg) => arg.evaluate);
  const types = evaluators.map((_, index) => fn.parameters[index] ?? fn.rest ?? "Any");
  const zero = ZERO[fn.returns];
  const evaluate = (scope: EvaluationScope): CesqlValue => {
    const values: CesqlValue[] = [];
    for (const evaluateArg of evaluators) {
      const value = evaluateArg(scope);
      if (scope.error !== undefined) return zero;
      values.push(value);
    }
    for (let index = 0; index < values.length; index += 1) {
      const type = types[index]!;
      if (type !== "Any") values[index] = castOperand(scope, values[index]!, type);
    }
    const result = fn.call(values);
    if (result.error !== undefined) report(scope, result.error.kind, result.error.message);
    return result.value;
  };
  return { evaluate, type: fn.returns };
}

/**
 * A call no function matches by name and arity (3.5): always `false` with a
 * _MissingFunctionError_. Its arguments are not evaluated.
 *
 * @example
 * missingFunction("CONCAT_WS", 0).evaluate(scope); // false
 */
export function missingFunction(name: string, arity: number): CompiledNode {
  const message = `no function ${name} taking ${arity} argument${arity === 1 ? "" : "s"}`;
  return {
    evaluate: (scope) => {
      report(scope, "missingFunction", message);
      return false;
    },
    type: "Boolean",
  };
}
