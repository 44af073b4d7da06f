import type { ArithmeticOperator } from "./cesql-node.js";
import {
  type CompiledNode,
  castOperand,
  type EvaluationScope,
  report,
} from "./evaluation-scope.js";
import { clampInt32 } from "./int32.js";

/**
 * A left-associative chain of `+ - * / %` at one precedence level (3.4.2): `a - b + c` is
 * `(a - b) + c`. Operands are cast to Integer (3.7). `/` truncates towards 0 and `%` takes the
 * sign of the dividend; both return 0 and a _MathError_ for a zero divisor. A result outside the
 * 32-bit range is clamped into it with a _MathError_ (see `clampInt32`).
 *
 * @example
 * compileArithmetic([literal(5), literal(3)], ["/"]).evaluate(scope); // 1
 */
export function compileArithmetic(
  operands: readonly CompiledNode[],
  operators: readonly ArithmeticOperator[],
): CompiledNode {
  const evaluators = operands.map((operand) => operand.evaluate);
  const [first, ...rest] = evaluators;
  const evaluate = (scope: EvaluationScope): number | string | boolean => {
    let left = first!(scope);
    for (let index = 0; index < rest.length; index += 1) {
      if (scope.error !== undefined) return 0;
      const right = rest[index]!(scope);
      // An operand's error wins over the operator's own: `missing / 0` is a MissingAttributeError.
      if (scope.error !== undefined) return 0;
      const x = castOperand(scope, left, "Integer") as number;
      const y = castOperand(scope, right, "Integer") as number;
      left = calculate(scope, operators[index]!, x, y);
    }
    return left;
  };
  return { evaluate, type: "Integer" };
}

function calculate(
  scope: EvaluationScope,
  operator: ArithmeticOperator,
  x: number,
  y: number,
): number {
  if ((operator === "/" || operator === "%") && y === 0) {
    report(scope, "math", `${operator === "/" ? "division" : "modulo"} by zero`);
    return 0;
  }
  return checked(scope, apply(operator, x, y), `${x} ${operator} ${y}`);
}

function apply(operator: ArithmeticOperator, x: number, y: number): number {
  switch (operator) {
    case "+":
      return x + y;
    case "-":
      return x - y;
    case "*":
      // Exact below 2^53; beyond that only its size matters, and it is out of range anyway.
      return x * y;
    case "/":
      return Math.trunc(x / y);
    case "%":
      return x % y;
  }
}

/**
 * The 32-bit result of an exact value; a _MathError_ when it overflowed.
 *
 * @example
 * checked(scope, 2 ** 31, "2147483647 + 1"); // 2147483647, and a MathError
 */
export function checked(scope: EvaluationScope, exact: number, what: string): number {
  const { value, overflowed } = clampInt32(exact);
  if (overflowed) report(scope, "math", `${what} overflows a 32-bit integer`);
  return value;
}
