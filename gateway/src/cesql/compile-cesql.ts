import type { CloudEvent } from "../event/cloud-event.js";
import type { CesqlError } from "./cesql-error.js";
import type { CesqlValue } from "./cesql-value.js";
import { compileNode } from "./compile-node.js";
import type { EvaluationScope } from "./evaluation-scope.js";
import { parseCesql } from "./parse-cesql.js";

/**
 * The result of evaluating an expression: always a value (CESQL is total, 3.3) and, when
 * something went wrong, the first error (Herald evaluates in "fail fast mode", 4.1: an operator
 * whose operand failed returns its zero value).
 */
export interface CesqlResult {
  readonly value: CesqlValue;
  readonly error?: CesqlError;
}

/** A compiled CESQL expression. Evaluating it never parses again. */
export interface CesqlExpression {
  /** The expression as written. */
  readonly source: string;
  /** The value and the first error, if any, for one event. */
  evaluate(event: CloudEvent): CesqlResult;
  /**
   * The filter verdict (CESQL 1.2, Subscriptions API 3.2.4.1.2): the event passes only when the
   * value is the Boolean `true` and there was no error.
   */
  matches(event: CloudEvent): boolean;
}

/**
 * Parses and compiles a CESQL v1.0.0 expression once, into a tree of closures (no `eval` or
 * `new Function`, which Cloudflare Workers forbid). Throws `CesqlParseError` (a `TypeError` with
 * `position`) for an expression that does not parse or exceeds `CESQL_LIMITS`.
 *
 * Attributes are looked up by own property, with their JSON types mapped as `attributeValue`
 * describes (integer -> Integer, boolean -> Boolean, anything else -> String).
 *
 * @example
 * const big = compileCesql("subject LIKE 'uploads/%' AND INT(size) > 1000");
 * big.matches({ attributes: { specversion: "1.0", id: "1", source: "/s", type: "t", subject: "uploads/a", size: "2048" } }); // true
 * compileCesql("5 / 0").evaluate(event); // { value: 0, error: { kind: "math", message: "division by zero" } }
 */
export function compileCesql(expression: string): CesqlExpression {
  const { evaluate: run } = compileNode(parseCesql(expression));
  const evaluate = (event: CloudEvent): CesqlResult => {
    const scope: EvaluationScope = { attributes: event.attributes, error: undefined };
    const value = run(scope);
    return scope.error === undefined ? { value } : { value, error: scope.error };
  };
  return {
    source: expression,
    evaluate,
    matches: (event) => {
      const scope: EvaluationScope = { attributes: event.attributes, error: undefined };
      return run(scope) === true && scope.error === undefined;
    },
  };
}
