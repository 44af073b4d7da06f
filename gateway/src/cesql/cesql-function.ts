import type { CesqlError } from "./cesql-error.js";
import type { CesqlType, CesqlValue } from "./cesql-value.js";

/** A parameter's type; `Any` takes the argument as it is (the casting functions). */
export type ParameterType = CesqlType | "Any";

/**
 * A CESQL function (3.5): a name, fixed parameters, an optional variadic tail, and a return type.
 * The engine casts each argument to its parameter type (3.7) before `call`, which must always
 * return a value of `returns`, with an error when it could not do better (3.5.3).
 *
 * @example
 * const length: CesqlFunction = {
 *   name: "LENGTH", parameters: ["String"], returns: "Integer",
 *   call: ([x]) => ({ value: [...String(x)].length }),
 * };
 */
export interface CesqlFunction {
  /** Upper case: names are case-insensitive (section 2). */
  readonly name: string;
  readonly parameters: readonly ParameterType[];
  /** Present on a variadic function: the type of every argument after `parameters`. */
  readonly rest?: ParameterType;
  readonly returns: CesqlType;
  readonly call: (args: readonly CesqlValue[]) => FunctionResult;
}

/** What a function returns: always a value, and an error when something went wrong. */
export interface FunctionResult {
  readonly value: CesqlValue;
  readonly error?: CesqlError;
}

/**
 * Picks the overload for `argumentCount` arguments (3.5): the one with exactly that arity, else a
 * variadic one with at most that many fixed parameters. `undefined` means _MissingFunctionError_.
 *
 * @example
 * resolveFunction(BUILTIN_FUNCTIONS, "SUBSTRING", 3)?.parameters; // ["String", "Integer", "Integer"]
 * resolveFunction(BUILTIN_FUNCTIONS, "CONCAT_WS", 0); // undefined
 */
export function resolveFunction(
  functions: readonly CesqlFunction[],
  name: string,
  argumentCount: number,
): CesqlFunction | undefined {
  const named = functions.filter((fn) => fn.name === name);
  return (
    named.find((fn) => fn.rest === undefined && fn.parameters.length === argumentCount) ??
    named.find((fn) => fn.rest !== undefined && fn.parameters.length <= argumentCount)
  );
}
