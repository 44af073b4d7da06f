import { CASTING_FUNCTIONS } from "./casting-functions.js";
import type { CesqlFunction } from "./cesql-function.js";
import { INTEGER_FUNCTIONS } from "./integer-functions.js";
import { STRING_FUNCTIONS } from "./string-functions.js";

/**
 * Every function a Herald CESQL expression can call: the built-ins every engine MUST implement
 * (3.5.1, 3.5.2) and the casting functions (3.7). Herald has no user-defined functions.
 *
 * @example
 * BUILTIN_FUNCTIONS.map((fn) => fn.name); // ["LENGTH", "CONCAT", ..., "ABS", "INT", "BOOL", "STRING"]
 */
export const BUILTIN_FUNCTIONS: readonly CesqlFunction[] = [
  ...STRING_FUNCTIONS,
  ...INTEGER_FUNCTIONS,
  ...CASTING_FUNCTIONS,
];
