import type { CesqlFunction } from "./cesql-function.js";
import { INT32_MAX, INT32_MIN } from "./int32.js";

/**
 * The built-in math functions (CESQL 3.5.2).
 *
 * @example
 * INTEGER_FUNCTIONS[0]?.call([-10]); // { value: 10 }
 */
export const INTEGER_FUNCTIONS: readonly CesqlFunction[] = [
  {
    name: "ABS",
    parameters: ["Integer"],
    returns: "Integer",
    call: ([x]) =>
      // 3.5.2: ABS(-2147483648) "returns 2147483647 as well as a MathError".
      x === INT32_MIN
        ? { value: INT32_MAX, error: { kind: "math", message: "ABS(-2147483648) overflows" } }
        : { value: Math.abs(Number(x)) },
  },
];
