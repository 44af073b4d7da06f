import type { AttributeValue } from "../event/cloud-event.js";
import { castTo } from "./cast.js";
import type { CesqlError } from "./cesql-error.js";
import type { CesqlType, CesqlValue } from "./cesql-value.js";

/**
 * One evaluation's state: the event's attributes, and the first error so far. Compiled nodes
 * write errors here instead of allocating a result object per node, so matching an event
 * allocates nothing on the happy path.
 *
 * Error semantics (3.3, 4.1 "fail fast"): a node is only ever run with `error` unset. When a node
 * it runs (an operand, an argument) sets `error`, it stops and returns the zero value of its own
 * return type. Its *own* error (a cast, a division by zero, a function's error) does not stop it:
 * it carries on with the value CESQL prescribes (e.g. `NOT 10` is `true` with a _CastError_, the
 * cast having given `false`), and its parent then sees it as an operand's error.
 */
export interface EvaluationScope {
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  error: CesqlError | undefined;
  /**
   * Values of the function calls an expression makes more than once, by slot (see `compileNode`),
   * filled on first use during this evaluation only. Absent until such a call runs.
   */
  memo?: CesqlValue[];
}

/** A compiled node: runs against a scope and returns its value. */
export type Evaluator = (scope: EvaluationScope) => CesqlValue;

/**
 * A compiled node and its static return type, whose zero value it returns on an operand's error.
 * An attribute's type is unknown until run time; it counts as Boolean (3.2: "In cases where the
 * return type ... cannot be determined ... MUST assume a return type of Boolean").
 */
export interface CompiledNode {
  readonly evaluate: Evaluator;
  readonly type: CesqlType;
}

/**
 * Records an error unless one is already recorded: the first error is the one reported.
 *
 * @example
 * report(scope, "math", "division by zero");
 */
export function report(scope: EvaluationScope, kind: CesqlError["kind"], message: string): void {
  scope.error ??= { kind, message };
}

/**
 * An implicit cast (3.7) of an operand; a failure is recorded as a _CastError_ and the cast's
 * value (the zero value) is used.
 *
 * @example
 * const n = castOperand(scope, "5", "Integer") as number; // 5
 */
export function castOperand(
  scope: EvaluationScope,
  value: CesqlValue,
  type: CesqlType,
): CesqlValue {
  const result = castTo(value, type);
  if (result.failure !== undefined) report(scope, "cast", result.failure);
  return result.value;
}
