/**
 * The error kinds every CESQL engine supports (CESQL 3.3), spelled as the TCK spells them.
 * `parse` errors are thrown at compile time as `CesqlParseError`; the others are evaluation
 * results.
 */
export type CesqlErrorKind =
  | "parse"
  | "math"
  | "cast"
  | "missingFunction"
  | "functionEvaluation"
  | "missingAttribute"
  | "generic";

/**
 * An error that happened while evaluating an expression. It is a value next to the result, not an
 * exception: CESQL is total, every operator still returns a value (3.3).
 *
 * @example
 * const error: CesqlError = { kind: "math", message: "division by zero" };
 */
export interface CesqlError {
  readonly kind: Exclude<CesqlErrorKind, "parse">;
  readonly message: string;
}
