import type { CesqlError } from "./cesql-error.js";
import type { CesqlFunction, FunctionResult } from "./cesql-function.js";
import { CESQL_LIMITS } from "./cesql-limits.js";
import type { CesqlValue } from "./cesql-value.js";
import { codePointCount, skipBackward, skipForward } from "./code-points.js";

/**
 * The built-in string functions (CESQL 3.5.1). "Characters" are Unicode code points, so an emoji
 * counts as one in LENGTH, LEFT, RIGHT and SUBSTRING.
 *
 * @example
 * STRING_FUNCTIONS.find((fn) => fn.name === "UPPER")?.call(["abc"]); // { value: "ABC" }
 */
export const STRING_FUNCTIONS: readonly CesqlFunction[] = [
  {
    name: "LENGTH",
    parameters: ["String"],
    returns: "Integer",
    call: ([x]) => ({ value: codePointCount(String(x)) }),
  },
  {
    name: "CONCAT",
    parameters: [],
    rest: "String",
    returns: "String",
    call: (args) => joined("CONCAT", args, ""),
  },
  {
    name: "CONCAT_WS",
    parameters: ["String"],
    rest: "String",
    returns: "String",
    call: ([delimiter, ...parts]) => joined("CONCAT_WS", parts, String(delimiter)),
  },
  {
    name: "LOWER",
    parameters: ["String"],
    returns: "String",
    call: ([x]) => ({ value: String(x).toLowerCase() }),
  },
  {
    name: "UPPER",
    parameters: ["String"],
    returns: "String",
    call: ([x]) => ({ value: String(x).toUpperCase() }),
  },
  {
    name: "TRIM",
    parameters: ["String"],
    returns: "String",
    call: ([x]) => ({ value: trim(String(x)) }),
  },
  {
    name: "LEFT",
    parameters: ["String", "Integer"],
    returns: "String",
    call: ([x, y]) => left(String(x), Number(y)),
  },
  {
    name: "RIGHT",
    parameters: ["String", "Integer"],
    returns: "String",
    call: ([x, y]) => right(String(x), Number(y)),
  },
  {
    name: "SUBSTRING",
    parameters: ["String", "Integer"],
    returns: "String",
    call: ([x, pos]) => substring(String(x), Number(pos), undefined),
  },
  {
    name: "SUBSTRING",
    parameters: ["String", "Integer", "Integer"],
    returns: "String",
    call: ([x, pos, len]) => substring(String(x), Number(pos), Number(len)),
  },
];

/**
 * CONCAT and CONCAT_WS: the parts joined, unless the result would pass
 * `CESQL_LIMITS.maxStringLength`; then "" and a FunctionEvaluationError (3.5.3: a function always
 * returns a value), measured before joining so nothing large is ever built.
 */
function joined(name: string, parts: readonly CesqlValue[], delimiter: string): FunctionResult {
  const strings = parts.map(String);
  let length = delimiter.length * Math.max(0, strings.length - 1);
  for (const part of strings) length += part.length;
  if (length > CESQL_LIMITS.maxStringLength) {
    return {
      value: "",
      error: evaluationError(
        `${name}: the result would be ${length} characters; the limit is ${CESQL_LIMITS.maxStringLength}`,
      ),
    };
  }
  return { value: strings.join(delimiter) };
}

/** LEFT(x, y): "Returns x if y < 0 and a FunctionEvaluationError." */
function left(x: string, y: number): FunctionResult {
  if (y < 0) return { value: x, error: evaluationError(`LEFT: length ${y} is negative`) };
  return { value: x.slice(0, skipForward(x, 0, y)) };
}

/** RIGHT(x, y): "Returns x if y < 0 and a FunctionEvaluationError." */
function right(x: string, y: number): FunctionResult {
  if (y < 0) return { value: x, error: evaluationError(`RIGHT: length ${y} is negative`) };
  return { value: x.slice(skipBackward(x, x.length, y)) };
}

/**
 * SUBSTRING(x, pos[, len]): `pos` counts from 1, or from the end when negative; `pos = 0` is the
 * empty string. "" and a FunctionEvaluationError when `pos > LENGTH(x) OR pos < -LENGTH(x)` or
 * `len` is negative.
 */
function substring(x: string, pos: number, len: number | undefined): FunctionResult {
  const length = codePointCount(x);
  if (pos > length || pos < -length) {
    return {
      value: "",
      error: evaluationError(`SUBSTRING: position ${pos} is outside a string of ${length}`),
    };
  }
  if (len !== undefined && len < 0) {
    return { value: "", error: evaluationError(`SUBSTRING: length ${len} is negative`) };
  }
  if (pos === 0) return { value: "" };
  const start = pos > 0 ? skipForward(x, 0, pos - 1) : skipBackward(x, x.length, -pos);
  const end = len === undefined ? x.length : skipForward(x, start, len);
  return { value: x.slice(start, end) };
}

// Unicode's White_Space property (PropList.txt), which TRIM removes (3.5.1). JavaScript's trim()
// differs: it also removes U+FEFF and keeps U+0085.
const WHITE_SPACE: ReadonlySet<number> = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
  0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

function trim(x: string): string {
  let start = 0;
  let end = x.length;
  // Every White_Space character is in the BMP: one UTF-16 unit each.
  while (start < end && WHITE_SPACE.has(x.charCodeAt(start))) start += 1;
  while (end > start && WHITE_SPACE.has(x.charCodeAt(end - 1))) end -= 1;
  return x.slice(start, end);
}

function evaluationError(message: string): CesqlError {
  return { kind: "functionEvaluation", message };
}
