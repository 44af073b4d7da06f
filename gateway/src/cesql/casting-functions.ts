import { toBoolean, toInteger, toText } from "./cast.js";
import type { CesqlFunction, FunctionResult } from "./cesql-function.js";

/**
 * The explicit casts `INT(x)`, `BOOL(x)` and `STRING(x)`, with the semantics of CESQL 3.7's table.
 * 3.5 does not list them, but 3.7 refers to "the same semantics of `INT`"/`STRING` and the TCK
 * (casting_functions.yaml) calls all three. A failed cast is a _CastError_ with the zero value.
 * `IS_BOOL`/`IS_INT` are not in CESQL v1.0.0 (the TCK dropped them), so they are missing functions;
 * `staticProblem` names the cast that replaces each in a filter.
 *
 * @example
 * CASTING_FUNCTIONS[0]?.call(["42"]); // { value: 42 }
 */
export const CASTING_FUNCTIONS: readonly CesqlFunction[] = [
  {
    name: "INT",
    parameters: ["Any"],
    returns: "Integer",
    call: ([x = 0]) => castResult(toInteger(x)),
  },
  {
    name: "BOOL",
    parameters: ["Any"],
    returns: "Boolean",
    call: ([x = false]) => castResult(toBoolean(x, "explicit")),
  },
  {
    name: "STRING",
    parameters: ["Any"],
    returns: "String",
    call: ([x = ""]) => ({ value: toText(x) }),
  },
];

function castResult(result: { value: number | boolean; failure?: string }): FunctionResult {
  return result.failure === undefined
    ? { value: result.value }
    : { value: result.value, error: { kind: "cast", message: result.failure } };
}
