import type { CesqlType, CesqlValue } from "./cesql-value.js";
import { parseInt32 } from "./int32.js";

/** A cast result: the value, and a message when the cast failed (3.7: value is then the zero). */
export interface CastResult<T extends CesqlValue> {
  readonly value: T;
  readonly failure?: string;
}

/**
 * `x -> Integer` (3.7): Boolean is 1/0, a String is read as a base-10 32-bit integer with an
 * optional sign; anything else fails with the value 0.
 *
 * @example
 * toInteger("-12"); // { value: -12 }
 * toInteger("1.5"); // { value: 0, failure: "cannot cast \"1.5\" to Integer" }
 */
export function toInteger(value: CesqlValue): CastResult<number> {
  if (typeof value === "number") return { value };
  if (typeof value === "boolean") return { value: value ? 1 : 0 };
  const parsed = parseInt32(value);
  return parsed === undefined
    ? { value: 0, failure: `cannot cast ${quote(value)} to Integer` }
    : { value: parsed };
}

/**
 * `x -> String` (3.7): integers in base 10 without leading zeros, booleans as `"true"`/`"false"`.
 *
 * @example
 * toText(-5); // "-5"
 * toText(true); // "true"
 */
export function toText(value: CesqlValue): string {
  return typeof value === "string" ? value : String(value);
}

/**
 * `x -> Boolean`. A String is `true`/`false` when its lower case is exactly "true"/"false" (3.7).
 * An Integer is `x != 0` in an explicit cast (`BOOL(x)`, 3.7's table); in an implicit cast it is a
 * _CastError_ with the value `false`, as the TCK expects for `NOT 10` (not_operator.yaml: result
 * `true`, error `cast`).
 *
 * @example
 * toBoolean("TRUE", "implicit"); // { value: true }
 * toBoolean(10, "explicit"); // { value: true }
 * toBoolean(10, "implicit"); // { value: false, failure: "cannot implicitly cast Integer 10 to Boolean" }
 */
export function toBoolean(value: CesqlValue, mode: "explicit" | "implicit"): CastResult<boolean> {
  if (typeof value === "boolean") return { value };
  if (typeof value === "number") {
    return mode === "explicit"
      ? { value: value !== 0 }
      : { value: false, failure: `cannot implicitly cast Integer ${value} to Boolean` };
  }
  const lower = value.toLowerCase();
  if (lower === "true") return { value: true };
  if (lower === "false") return { value: false };
  return { value: false, failure: `cannot cast ${quote(value)} to Boolean` };
}

/**
 * Implicit cast to a type (3.7), as operators and functions do with their operands.
 *
 * @example
 * castTo("5", "Integer"); // { value: 5 }
 */
export function castTo(value: CesqlValue, type: CesqlType): CastResult<CesqlValue> {
  switch (type) {
    case "Integer":
      return toInteger(value);
    case "Boolean":
      return toBoolean(value, "implicit");
    case "String":
      return { value: toText(value) };
  }
}

/** A string for messages: JSON-quoted, cut short so a huge attribute does not flood a log. */
function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
